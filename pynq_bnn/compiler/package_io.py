# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""How a build writes its folders: ownership markers, the atomic package swap, recovery, locks.

Ownership: a build only replaces or deletes folders it owns. A package folder it wrote holds
:data:`PACKAGE_MARKER`, a work folder :data:`WORK_MARKER` (small JSON files). ``--out`` or
``--work-dir`` naming a non-empty folder without the marker (``--out ~/myproject``, ``--out .``)
is refused with :class:`OutputError` before any step runs; a package written before the markers
existed (``accelerator.json`` + ``graph.json`` + ``report.json``) is still recognised.

Swap: the package is assembled in a staging folder ``.<name>.pkg-XXXX`` beside ``out`` (same file
system), then ``out -> .<name>.old-<pid>``, ``staging -> out``, old removed. Whenever the process
dies, one of the two complete packages survives under a known name; :func:`recover` (run by the
next build under the lock) puts the old package back if ``out`` is missing and removes stale
staging/old folders — only folders carrying a marker, never anything else.

Concurrency: :func:`output_lock` is a ``flock`` on ``.<name>.lock`` beside ``out``; a second build
into the same folder stops at once with a clear message instead of silently mixing two packages.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from pynq_bnn.utils.fsutil import FileLock, LockedError, publish_mode, publish_tree
from pynq_bnn.utils.validate import InputError

__all__ = ["PACKAGE_MARKER", "WORK_MARKER", "OutputError", "is_package", "is_work_dir",
           "check_output", "claim_work_dir", "staging_dir", "mark_complete", "swap_in",
           "discard", "recover", "clean_work_leftovers", "output_lock", "work_lock", "LockedError"]

log = logging.getLogger(__name__)

PACKAGE_MARKER = ".pynq_bnn_package.json"
WORK_MARKER = ".pynq_bnn_work.json"
LEGACY_PACKAGE_FILES = ("accelerator.json", "graph.json", "report.json")


class OutputError(InputError):
    """An output folder the build does not own, or one that cannot be written."""


def _marker_ok(folder: Path, marker: str, kind: str) -> bool:
    try:
        data = json.loads((folder / marker).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == kind


def is_package(folder) -> bool:
    """``folder`` is an overlay package written by pynq_bnn (marker, or the legacy file set)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return False
    if _marker_ok(folder, PACKAGE_MARKER, "pynq_bnn.package"):
        return True
    return all((folder / name).is_file() for name in LEGACY_PACKAGE_FILES)


def is_work_dir(folder) -> bool:
    """``folder`` is a build work folder (marker, or the legacy ``build.log`` + stamps)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return False
    if _marker_ok(folder, WORK_MARKER, "pynq_bnn.work"):
        return True
    return (folder / "build.log").is_file() or any(folder.glob(".*.stamp.json"))


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not any(folder.iterdir())


def _contains(parent: Path, child: Path) -> bool:
    return child == parent or parent in child.parents


def check_output(out: Path, work: Path) -> None:
    """Refuse output/work folders the build does not own, before any step runs.

    Raises:
        OutputError: ``out`` is a file, a non-empty folder that is not a package, contains the
            work folder (or the other way round), or sits in a folder that is not writable;
            ``work`` is a non-empty folder that is not a work folder.
    """
    out, work = Path(out), Path(work)
    if out.is_symlink() or work.is_symlink():
        raise OutputError(f"{out if out.is_symlink() else work} is a symbolic link; give the "
                          "real folder")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; give a folder for the package")
    if out.is_dir() and not _is_empty_dir(out) and not is_package(out):
        raise OutputError(f"--out {out} is a non-empty folder that is not a pynq_bnn package; "
                          "refusing to replace it: choose a new or empty folder")
    for folder, option in ((out, "--out"), (work, "--work-dir")):
        if _contains(folder, Path.cwd().resolve()):
            raise OutputError(f"{option} {folder} is the current folder or one above it; "
                              "choose a new folder")
    if _contains(out, work) or _contains(work, out):
        raise OutputError(f"--work-dir {work} and --out {out} must be separate folders")
    if out.parent == out:
        raise OutputError(f"--out {out} is a file-system root; choose a new folder")
    if work.exists() and not work.is_dir():
        raise OutputError(f"--work-dir {work} is a file; give a folder")
    if work.is_dir() and not _is_empty_dir(work) and not is_work_dir(work):
        raise OutputError(f"--work-dir {work} is a non-empty folder that is not a pynq_bnn work "
                          "folder; refusing to write into it: choose a new or empty folder")
    for folder, option in ((out.parent, "--out"), (work.parent, "--work-dir")):
        probe = folder
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
            raise OutputError(f"{option}: cannot create folders in {probe}; choose a writable "
                              "path")


def _write_marker(folder: Path, marker: str, kind: str, **extra) -> None:
    path = folder / marker
    path.write_text(json.dumps({"format": kind, "version": 1, **extra}) + "\n")
    publish_mode(path)


def claim_work_dir(work: Path) -> None:
    """Create ``work`` (if needed) and mark it as a build work folder."""
    work.mkdir(parents=True, exist_ok=True)
    if not _marker_ok(work, WORK_MARKER, "pynq_bnn.work"):
        _write_marker(work, WORK_MARKER, "pynq_bnn.work")


def clean_work_leftovers(work: Path) -> list:
    """Remove temporaries that killed steps left at the top of the work folder (``.hls.tmp-*``,
    ``.hls.old-*``, ``.<stamp>.<pid>.*.tmp``); call with the work folder's lock held, when no
    other build can be writing there.

    Returns:
        The names removed.
    """
    removed = []
    for entry in work.iterdir() if work.is_dir() else ():
        name = entry.name
        if name.startswith(".") and (".tmp" in name or ".old-" in name) \
                and not entry.is_symlink():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(name)
    return removed


def staging_dir(out: Path) -> Path:
    """A new marked staging folder ``.<name>.pkg-XXXX`` beside ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.pkg-", dir=out.parent))
    _write_marker(tmp, PACKAGE_MARKER, "pynq_bnn.package", complete=False)
    return tmp


def mark_complete(tmp: Path, **info) -> None:
    """Record in the staging folder's marker that every file is written."""
    _write_marker(tmp, PACKAGE_MARKER, "pynq_bnn.package", complete=True, **info)


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the complete staging folder ``tmp`` (see the module docstring).

    Permissions are made those of a plain ``mkdir``/``open`` first (``mkdtemp`` gives 0700).
    """
    publish_tree(tmp)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def discard(tmp: Path) -> None:
    """Remove a staging folder (after a failure)."""
    shutil.rmtree(tmp, ignore_errors=True)


def recover(out: Path) -> list:
    """Repair what a killed build left beside ``out``; call with :func:`output_lock` held.

    * ``out`` missing and a previous package ``.<name>.old-*`` present: it is moved back;
    * other ``.<name>.old-*`` packages and ``.<name>.pkg-*`` staging folders are removed.

    Folders without a pynq_bnn marker are never touched.

    Returns:
        One line per action taken (also logged).
    """
    actions = []
    if not out.parent.is_dir():
        return actions
    olds = sorted((p for p in out.parent.glob(f".{out.name}.old-*") if is_package(p)),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    if olds and not out.exists():
        os.replace(olds[0], out)
        actions.append(f"restored the previous package {out} (a build was interrupted while "
                       "swapping it)")
        olds = olds[1:]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
        actions.append(f"removed {old.name} left by an interrupted build")
    for tmp in out.parent.glob(f".{out.name}.pkg-*"):
        if tmp.is_dir() and not tmp.is_symlink() and (
                _is_empty_dir(tmp) or _marker_ok(tmp, PACKAGE_MARKER, "pynq_bnn.package")):
            shutil.rmtree(tmp, ignore_errors=True)
            actions.append(f"removed {tmp.name} left by an interrupted build")
    for line in actions:
        log.warning(line)
    return actions


def output_lock(out: Path) -> FileLock:
    """The lock serialising builds into ``out`` (``.<name>.lock`` beside it)."""
    return FileLock(out.parent / f".{out.name}.lock", f"is building into {out}")


def work_lock(work: Path) -> FileLock:
    """The lock serialising builds using the work folder ``work`` (``.lock`` inside it)."""
    return FileLock(work / ".lock", f"is using the work folder {work}")
