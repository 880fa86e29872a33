# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""File-system helpers: umask-respecting permissions, content hashes of folders, a lock file.

Permissions: :func:`tempfile.mkstemp` creates files ``0600`` and :func:`tempfile.mkdtemp`
folders ``0700`` (private on purpose); a checkpoint or overlay package renamed from such a
temporary is then unreadable for the board user or another account. :func:`publish_mode` gives
such a file or folder the mode an ordinary ``open``/``mkdir`` would have: ``0666``/``0777``
minus the process umask (``0644``/``0755`` with the usual umask 022).

Lock: :class:`FileLock` is an exclusive, non-blocking ``flock`` on a small file. The kernel
drops it when the holder exits, however it dies (``kill -9`` included), so a stale lock never
blocks a later run; the file holds the holder's pid for the error message and is removed on
release.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
from pathlib import Path

__all__ = ["current_umask", "publish_mode", "publish_tree", "tree_digest", "FileLock",
           "LockedError"]


def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible, else set-and-restore)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_mode(path) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would: ``0666``/``0777`` & ~umask."""
    path = Path(path)
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~current_umask())


def publish_tree(root) -> None:
    """:func:`publish_mode` on ``root`` and every folder/file below it (links left alone)."""
    root = Path(root)
    publish_mode(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                publish_mode(path)


def tree_digest(root, skip=()) -> dict:
    """``{relative path: sha256}`` of every regular file under ``root`` (names in ``skip``
    excluded)."""
    root = Path(root)
    digests = {}
    if root.is_file():
        return {root.name: file_sha256(root)}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and path.name not in skip:
            digests[rel] = file_sha256(path)
    return digests


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LockedError(RuntimeError):
    """Another process holds the lock."""


class FileLock:
    """Exclusive non-blocking lock on ``path`` (``with FileLock(p, "what"):``).

    Args:
        path: the lock file (created; removed on release).
        what: what the lock protects, for the error message ("builds into overlays/lfc").

    Raises:
        LockedError: another live process holds it (message names its pid).
    """

    def __init__(self, path, what: str):
        self.path = Path(path)
        self.what = what
        self._fd = None

    def acquire(self) -> "FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                holder = _read_pid(fd)
                os.close(fd)
                if err.errno in (errno.EAGAIN, errno.EACCES):
                    raise LockedError(f"another process{f' (pid {holder})' if holder else ''} "
                                      f"{self.what}; wait for it to finish or choose another "
                                      "output folder") from None
                raise
            # The previous holder may have removed the file between our open and flock: then we
            # hold a lock on an orphaned inode; start again on the current file.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if os.path.samestat(os.fstat(self._fd), os.stat(self.path)):
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


def is_regular_file(path) -> bool:
    """``path`` exists and is a regular file (not a link, folder or device)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
