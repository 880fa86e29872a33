# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Atomic file writes: a reader sees either the complete old file or the complete new one.

Every file is written to a temporary file in the *same directory* as the target (so both live on
one filesystem), flushed and ``fsync``-ed, then moved over the target with :func:`os.replace`,
which POSIX and Windows guarantee to be atomic. If anything raises before the replace, the
temporary file is removed and the old target is left untouched — an interrupted training run never
leaves a truncated checkpoint behind. The temporary's name holds the writer's pid; temporaries of
writers that died (``kill -9``) are removed by the next write of the same file. The file gets the
mode a plain ``open`` gives (``0666`` minus the umask), not ``mkstemp``'s private ``0600``.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> atomic_write_json(target, {"x": 1})
    >>> target.read_text()
    '{\\n  "x": 1\\n}\\n'
"""
import contextlib
import glob
import json
import os
import tempfile
from pathlib import Path

from pynq_bnn.utils.fsutil import current_umask

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "atomic_write_json"]


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb"):
    """Context manager yielding a file object whose content replaces ``path`` on success.

    Args:
        path: target file; its parent directory is created if needed.
        mode: ``"wb"`` (default) or ``"w"`` (text, UTF-8).

    Raises:
        ValueError: for a mode other than ``"wb"`` / ``"w"``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open supports mode 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=path.parent)
    try:
        encoding = None if mode == "wb" else "utf-8"
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 -> what open() would give
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def remove_stale_temporaries(path) -> list:
    """Remove temporaries of ``path`` left by killed writers (``.<name>.<pid>.XXXX.tmp`` whose
    process no longer exists); those of live processes are kept.

    Returns:
        The removed paths.
    """
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path, obj, *, indent: int = 2, default=None) -> None:
    """Write ``obj`` as JSON (plus a final newline) to ``path`` atomically (``default`` as for
    :func:`json.dumps`)."""
    atomic_write_text(path, json.dumps(obj, indent=indent, default=default) + "\n")
