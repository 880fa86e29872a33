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

Reliability (:mod:`pynq_bnn.compiler.package_io`): every option, the output folders, the
checkpoint (it must hold ``--model``) and the dataset are checked before the first step; the
build only replaces folders it owns (marker files), holds a lock on ``out`` for its whole run,
repairs what a killed build left behind, and a step's stamp is written only after its outputs are
complete, with their sha256 — a cached step is reused only if its files still match.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from pynq_bnn.compiler import package_io
from pynq_bnn.compiler.build_data import check_build_data
from pynq_bnn.compiler.build_steps import STEPS, VerificationFailed, file_sha256
from pynq_bnn.utils.atomic import atomic_write_json
from pynq_bnn.utils.fsutil import LockedError, tree_digest
from pynq_bnn.utils.validate import InputError, check_choice, check_float, check_int

__all__ = ["BuildConfig", "BuildResult", "BuildError", "BuildInputError", "STEP_ORDER",
           "build_overlay", "VerificationFailed"]

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
# Folder (under the work folder) whose files a step's stamp records; steps not listed keep no
# files the later steps read (their summary is their result).
STEP_OUTPUTS = {"load": "load", "export": "export", "compile": "compile", "fold": "fold",
                "estimate": "estimate", "hls": "hls"}
REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_CLOCK_MHZ = 800.0  # above the fabric limit of every supported Zynq / Zynq UltraScale+ part
MAX_TARGET_FPS = 1e9
MAX_IMAGES = 1_000_000
MAX_JOBS = 256


class BuildError(RuntimeError):
    """The build configuration is invalid or a step failed (message names the step)."""


def default_board(model: str) -> str:
    """The board a preset is built for when ``--board`` is not given (``pynq-z2`` otherwise)."""
    from pynq_bnn.zoo import get_preset

    try:
        return get_preset(model).board
    except KeyError:  # not a preset: validate() names the model's problem
        return "pynq-z2"


class BuildInputError(BuildError, InputError):
    """A user error found before any step ran: bad option, output folder, checkpoint or data
    (the CLI prints it as one line and exits with status 2)."""


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build depends on (validated up front by :meth:`validate`)."""

    model: str
    checkpoint: str | None = None
    board: str | None = None  # None: the preset's board (pynq-z2; fracbnn: ultra96-v2)
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

    def __post_init__(self):
        if self.board is None:
            object.__setattr__(self, "board", default_board(self.model))

    def validate(self) -> "BuildConfig":
        """Check every field (names, ranges, files); raise :class:`BuildInputError`."""
        try:
            self._validate()
        except BuildInputError:
            raise
        except (BuildError, InputError, KeyError) as err:
            raise BuildInputError(str(err)) from None
        return self

    def _validate(self) -> None:
        from pynq_bnn import zoo
        from pynq_bnn.compiler.boards import BOARDS, get_board
        from pynq_bnn.utils.validate import unknown_name_error

        check_choice(self.model, zoo.list_presets(), "model")
        try:
            get_board(self.board)
        except (KeyError, TypeError):
            raise unknown_name_error("board", self.board, BOARDS) from None
        if self.target_fps is not None and self.folding_file:
            raise BuildError("give either --target-fps or --folding, not both")
        check_float(self.clock_mhz, "--clock-mhz", positive=True, maximum=MAX_CLOCK_MHZ)
        if self.target_fps is not None:
            check_float(self.target_fps, "--target-fps", positive=True, maximum=MAX_TARGET_FPS)
        if self.folding_file:
            _check_folding_file(self.folding_file)
        check_int(self.verify_images, "--verify-images", minimum=1, maximum=MAX_IMAGES)
        check_int(self.csim_images, "--csim-images", minimum=1, maximum=MAX_IMAGES)
        check_int(self.jobs, "--jobs", minimum=1, maximum=MAX_JOBS)
        for option in ("synth_timeout_s", "vivado_timeout_s"):
            check_float(getattr(self, option), option, positive=True)
        for name in (self.start, self.stop):
            if name is not None and name not in STEP_ORDER:
                raise BuildError(f"unknown step {name!r}; steps: {', '.join(STEP_ORDER)}")
        if self.start and self.stop and STEP_ORDER.index(self.start) > STEP_ORDER.index(self.stop):
            raise BuildError(f"--start {self.start} comes after --stop {self.stop}")
        if self.checkpoint is not None and str(self.checkpoint) == "":
            raise InputError("--checkpoint is empty; give a checkpoint file")

    @property
    def out_dir(self) -> Path:
        return Path(self.out or REPO_ROOT / "overlays" / self.model).resolve()

    @property
    def work(self) -> Path:
        out = self.out_dir
        return Path(self.work_dir).resolve() if self.work_dir else out.parent / f".{out.name}.work"


def _check_folding_file(path) -> None:
    """A folding file exists, is JSON ``{layer: {axis: whole number >= 1}}``."""
    from pynq_bnn.compiler.folding import FoldingError, load_folding

    if not Path(path).is_file():
        raise InputError(f"folding file {path} not found")
    try:
        folding = load_folding(path)
    except (OSError, ValueError, FoldingError) as err:
        raise InputError(f"folding file {path} is not a valid folding JSON ({err})") from None
    for layer, axes in folding.items():
        for axis, value in axes.items():
            check_int(value, f"folding file {path}: {layer}.{axis}", minimum=1,
                      maximum=1 << 20)


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


def _stamp_path(work: Path, step: str) -> Path:
    return work / f".{step}.stamp.json"


def _stamp(work: Path, step: str) -> dict | None:
    """The step's stamp if its recorded output files are all present with the same sha256."""
    try:
        stamp = json.loads(_stamp_path(work, step).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict):
        return None
    files = stamp.get("files")
    if step in STEP_OUTPUTS:
        if not isinstance(files, dict) or not files:
            return None
        current = tree_digest(work / STEP_OUTPUTS[step])
        if any(current.get(rel) != digest for rel, digest in files.items()):
            log.info("step %s: cached outputs changed or incomplete; running it again", step)
            return None
    return stamp


def _write_stamp(work: Path, step: str, key: str, summary: dict) -> None:
    """Record a completed step: written after its outputs, with their content hashes."""
    files = tree_digest(work / STEP_OUTPUTS[step]) if step in STEP_OUTPUTS else None
    atomic_write_json(_stamp_path(work, step), {"key": key, "summary": summary, "files": files},
                      default=str)


def _invalidate(work: Path, step: str) -> None:
    """Forget a step's stamp before it runs (a crash mid-step must not leave it valid)."""
    try:
        _stamp_path(work, step).unlink()
    except FileNotFoundError:
        pass


def preflight(config: BuildConfig, ctx: "_Context" = None) -> None:
    """Everything checkable before the first step: options, output folders, the checkpoint (it
    must hold ``config.model``) and the test data of the verification steps.

    Raises:
        BuildInputError: with a one-line message saying what to do.
    """
    from pynq_bnn.checkpoint import CheckpointError, load_model, resolve_checkpoint
    from pynq_bnn.data import DataError

    config.validate()
    try:
        package_io.check_output(config.out_dir, config.work)
        path = Path(resolve_checkpoint(config.checkpoint or config.model))
        if not path.is_file():
            raise InputError(f"checkpoint {path} not found; pass --checkpoint PATH")
        model, _ = load_model(path)
        held = model.config.get("name")
        if held != config.model:
            raise InputError(f"--model {config.model} but checkpoint {path} holds model "
                             f"{held!r}; pass --model {held} or the checkpoint of "
                             f"{config.model}")
        if ctx is not None:
            ctx.cache["model"] = model
        check_build_data(config)  # the verify/csim images exist and are enough, before any step
    except (InputError, CheckpointError, DataError, BuildError) as err:
        raise BuildInputError(str(err)) from None
    except OSError as err:  # an unreadable checkpoint, data file or folder
        raise BuildInputError(_os_message(err)) from None


def build_overlay(config: BuildConfig, progress=None) -> BuildResult:
    """Run the build; ``progress(step, status, seconds)`` is called around each step.

    Raises:
        BuildInputError: bad option, output folder, checkpoint or data (before any step ran),
            or another build holds the lock on ``out``.
        BuildError: a failing step (chained to the original error).
        VerificationFailed: an equivalence check failed; nothing was packaged.
    """
    ctx = _Context(config)
    preflight(config, ctx)
    locks = [package_io.output_lock(config.out_dir), package_io.work_lock(ctx.work)]
    try:
        locks[0].acquire()
        package_io.claim_work_dir(ctx.work)  # marked before its lock file appears in it
        locks[1].acquire()
        package_io.recover(config.out_dir)
        package_io.clean_work_leftovers(ctx.work)
        return _run_steps(ctx, config, progress)
    except LockedError as err:
        raise BuildInputError(str(err)) from None
    finally:
        for lock in reversed(locks):
            lock.release()


def _run_steps(ctx: "_Context", config: BuildConfig, progress) -> BuildResult:
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
                _invalidate(ctx.work, step)
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
                _invalidate(ctx.work, step)
                t0 = time.monotonic()
                try:
                    summary = STEPS[step](ctx)
                except VerificationFailed:
                    raise
                except OSError as exc:
                    raise BuildError(f"step {step!r} failed: {_os_message(exc)}") from exc
                except Exception as exc:
                    raise BuildError(f"step {step!r} failed: {exc}") from exc
                result.times[step] = round(time.monotonic() - t0, 3)
                result.steps[step] = summary
                if not summary.get("skipped"):  # a step skipped for lack of tools is redone
                    _write_stamp(ctx.work, step, key, summary)
                _notify(progress, step, f"skipped: {summary['skipped']}" if summary.get("skipped")
                        else "done", result.times[step])
            previous = key
            result.message = ctx.stop_message or result.message
    finally:
        logging.getLogger("pynq_bnn").removeHandler(handler)
        handler.close()
    return result


def _os_message(exc: OSError) -> str:
    from pynq_bnn.utils.validate import os_error_message

    return os_error_message(exc)


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
    tmp = package_io.staging_dir(out)
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
        package_io.mark_complete(tmp, model=cfg.model)
        package_io.swap_in(tmp, out)
    except OSError as exc:
        package_io.discard(tmp)
        raise BuildError(f"step 'package' failed: {_os_message(exc)}; the previous package "
                         "is unchanged") from exc
    except BaseException:
        package_io.discard(tmp)
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
