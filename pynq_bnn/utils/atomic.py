# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Atomic file writes: a reader sees either the complete old file or the complete new one.

Every file is written to a temporary file in the *same directory* as the target (so both live on
one filesystem), flushed and ``fsync``-ed, then moved over the target with :func:`os.replace`,
which POSIX and Windows guarantee to be atomic. If anything raises before the replace, the
temporary file is removed and the old target is left untouched — an interrupted training run never
leaves a truncated checkpoint behind.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> atomic_write_json(target, {"x": 1})
    >>> target.read_text()
    '{\\n  "x": 1\\n}\\n'
"""
import contextlib
import json
import os
import tempfile
from pathlib import Path

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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if mode == "wb" else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON (plus a final newline) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")
