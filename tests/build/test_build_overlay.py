# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The overlay build end to end on a tiny LFC (no Xilinx tools): package, caching, refusal.

Marked slow: one build exports, compiles, verifies on real MNIST images and compiles the csim.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.checkpoint import save_checkpoint
from pynq_bnn.compiler.build import BuildConfig, BuildError, build_overlay
from pynq_bnn.compiler.build_steps import VerificationFailed

REPO = Path(__file__).resolve().parents[2]


def _tiny_lfc_checkpoint(path: Path) -> Path:
    torch.manual_seed(0)
    model = zoo.build("lfc", hidden=(32, 32)).eval()
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm1d):  # non-trivial thresholds
            mod.running_mean.uniform_(-4, 4)
            mod.running_var.uniform_(0.5, 3)
            mod.weight.data.uniform_(-1, 1)
    return save_checkpoint(path, model, metrics={}, epoch=0)


@pytest.fixture
def tiny_config(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no Xilinx tools, whatever the host has
    for var in ("XILINX_VITIS", "XILINX_HLS", "XILINX_VIVADO"):
        monkeypatch.delenv(var, raising=False)
    # Other edits of the compiler sources would invalidate the step cache mid-test: pin the hash.
    monkeypatch.setattr("pynq_bnn.compiler.build._source_hash", lambda: "pinned")
    ckpt = _tiny_lfc_checkpoint(tmp_path / "lfc.pt")
    return BuildConfig(model="lfc", checkpoint=str(ckpt), out=str(tmp_path / "overlays" / "lfc"),
                       verify_images=64, csim_images=16, data_dir=str(data_dir),
                       target_fps=20000)


@pytest.mark.slow
def test_build_packages_verified_overlay_and_caches(tiny_config):
    seen = []
    result = build_overlay(tiny_config, progress=lambda s, st, t: seen.append((s, st)))
    out = Path(tiny_config.out)
    assert result.package == out
    assert "Vitis HLS/Vivado not found" in result.message
    assert ("synth", "skipped: Vitis HLS not found") in seen and ("synth", "done") not in seen
    for name in ("accelerator.json", "graph.json", "params.npz", "report.json", "summary.txt",
                 "layers.png"):
        assert (out / name).is_file(), name
    assert not (out / "lfc.bit").exists()
    # HLS / Vivado projects stay in the work folder (generated on demand, never packaged)
    assert not (out / "hls").exists() and not (out / "vivado").exists()
    work = Path(tiny_config.work)
    assert (work / "hls" / "hls" / "src" / "bnn_top.cpp").is_file()
    # readable by every user, no path of this machine in any file
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o644"}
    assert out.stat().st_mode & 0o777 == 0o755
    for path in out.iterdir():
        if path.suffix in (".json", ".txt"):
            text = path.read_text()
            assert str(tmp_root(tiny_config)) not in text and str(REPO) not in text, path.name
    summary = (out / "summary.txt").read_text()
    assert "64/64 images identical" in summary and "16/16 images identical" in summary
    assert "skipped: no Vitis HLS" in summary and "--start synth" in summary
    from pynq_bnn.driver.spec import load_spec

    spec = load_spec(out)
    assert spec.input.words_per_image == 98 and spec.ip_control == "ap_ctrl_hs"
    report = json.loads((out / "report.json").read_text())
    assert report["steps"]["verify"]["mismatches"] == 0
    assert report["steps"]["verify"]["images"] == 64
    assert report["steps"]["csim"]["passed"] and report["steps"]["csim"]["images"] == 16
    assert report["steps"]["estimate"]  # folding/cycles/resources recorded
    # Second run: every step up to csim comes from the cache.
    again = build_overlay(tiny_config)
    assert {"load", "export", "compile", "fold", "verify", "hls", "csim"} <= set(again.cached)
    # ... but the synthesis steps skipped for lack of tools are tried again, and say so again
    assert "synth" not in again.cached and "Vitis HLS/Vivado not found" in again.message
    # A changed csim image count reruns only from csim on.
    more = build_overlay(BuildConfig(**{**tiny_config.__dict__, "csim_images": 8}))
    assert "csim" not in more.cached and "hls" in more.cached
    print({step: result.times.get(step) for step in result.times})


def tmp_root(config) -> Path:
    return Path(config.out).parents[1]


@pytest.mark.slow
def test_stop_hls_writes_the_projects_to_the_work_folder_only(tiny_config):
    result = build_overlay(BuildConfig(**{**tiny_config.__dict__, "stop": "hls"}))
    assert result.package is None and not Path(tiny_config.out).exists()
    project = Path(tiny_config.work) / "hls"
    assert (project / "hls" / "src" / "bnn_top.cpp").is_file()
    assert (project / "vivado" / "vivado.tcl").is_file()


@pytest.mark.slow
def test_failed_verification_packages_nothing(tiny_config, monkeypatch):
    import pynq_bnn.compiler as compiler

    real = compiler.execute
    monkeypatch.setattr(compiler, "execute", lambda g, x, **k: (real(g, x, **k) + 1) % 10)
    with pytest.raises(VerificationFailed, match="differs from Brevitas"):
        build_overlay(tiny_config)
    overlays = Path(tiny_config.out).parent
    assert not overlays.exists() or list(overlays.iterdir()) == [] or \
        all(p.name.startswith(".lfc.work") for p in overlays.iterdir())


def test_config_is_validated_up_front(tmp_path):
    with pytest.raises(BuildError, match="either --target-fps or --folding"):
        BuildConfig(model="lfc", target_fps=10, folding_file=str(tmp_path / "f.json")).validate()
    with pytest.raises(BuildError, match="unknown step"):
        BuildConfig(model="lfc", stop="bogus").validate()
    with pytest.raises(BuildError, match="comes after"):
        BuildConfig(model="lfc", start="csim", stop="fold").validate()


@pytest.mark.slow
def test_cli_help_lists_steps():
    proc = subprocess.run([sys.executable, str(REPO / "build" / "build_overlay.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--verify-images" in proc.stdout and "csim" in proc.stdout


def test_board_defaults_to_the_presets_own():
    """fracbnn does not fit a Pynq-Z2 under the calibrated area model: it builds for Ultra96-V2
    (the FracBNN paper's board) unless --board says otherwise; every other preset for Pynq-Z2."""
    from pynq_bnn.compiler.build import BuildConfig
    from pynq_bnn.zoo import list_presets

    boards = {name: BuildConfig(model=name).board for name in list_presets()}
    assert boards.pop("fracbnn") == "ultra96-v2"
    assert set(boards.values()) == {"pynq-z2"}
    assert BuildConfig(model="fracbnn", board="pynq-z1").board == "pynq-z1"
