# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Fixtures of the reliability suite: a tiny LFC checkpoint, a finished build to copy, the CLIs
called in-process, and a fork-based ``kill -9`` at a chosen point of a build.

The builds use a tiny LFC (two hidden layers of 32) and few images; the csim step is replaced by
a stub (the g++ compile of the testbench alone takes ~10 s): these tests check how the build
writes, caches and recovers, not the C++ (``tests/build`` and ``tests/compiler/hls`` do that).
"""
import importlib.util
import os
import shutil
import signal
from pathlib import Path

import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.checkpoint import save_checkpoint

REPO = Path(__file__).resolve().parents[2]


def fake_csim(ctx) -> dict:
    """Stand-in for the csim step (same summary keys, no g++)."""
    return {"images": int(ctx.config.csim_images), "mismatches": 0, "passed": True,
            "stub": True}


def _isolate(mp) -> None:
    """No Xilinx tools, a pinned source hash (other edits must not invalidate caches mid-test),
    the csim stub."""
    from pynq_bnn.compiler import build_steps

    mp.setenv("PATH", "/usr/bin:/bin")
    for var in ("XILINX_VITIS", "XILINX_HLS", "XILINX_VIVADO"):
        mp.delenv(var, raising=False)
    mp.setattr("pynq_bnn.compiler.build._source_hash", lambda: "pinned")
    mp.setitem(build_steps.STEPS, "csim", fake_csim)


@pytest.fixture(autouse=True)
def _isolated_build(monkeypatch):
    import logging

    _isolate(monkeypatch)
    # A CLI called in-process by an earlier test may have left a root handler on that test's
    # (now closed) captured stderr; each CLI here configures logging afresh.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])


def tiny_lfc(seed: int = 0):
    torch.manual_seed(seed)
    model = zoo.build("lfc", hidden=(32, 32)).eval()
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.uniform_(-4, 4)
            mod.running_var.uniform_(0.5, 3)
            mod.weight.data.uniform_(-1, 1)
    return model


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "lfc.pt", tiny_lfc(), metrics={},
                           epoch=0)


@pytest.fixture(scope="session")
def tiny_compact(tmp_path_factory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "lfc_compact.pt", tiny_lfc(),
                           metrics={}, epoch=0, compact=True)


def build_config(ckpt, out, data_dir, **overrides):
    from pynq_bnn.compiler.build import BuildConfig

    options = dict(model="lfc", checkpoint=str(ckpt), out=str(out), verify_images=16,
                   csim_images=8, data_dir=str(data_dir), target_fps=20000)
    options.update(overrides)
    return BuildConfig(**options)


@pytest.fixture(scope="session")
def golden(tmp_path_factory, tiny_ckpt, data_dir):
    """A finished build (package + work folder) made once per session, to be copied."""
    from pynq_bnn.compiler.build import build_overlay

    root = tmp_path_factory.mktemp("golden")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp)
        build_overlay(build_config(tiny_ckpt, root / "overlays" / "lfc", data_dir))
    return root / "overlays"


@pytest.fixture
def overlays(golden, tmp_path) -> Path:
    """A private copy of the golden ``overlays/`` folder (package ``lfc`` + ``.lfc.work``)."""
    dst = tmp_path / "overlays"
    shutil.copytree(golden, dst, symlinks=True)
    return dst


def tree_state(folder: Path) -> dict:
    """``{relative path: bytes}`` of every file (to compare a package before and after)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list:
    """Temporary files/folders of killed or failed runs (none must remain)."""
    return sorted(p.name for p in folder.iterdir()
                  if ".pkg-" in p.name or ".old-" in p.name or p.name.endswith(".tmp")
                  or p.name.endswith(".lock") or ".partial" in p.name)


def load_build_cli():
    spec = importlib.util.spec_from_file_location("build_overlay_cli",
                                                  REPO / "build" / "build_overlay.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_cli():
    return load_build_cli()


def call(main, argv) -> int:
    """A CLI ``main(argv)``'s exit status (argparse errors exit via ``SystemExit``)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def assert_clear_error(rc, err: str, *, code: int = 2, match: str = None) -> None:
    """Exit ``code``, and stderr's last line is one ``error: ...`` (``build failed: ...``) line,
    with no traceback."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert rc == code, (rc, err)
    assert "Traceback" not in err, err
    assert lines, "no error message"
    assert "error" in lines[-1].lower() or "failed" in lines[-1].lower(), err
    if match is not None:
        assert match.lower() in lines[-1].lower(), (match, lines[-1])


def run_killed(action, kill_at) -> None:
    """Run ``action()`` in a forked child that ``kill -9``s itself when ``kill_at`` (a callable
    installing the trigger in the child) fires; assert it died by SIGKILL."""
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 0
        try:
            kill_at()
            action()
            code = 3  # the trigger never fired
        except BaseException:  # noqa: BLE001 - report anything as a distinct exit code
            code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
        f"child did not die at the injection point (status {status})"


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)
