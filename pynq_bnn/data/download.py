# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Opt-in download of the official MNIST and CIFAR-10 files into a data folder.

Nothing in pynq_bnn downloads on its own; this runs only when asked::

    python -m pynq_bnn.data download --dest ~/pynq_bnn_data [--datasets mnist cifar10]
        [--split test|all] [--mirror URL]
    export PYNQ_BNN_DATA=~/pynq_bnn_data

Sources (default):

* MNIST: the four IDX ``.gz`` files (LeCun, Cortes, Burges) from :data:`MNIST_URLS`, tried in
  order (the original site is often unavailable; the PyTorch mirror serves the same files).
* CIFAR-10: the official *binary version* archive ``cifar-10-binary.tar.gz`` (Krizhevsky) from
  :data:`CIFAR10_ARCHIVE_URL`, md5 :data:`CIFAR10_ARCHIVE_MD5`; only the expected regular files
  are extracted (no path from the archive reaches the file system).

``mirror``: a server laid out like the data folder (``mnist/<file>.gz``,
``cifar10/cifar-10-batches-bin/<file>.bin``), e.g. a lab copy of a verified data folder.

Every file is checked before it is kept: MNIST by the official md5 of the decompressed file,
CIFAR-10 by the official md5 of each batch file (the sums the readers check,
:data:`pynq_bnn.data.mnist.MNIST_FILES`, :data:`pynq_bnn.data.cifar10.CIFAR10_FILES`). Files are
written as ``.part`` then renamed; a file failing its check is deleted and the download fails.
Files already present and valid are not fetched again.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from pynq_bnn.data.cifar10 import CIFAR10_FILES, SPLITS as CIFAR10_SPLITS
from pynq_bnn.data.common import DataError
from pynq_bnn.data.mnist import MNIST_FILES

__all__ = ["download", "MNIST_URLS", "CIFAR10_ARCHIVE_URL", "CIFAR10_ARCHIVE_MD5",
           "CIFAR10_SUBDIR"]

log = logging.getLogger(__name__)
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "http://yann.lecun.com/exdb/mnist/")
CIFAR10_ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_SUBDIR = "cifar-10-batches-bin"
TIMEOUT_S = 60.0
_BLOCK = 1 << 20


def _fetch(url: str, target: Path, timeout: float) -> None:
    """GET ``url`` into ``target`` (via ``target.part``, renamed when complete)."""
    if not url.startswith(("http://", "https://")):
        raise DataError(f"refusing to download {url!r}: only http(s) URLs are used")
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out, _BLOCK)
        os.replace(part, target)
    except (urllib.error.URLError, OSError) as err:
        part.unlink(missing_ok=True)
        raise DataError(f"download of {url} failed ({err})") from None


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _mnist_ok(path: Path, md5_decompressed: str) -> bool:
    try:
        return _md5(gzip.decompress(path.read_bytes())) == md5_decompressed
    except (OSError, EOFError, zlib.error):
        return False


def _cifar_ok(path: Path) -> bool:
    return path.is_file() and _md5(path.read_bytes()) == CIFAR10_FILES[path.name]


def _download_mnist(dest: Path, splits: list, mirror: str | None, timeout: float) -> list:
    folder = dest / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    bases = [mirror.rstrip("/") + "/mnist/"] if mirror else list(MNIST_URLS)
    written = []
    for split in splits:
        img, img_md5, lbl, lbl_md5, _ = MNIST_FILES[split]
        for name, md5 in ((img, img_md5), (lbl, lbl_md5)):
            target = folder / name
            if target.is_file() and _mnist_ok(target, md5):
                log.info("%s already present and valid", target)
                continue
            errors = []
            for base in bases:
                try:
                    _fetch(base + name, target, timeout)
                except DataError as err:
                    errors.append(str(err))
                    continue
                if _mnist_ok(target, md5):
                    break
                target.unlink()
                errors.append(f"{base + name}: checksum mismatch (md5 of the decompressed file "
                              f"should be {md5})")
            else:
                raise DataError(f"could not get a valid {name}: " + "; ".join(errors))
            log.info("downloaded %s", target)
            written.append(target)
    return written


def _extract_cifar(archive: Path, folder: Path, wanted: list) -> None:
    """Extract the ``wanted`` batch files of the official archive into ``folder`` (no other
    member, no path from the archive, regular files only)."""
    members = {f"{CIFAR10_SUBDIR}/{name}": name for name in wanted}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in members and member.isfile():
                    source = tar.extractfile(member)
                    target = folder / members.pop(member.name)
                    part = target.with_name(target.name + ".part")
                    with open(part, "wb") as out:
                        shutil.copyfileobj(source, out, _BLOCK)
                    os.replace(part, target)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise DataError(f"{archive} is not a readable CIFAR-10 archive ({err})") from None
    if members:
        raise DataError(f"{archive} lacks {sorted(members)}: not the CIFAR-10 binary version")


def _download_cifar10(dest: Path, splits: list, mirror: str | None, timeout: float,
                      archive_url: str, archive_md5: str) -> list:
    folder = dest / "cifar10" / CIFAR10_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [name for split in splits for name in CIFAR10_SPLITS[split]]
    missing = [name for name in wanted if not _cifar_ok(folder / name)]
    if not missing:
        log.info("CIFAR-10 files already present and valid in %s", folder)
        return []
    if mirror:
        for name in missing:
            _fetch(f"{mirror.rstrip('/')}/cifar10/{CIFAR10_SUBDIR}/{name}", folder / name, timeout)
    else:
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            archive = Path(tmp) / "cifar-10-binary.tar.gz"
            _fetch(archive_url, archive, timeout)
            digest = hashlib.md5()
            with open(archive, "rb") as handle:
                for block in iter(lambda: handle.read(_BLOCK), b""):
                    digest.update(block)
            if digest.hexdigest() != archive_md5:
                raise DataError(f"{archive_url}: checksum mismatch (md5 {digest.hexdigest()}, "
                                f"expected {archive_md5})")
            _extract_cifar(archive, folder, missing)
    bad = [name for name in missing if not _cifar_ok(folder / name)]
    for name in bad:
        (folder / name).unlink(missing_ok=True)
    if bad:
        raise DataError(f"CIFAR-10 {bad}: checksum mismatch with the official md5; deleted")
    log.info("downloaded %s into %s", missing, folder)
    return [folder / name for name in missing]


def download(dest, datasets=("mnist", "cifar10"), split: str = "all", *, mirror: str | None = None,
             timeout: float = TIMEOUT_S, cifar10_archive_url: str = CIFAR10_ARCHIVE_URL,
             cifar10_archive_md5: str = CIFAR10_ARCHIVE_MD5) -> list:
    """Download and verify the official files into the data folder ``dest``.

    Args:
        dest: the data folder (created; then use it as ``$PYNQ_BNN_DATA``).
        datasets: any of ``"mnist"``, ``"cifar10"``.
        split: ``"test"``, ``"train"`` or ``"all"``.
        mirror: base URL of a server laid out like a data folder (see the module docstring).
        timeout: seconds per network read.
        cifar10_archive_url, cifar10_archive_md5: where the CIFAR-10 binary archive is and its
            md5 (the official ones by default).

    Returns:
        The files written (already valid files are kept and not listed).

    Raises:
        DataError: bad arguments, a failed download or a checksum mismatch (nothing invalid is
            left in ``dest``).
    """
    splits = {"all": ["train", "test"], "train": ["train"], "test": ["test"]}.get(split)
    if splits is None:
        raise DataError(f"unknown split {split!r}; use test, train or all")
    unknown = sorted(set(datasets) - {"mnist", "cifar10"})
    if unknown:
        raise DataError(f"unknown datasets {unknown}; available: mnist, cifar10")
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    if "mnist" in datasets:
        written += _download_mnist(dest, splits, mirror, timeout)
    if "cifar10" in datasets:
        written += _download_cifar10(dest, splits, mirror, timeout, cifar10_archive_url,
                                     cifar10_archive_md5)
    return written
