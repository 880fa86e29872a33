# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Whole-accelerator C simulation and its bit-exact comparison with the numpy reference.

:func:`build_csim` compiles a written project's ``bnn_top.cpp`` + ``tb.cpp`` with g++;
:func:`run_csim` packs uint8 NHWC images into AXI words exactly as the DMA buffer will hold them
(:mod:`.packing`), runs the testbench and unpacks the output words; :func:`verify_csim` compares
with :func:`pynq_bnn.compiler.execute` image by image (identical integers required).

``synthesis=True`` (all three) builds and runs the templates' synthesizable branch
(``-D__SYNTHESIS__``, binary ``csim/tb_synth``) instead of the csim branch, so the code Vitis
synthesizes is itself checked bit for bit on real images.
"""
from __future__ import annotations

import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pynq_bnn.compiler.hls.csim import CsimError, compile_cpp, run_executable
from pynq_bnn.compiler.hls.packing import bytes_per_word, pack_words, unpack_words
from pynq_bnn.compiler.hls.project import Project, load_project
from pynq_bnn.utils.cpus import usable_cpus

__all__ = ["CsimReport", "build_csim", "run_csim", "verify_csim"]

log = logging.getLogger(__name__)


@dataclass
class CsimReport:
    """Result of a csim-vs-numpy comparison."""

    images: int
    mismatches: int
    seconds: float
    mismatch_indices: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.images > 0 and self.mismatches == 0

    def as_dict(self) -> dict:
        return {"images": self.images, "mismatches": self.mismatches,
                "seconds": round(self.seconds, 3), "passed": self.passed,
                "first_mismatches": self.mismatch_indices[:10]}


def _project(project) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def build_csim(project, timeout: float = 1800.0, synthesis: bool = False) -> Path:
    """Compile the project's testbench with g++ (skipped when the binary was built from sources
    with the same sha256); ``synthesis``: the synthesizable branch (``-D__SYNTHESIS__``) into
    ``csim/tb_synth``.

    g++ writes to a temporary name that is renamed into place only after a successful link, and
    the sources' hash is recorded beside the binary afterwards: a compile killed mid-link (a
    0-byte ``tb`` newer than its sources) is never taken for a finished one.
    """
    import hashlib
    import os

    project = _project(project)
    hls = project.hls_dir
    exe = hls / "csim" / ("tb_synth" if synthesis else "tb")
    sources = [hls / "src" / "bnn_top.cpp", hls / "tb" / "tb.cpp"]
    inputs = sorted(set((hls / "src").rglob("*.hpp")) | set((hls / "csim").rglob("*.h*"))
                    | set(sources))
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(str(path.relative_to(hls)).encode() + b"\0" + path.read_bytes())
    stamp = exe.with_name(f"{exe.name}.sources.sha256")
    if exe.is_file() and stamp.is_file() and stamp.read_text().strip() == digest.hexdigest():
        return exe
    stamp.unlink(missing_ok=True)
    for stale in exe.parent.glob(f"{exe.name}.partial-*"):  # left by a compile that was killed
        stale.unlink(missing_ok=True)
    t0 = time.monotonic()
    partial = exe.with_name(f"{exe.name}.partial-{os.getpid()}")
    try:
        compile_cpp(sources, partial, timeout=timeout, opt="-O2",
                    include_dirs=(hls / "csim", hls / "src", hls / "tb"), synthesis=synthesis)
        os.replace(partial, exe)
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(digest.hexdigest() + "\n")
    log.info("csim testbench (%s branch) compiled in %.1f s",
             "synthesis" if synthesis else "csim", time.monotonic() - t0)
    return exe


def run_csim(project, images: np.ndarray, batch: int = 16, timeout: float = 3600.0,
             jobs: int = 0, part_images: int = 100, progress: bool = False,
             synthesis: bool = False) -> np.ndarray:
    """Run the compiled accelerator on uint8 NHWC ``images``; return ``(N, output count)`` ints.

    The images are split into contiguous parts of at most ``part_images`` images, run by
    ``jobs`` concurrent testbench processes (default: the CPUs this process may use,
    :func:`~pynq_bnn.utils.cpus.usable_cpus`); the outputs are concatenated in image order.
    ``progress`` shows a tqdm bar over the images.
    """
    project = _project(project)
    images = np.asarray(images)
    if images.dtype != np.uint8 or tuple(images.shape[1:]) != tuple(project.input.shape):
        raise ValueError(f"run_csim expects uint8 images of shape (N, "
                         f"{', '.join(map(str, project.input.shape))}), got {images.dtype} "
                         f"{tuple(images.shape)}")
    exe = build_csim(project, synthesis=synthesis)
    n = images.shape[0]
    jobs = max(1, jobs or usable_cpus())
    count = max(jobs, -(-n // max(1, part_images)))
    parts = [part for part in np.array_split(np.arange(n), count) if part.size] or [np.arange(0)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc="csim", unit="img", leave=False)
    with tempfile.TemporaryDirectory(prefix="pynq_bnn_csim_") as tmp:
        def run_part(index: int) -> np.ndarray:
            part = parts[index]
            in_path, out_path = Path(tmp) / f"in{index}.bin", Path(tmp) / f"out{index}.bin"
            words = pack_words(images[part].reshape(part.size, -1), 8, project.axi_width)
            if words.shape[1] != project.input.words:
                raise CsimError(f"packed {words.shape[1]} input words, project expects "
                                f"{project.input.words}")
            words.tofile(in_path)
            run_executable([exe, in_path, out_path, part.size, batch], timeout)
            if bar is not None:
                bar.update(part.size)
            return _read_output(project, out_path, part.size)

        try:
            with ThreadPoolExecutor(max_workers=min(jobs, len(parts))) as pool:
                outputs = list(pool.map(run_part, range(len(parts))))
        finally:
            if bar is not None:
                bar.close()
    return np.concatenate(outputs, axis=0)


def _read_output(project, path: Path, n: int) -> np.ndarray:
    """Unpack a testbench output file of ``n`` images."""
    raw = np.fromfile(path, dtype=np.uint8) if n else np.zeros(0, np.uint8)
    out = project.output
    expected = n * out.words * bytes_per_word(project.axi_width)
    if raw.size != expected:
        raise CsimError(f"csim wrote {raw.size} bytes, expected {expected}")
    raw = raw.reshape(n, out.words, bytes_per_word(project.axi_width))
    return unpack_words(raw, out.elem_bits, project.axi_width, out.count, out.signed)


def verify_csim(graph, project, images: np.ndarray, batch: int = 16, jobs: int = 0,
                progress: bool = False, synthesis: bool = False) -> CsimReport:
    """Compare csim with :func:`pynq_bnn.compiler.execute` on ``images`` (uint8 NHWC), the csim
    in ``jobs`` parallel processes with an optional progress bar (see :func:`run_csim`);
    ``synthesis``: the synthesizable branch."""
    from pynq_bnn.compiler.execute import execute

    t0 = time.monotonic()
    got = run_csim(project, images, batch=batch, jobs=jobs, progress=progress,
                   synthesis=synthesis)
    want = np.asarray(execute(graph, images)).reshape(got.shape[0], -1).astype(np.int64)
    if want.shape != got.shape:
        raise CsimError(f"csim output shape {got.shape} differs from numpy {want.shape}")
    bad = np.nonzero((want != got).any(axis=1))[0]
    report = CsimReport(images=int(got.shape[0]), mismatches=int(bad.size),
                        seconds=time.monotonic() - t0, mismatch_indices=bad.tolist())
    log.info("csim vs numpy: %d images, %d mismatches (%.1f s)", report.images,
             report.mismatches, report.seconds)
    return report
