# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The small real test subsets shipped inside pynq_bnn: a first run needs no data folder.

``pynq_bnn/data/subset/<dataset>-test-1000.npz`` holds the **first 1,000 images of the official
test split** (MNIST ``t10k``, CIFAR-10 ``test_batch.bin``), uint8 ``images (N, C, H, W)`` and
``labels (N,)``, compressed. ``manifest.json`` beside them records, per dataset, the file's
sha256, the count, and the official source files with their md5 sums (the same sums
:mod:`pynq_bnn.data.mnist` / :mod:`pynq_bnn.data.cifar10` verify), so the subset can be traced to
and re-made from the official data (:func:`write_subset`).

:func:`pynq_bnn.data.load_dataset` falls back to this subset for the test split when no data
folder is given (argument or ``$PYNQ_BNN_DATA``): the build's verification and csim (1,000
images by default), the notebooks and the demos then run on a fresh machine. Training needs the
full data: ``python -m pynq_bnn.data download --dest DIR`` (see :mod:`pynq_bnn.data.download`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from pynq_bnn.data.common import DataError, ImageSet

__all__ = ["SUBSET_DIR", "SUBSET_COUNT", "load_test_subset", "subset_manifest", "write_subset"]

log = logging.getLogger(__name__)
SUBSET_DIR = Path(__file__).resolve().parent / "subset"
SUBSET_COUNT = 1000


def subset_manifest() -> dict:
    """``{dataset: {file, sha256, count, source}}`` of the shipped subsets."""
    path = SUBSET_DIR / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path} is missing or corrupt ({err}); reinstall pynq_bnn") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def _read(name: str):
    entry = subset_manifest().get(name)
    if entry is None:
        raise DataError(f"no shipped test subset of {name!r}; available: "
                        f"{sorted(subset_manifest())}")
    path = SUBSET_DIR / entry["file"]
    if not path.is_file() or _sha256(path) != entry["sha256"]:
        raise DataError(f"{path} is missing or does not match its sha256 {entry['sha256']}; "
                        "reinstall pynq_bnn")
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    if images.dtype != np.uint8 or labels.dtype != np.uint8 or len(images) != entry["count"]:
        raise DataError(f"{path}: unexpected contents {images.dtype} {images.shape}")
    return images, labels


def load_test_subset(name: str) -> ImageSet:
    """The shipped subset of dataset ``name`` (``"mnist"`` / ``"cifar10"``): the first 1,000
    official test images, checked against the manifest's sha256."""
    from pynq_bnn.data.cifar10 import CIFAR10_CLASSES
    from pynq_bnn.data.mnist import CLASSES as MNIST_CLASSES

    images, labels = _read(name)
    classes = {"mnist": MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}[name]
    return ImageSet(images.copy(), labels.copy(), classes, f"{name}/test[:{len(labels)}] "
                    "(shipped subset)")


def write_subset(data_dir, dest: Path = SUBSET_DIR, count: int = SUBSET_COUNT) -> dict:
    """Re-make the subset files and manifest from the official data (maintainers only).

    Args:
        data_dir: folder with ``mnist/`` and ``cifar10/`` (checked against the official md5s).
        dest: output folder.
        count: images per dataset (the first ``count`` of the test split).

    Returns:
        The manifest written.
    """
    from pynq_bnn.data.cifar10 import CIFAR10_FILES, load_cifar10
    from pynq_bnn.data.mnist import MNIST_FILES, load_mnist

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    img, img_md5, lbl, lbl_md5, _ = MNIST_FILES["test"]
    sources = {
        "mnist": (load_mnist, {img: {"md5_decompressed": img_md5}, lbl: {"md5_decompressed":
                                                                       lbl_md5}},
                  "MNIST (LeCun, Cortes, Burges)"),
        "cifar10": (load_cifar10, {"cifar-10-batches-bin/test_batch.bin":
                                   {"md5": CIFAR10_FILES["test_batch.bin"]}},
                    "CIFAR-10 binary version (Krizhevsky 2009)"),
    }
    manifest = {}
    for name, (loader, files, citation) in sources.items():
        data = loader("test", data_dir).subset(count)
        target = dest / f"{name}-test-{count}.npz"
        fd, tmp = tempfile.mkstemp(dir=dest, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, images=data.images, labels=data.labels)
        os.replace(tmp, target)
        os.chmod(target, 0o644)
        manifest[name] = {"file": target.name, "sha256": _sha256(target), "count": count,
                          "source": {"split": "test", "first": count, "files": files,
                                     "dataset": citation}}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
