# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Overlay build: checkpoint -> QONNX -> HW graph -> folding -> estimates -> verification ->
HLS project -> csim -> (Vitis HLS -> Vivado) -> package ``overlays/<model>/``.

Steps (``STEP_ORDER``): ``load, export, compile, fold, estimate, verify, hls, csim, synth,
bitstream, package``. Each step's outputs live in a work folder (default
``<out>/../.<name>.work/<step>/``) with a stamp holding the hash of its inputs (its config
fields, the previous step's stamp, the pynq_bnn compiler sources and templates): a step whose hash
did not change is not redone. ``start``/``stop`` restrict the steps (earlier ones must be cached).

Safety: ``verify`` (Brevitas == numpy dataflow, top-1 of every image) and ``csim`` (HLS C++ ==
numpy) raise :class:`~pynq_bnn.compiler.build_steps.VerificationFailed` and the build packages
nothing. ``package`` writes to a temporary folder beside ``out`` and renames it at the end, so an
interrupted build never leaves a half-written package. Without Xilinx tools the build packages
the csim-verified overlay (no ``.bit``) and says how to get the tools.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pynq_bnn.compiler.build_data import check_build_data
from pynq_bnn.compiler.build_steps import STEPS, VerificationFailed, file_sha256

__all__ = ["BuildConfig", "BuildResult", "BuildError", "STEP_ORDER", "build_overlay",
           "VerificationFailed"]

log = logging.getLogger(__name__)
STEP_ORDER = ("load", "export", "compile", "fold", "estimate", "verify", "hls", "csim", "synth",
              "bitstream", "package")
# Config fields that change each step's result (the previous step's hash is always included).
STEP_INPUTS = {
    "load": ("model", "checkpoint"), "export": (), "compile": (), "fold": (
        "board", "target_fps", "folding_file", "clock_mhz"),
    "estimate": ("board", "clock_mhz"), "verify": ("verify_images", "data_dir"),
    "hls": ("board", "clock_mhz", "jobs"), "csim": ("csim_images", "data_dir"),
    "synth": (), "bitstream": (), "package": (),
}
REPO_ROOT = Path(__file__).resolve().parents[2]


class BuildError(RuntimeError):
    """The build configuration is invalid or a step failed (message names the step)."""


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build depends on (validated up front by :meth:`validate`)."""

    model: str
    checkpoint: str | None = None
    board: str = "pynq-z2"
    target_fps: float | None = None
    folding_file: str | None = None
    clock_mhz: float = 100.0
    out: str | None = None
    start: str | None = None
    stop: str | None = None
    verify_images: int = 1000
    csim_images: int = 1000
    data_dir: str | None = None
    work_dir: str | None = None
    jobs: int = 4
    progress_bars: bool = False
    synth_timeout_s: float = 4 * 3600.0
    vivado_timeout_s: float = 8 * 3600.0

    def validate(self) -> "BuildConfig":
        from pynq_bnn.compiler.boards import get_board

        get_board(self.board)
        if self.target_fps is not None and self.folding_file:
            raise BuildError("give either --target-fps or --folding, not both")
        if self.folding_file and not Path(self.folding_file).is_file():
            raise BuildError(f"folding file {self.folding_file} not found")
        if self.clock_mhz <= 0 or (self.target_fps is not None and self.target_fps <= 0):
            raise BuildError("--clock-mhz and --target-fps must be positive")
        if self.verify_images < 1 or self.csim_images < 1:
            raise BuildError("--verify-images and --csim-images must be at least 1")
        for name in (self.start, self.stop):
            if name is not None and name not in STEP_ORDER:
                raise BuildError(f"unknown step {name!r}; steps: {', '.join(STEP_ORDER)}")
        if self.start and self.stop and STEP_ORDER.index(self.start) > STEP_ORDER.index(self.stop):
            raise BuildError(f"--start {self.start} comes after --stop {self.stop}")
        return self

    @property
    def out_dir(self) -> Path:
        return Path(self.out or REPO_ROOT / "overlays" / self.model).resolve()

    @property
    def work(self) -> Path:
        out = self.out_dir
        return Path(self.work_dir).resolve() if self.work_dir else out.parent / f".{out.name}.work"


@dataclass
class BuildResult:
    """What a build did: per-step summaries and times, the package path (None if not packaged)."""

    package: Path | None
    steps: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    cached: list = field(default_factory=list)
    message: str = ""


def _source_hash() -> str:
    """Hash of the compiler sources and templates (code changes invalidate cached steps)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".hpp", ".h", ".tpl", ".cpp"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class _Context:
    def __init__(self, config: BuildConfig):
        self.config = config
        self.work = config.work
        self.cache: dict = {}
        self.stop_message = ""
        self._tools = None

    def step_dir(self, name: str) -> Path:
        path = self.work / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def toolchain(self):
        from pynq_bnn.compiler.toolchain import detect

        if self._tools is None:
            self._tools = detect()
        return self._tools

    def stop_after(self, message: str) -> None:
        """Record why the build ends early (logged once, however many steps say it)."""
        if message != self.stop_message:
            log.warning(message)
        self.stop_message = message


def _step_key(config: BuildConfig, step: str, previous: str, sources: str) -> str:
    values = {name: getattr(config, name) for name in STEP_INPUTS[step]}
    if step == "load":
        from pynq_bnn.checkpoint import resolve_checkpoint

        path = Path(resolve_checkpoint(config.checkpoint or config.model))
        values["sha256"] = file_sha256(path) if path.is_file() else str(path)
    if step == "fold" and config.folding_file:
        values["folding_sha256"] = file_sha256(config.folding_file)
    blob = json.dumps({"step": step, "prev": previous, "src": sources, "cfg": values},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _stamp(work: Path, step: str) -> dict | None:
    path = work / f".{step}.stamp.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def build_overlay(config: BuildConfig, progress=None) -> BuildResult:
    """Run the build; ``progress(step, status, seconds)`` is called around each step.

    Raises:
        BuildError: bad configuration or a failing step (chained to the original error).
        VerificationFailed: an equivalence check failed; nothing was packaged.
    """
    config.validate()
    check_build_data(config)  # a missing/corrupt data folder fails now, not after compile
    ctx = _Context(config)
    ctx.work.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(ctx.work / "build.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("pynq_bnn").addHandler(handler)
    logging.getLogger("pynq_bnn").setLevel(logging.INFO)
    result = BuildResult(package=None)
    first = STEP_ORDER.index(config.start) if config.start else 0
    last = STEP_ORDER.index(config.stop) if config.stop else len(STEP_ORDER) - 1
    sources, previous = _source_hash(), ""
    try:
        for index, step in enumerate(STEP_ORDER[:last + 1]):
            key = _step_key(config, step, previous, sources)
            stamp = _stamp(ctx.work, step)
            if step == "package":
                _notify(progress, step, "running", 0.0)
                t0 = time.monotonic()
                result.package = _package(ctx, result)
                result.times[step] = round(time.monotonic() - t0, 3)
                _notify(progress, step, "done", result.times[step])
                break
            if stamp and stamp.get("key") == key:
                result.steps[step] = stamp.get("summary", {})
                result.cached.append(step)
                _notify(progress, step, "cached", 0.0)
            elif index < first:
                raise BuildError(f"--start {config.start}: step {step!r} has no valid cached "
                                 f"result in {ctx.work}; run it first")
            else:
                _notify(progress, step, "running", 0.0)
                t0 = time.monotonic()
                try:
                    summary = STEPS[step](ctx)
                except VerificationFailed:
                    raise
                except Exception as exc:
                    raise BuildError(f"step {step!r} failed: {exc}") from exc
                result.times[step] = round(time.monotonic() - t0, 3)
                result.steps[step] = summary
                if not summary.get("skipped"):  # a step skipped for lack of tools is redone
                    (ctx.work / f".{step}.stamp.json").write_text(
                        json.dumps({"key": key, "summary": summary}, default=str))
                _notify(progress, step, f"skipped: {summary['skipped']}" if summary.get("skipped")
                        else "done", result.times[step])
            previous = key
            result.message = ctx.stop_message or result.message
    finally:
        logging.getLogger("pynq_bnn").removeHandler(handler)
        handler.close()
    return result


def _notify(progress, step, status, seconds) -> None:
    log.info("step %-9s %s%s", step, status, f" ({seconds:.1f} s)" if seconds else "")
    if progress is not None:
        progress(step, status, seconds)


def _package(ctx: _Context, result: BuildResult) -> Path:
    """Assemble ``overlays/<model>/`` in a temp folder beside it, then rename."""
    from pynq_bnn.compiler import load_graph
    from pynq_bnn.compiler.package_contents import write_contents
    from pynq_bnn.driver.package import make_package

    cfg = ctx.config
    for needed in ("verify", "csim"):
        if needed not in result.steps:
            raise BuildError(f"cannot package: step {needed!r} did not run in this build")
    out = cfg.out_dir
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.pkg-", dir=out.parent))
    try:
        graph = load_graph(ctx.work / "fold")
        files = {"graph": "graph.json", "params": "params.npz"}
        vivado = ctx.work / "hls" / "vivado"
        for role, ext in (("bitstream", "bit"), ("hwh", "hwh")):
            if (vivado / f"{cfg.model}.{ext}").is_file():
                shutil.copy2(vivado / f"{cfg.model}.{ext}", tmp / f"{cfg.model}.{ext}")
                files[role] = f"{cfg.model}.{ext}"
        classes = _classes(ctx)
        make_package(graph, tmp, classes=classes, model=cfg.model, board=cfg.board,
                     clock_mhz=cfg.clock_mhz, files=files)
        spec_path = tmp / "accelerator.json"
        spec = json.loads(spec_path.read_text())
        spec["ip_control"] = "ap_ctrl_hs"  # bnn_top: ap_ctrl_hs + num_images (CONTRACT.md §2)
        spec_path.write_text(json.dumps(spec, indent=2) + "\n")
        # report.json (+ summary), portable paths, 0644/0755; HLS/Vivado projects stay in work/
        write_contents(tmp, cfg, result, ctx.work)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("overlay package written to %s", out)
    return out


def _classes(ctx: _Context) -> list:
    from pynq_bnn.data import load_dataset

    from pynq_bnn.compiler.build_steps import _model

    try:
        dataset = _model(ctx).config.get("dataset")
        return list(load_dataset(dataset, "test", ctx.config.data_dir).classes)
    except Exception as exc:  # classes are names only; fall back to indices
        log.warning("class names unavailable (%s); using indices", exc)
        return [str(i) for i in range(10)]
