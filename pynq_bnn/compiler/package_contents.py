# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""What goes into an overlay package, and in what form (the build's ``package`` step).

A package ``overlays/<model>/`` holds what a board needs and nothing that can drift:

* ``accelerator.json`` (the driver's contract), ``graph.json`` + ``params.npz`` (the compiled
  graph: the simulated device and the identity of the accelerator), ``report.json`` (the build's
  step summaries and provenance), ``summary.txt`` + ``layers.png`` (what the build produced, see
  :mod:`pynq_bnn.compiler.summary`), and ``<model>.bit`` / ``<model>.hwh`` once synthesized.
* Not the HLS and Vivado projects: they are generated on demand from the graph
  (``build_overlay.py --model M --stop hls`` writes them to ``<work>/hls/``), so no copy of the
  HLS library can go stale in a package.

Every file is portable: :func:`portable` rewrites the paths of the build machine (checkout, work
folder, data folder, home) into ``<repo>/...``-style placeholders, and :func:`check_portable`
refuses a package in which one is left. :func:`finalize_permissions` makes the package readable by
any user (files 0644, folders 0755), e.g. the board's Jupyter user when another user built it.

Provenance (:func:`provenance`): the sha256 of the pynq_bnn sources and of the checkpoint that
produced the package, so a package can be matched to the code that made it.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

__all__ = ["PACKAGE_FILES", "SOURCE_SUFFIXES", "sources_sha256", "provenance", "portable",
           "check_portable", "finalize_permissions", "MachinePathError"]

#: Files every package holds (``<model>.bit`` / ``.hwh`` are added once synthesized).
PACKAGE_FILES = ("accelerator.json", "graph.json", "params.npz", "report.json", "summary.txt",
                 "layers.png", ".pynq_bnn_package.json")  # the last: package_io.PACKAGE_MARKER
#: Suffixes of the files that make up "the pynq_bnn sources" in :func:`sources_sha256`.
SOURCE_SUFFIXES = (".py", ".hpp", ".h", ".cpp", ".tpl", ".tcl", ".j2")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_ROOT.parent
_TEXT_SUFFIXES = (".json", ".txt", ".log", ".tcl", ".hwh", ".md", ".cfg")


class MachinePathError(RuntimeError):
    """A file about to be packaged names a path of the build machine."""


def sources_sha256(root: Path = PACKAGE_ROOT) -> str:
    """sha256 over every source file of the ``pynq_bnn`` package (relative path + bytes, sorted).

    Shipped checkpoints (``zoo/pretrained``), caches and packaged notebook copies are left out:
    the checkpoint is hashed on its own.
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or path.suffix not in SOURCE_SUFFIXES
                or {"__pycache__", "_notebooks", "pretrained"} & set(rel.parts)):
            continue
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def provenance(checkpoint_path, checkpoint_sha256: str) -> dict:
    """What produced a package: pynq_bnn version, sources hash, checkpoint name and hash."""
    from pynq_bnn import __version__

    path = Path(checkpoint_path)
    return {"pynq_bnn_version": __version__, "sources_sha256": sources_sha256(),
            "checkpoint": portable(str(path)), "checkpoint_sha256": checkpoint_sha256}


def _roots(extra: dict | None) -> list:
    roots = {"<repo>": REPO_ROOT}
    roots.update(extra or {})
    home = Path.home()
    if str(home) not in ("/", ""):
        roots.setdefault("~", home)
    pairs = []
    for label, root in roots.items():
        if root is None:
            continue
        for form in {str(Path(root)), str(Path(root).resolve())}:
            if len(form) > 1:
                pairs.append((form.rstrip("/"), label))
    return sorted(pairs, key=lambda p: -len(p[0]))  # the longest (most specific) root first


def portable(value, roots: dict | None = None):
    """``value`` (JSON-like) with every build-machine path replaced by a placeholder.

    Args:
        value: str, number, list or dict (recursively).
        roots: ``{placeholder: folder}`` besides ``<repo>`` (the checkout) and ``~`` (home),
            e.g. ``{"<work>": work_dir, "<data>": data_dir}``. The longest matching root wins;
            paths inside the checkout become ``<repo>/relative/path``.
    """
    pairs = _roots(roots)

    def fix(item):
        if isinstance(item, str):
            for form, label in pairs:
                item = re.sub(re.escape(form) + r"(?=/|\b|$)", label, item)
            return item
        if isinstance(item, dict):
            return {key: fix(val) for key, val in item.items()}
        if isinstance(item, (list, tuple)):
            return [fix(val) for val in item]
        return item

    return fix(value)


def check_portable(package_dir, roots: dict | None = None) -> None:
    """Raise :class:`MachinePathError` naming the first text file that holds a machine path.

    Checked: the checkout, the home folder, the given ``roots`` and the system temp folder.
    """
    import tempfile

    forms = [form for form, _ in _roots(roots)] + [tempfile.gettempdir().rstrip("/") + "/"]
    for path in sorted(Path(package_dir).rglob("*")):
        if path.is_file() and path.suffix in _TEXT_SUFFIXES:
            text = path.read_text(errors="replace")
            for form in forms:
                if form and form in text:
                    raise MachinePathError(f"{path.name} names the build machine's path {form!r};"
                                           " pass it through package_contents.portable()")


def finalize_permissions(package_dir) -> None:
    """Folders 0755, files 0644 (readable by every user; ``mkdtemp`` creates 0700)."""
    package_dir = Path(package_dir)
    os.chmod(package_dir, 0o755)
    for path in package_dir.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def build_report(config, result, work: Path, *, portable_paths: bool = True) -> dict:
    """The ``report.json`` of a build: model, config, step summaries, times, provenance.

    Args:
        config: the :class:`~pynq_bnn.compiler.build.BuildConfig`.
        result: the :class:`~pynq_bnn.compiler.build.BuildResult` so far (steps, times, cached).
        work: the build's work folder.
        portable_paths: replace the build machine's paths by placeholders (see :func:`portable`);
            off for the console summary, which shows the real paths.

    Returns:
        A JSON-ready dict.
    """
    import dataclasses

    load = result.steps.get("load", {})
    roots = package_roots(config, work, load.get("checkpoint"))
    report = {"model": config.model, "config": dataclasses.asdict(config), "steps": result.steps,
              "step_seconds": result.times, "cached_steps": result.cached,
              "message": result.message}
    if load.get("checkpoint"):
        report["provenance"] = provenance(load["checkpoint"], load.get("sha256", ""))
    return portable(report, roots) if portable_paths else report


def package_roots(config, work: Path, checkpoint=None) -> dict:
    """The build-machine folders a package must not name: work, data, output, checkpoint's."""
    import tempfile

    # <tmp> last resort: e.g. a cached step's summary naming a work folder since moved
    roots = {"<work>": Path(work), "<out>": config.out_dir, "<tmp>": Path(tempfile.gettempdir())}
    data = config.data_dir or os.environ.get("PYNQ_BNN_DATA")
    if data:
        roots["<data>"] = Path(data)
    if checkpoint and REPO_ROOT not in Path(checkpoint).resolve().parents:
        roots["<checkpoint-dir>"] = Path(checkpoint).resolve().parent
    return roots


def write_contents(package_dir, config, result, work: Path) -> None:
    """Write ``report.json`` (+ the summary files) into ``package_dir`` and make it portable.

    Called by the build's ``package`` step after the graph, spec and bitstream are in place.

    Raises:
        MachinePathError: a packaged text file still names a build-machine path.
    """
    import json

    from pynq_bnn.compiler.estimate import estimate, plot_layers
    from pynq_bnn.compiler.graph import load_graph
    from pynq_bnn.compiler.summary import CHART_FILE, SUMMARY_FILE, render_summary

    package_dir = Path(package_dir)
    report = build_report(config, result, work)
    out = config.out_dir
    report["package"] = portable(str(out)) if REPO_ROOT in out.parents else out.name
    (package_dir / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (package_dir / SUMMARY_FILE).write_text(render_summary(report))
    plot_layers(estimate(load_graph(package_dir), config.board, config.clock_mhz),
                package_dir / CHART_FILE)
    check_portable(package_dir, package_roots(config, work, result.steps.get("load", {})
                                              .get("checkpoint")))
    finalize_permissions(package_dir)
