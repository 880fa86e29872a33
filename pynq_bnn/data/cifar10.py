# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CIFAR-10 reader: the binary version in ``<data_dir>/cifar10/cifar-10-batches-bin/``.

Each file holds 10,000 records of 3,073 bytes: one label byte, then the 32×32 R, G and B planes
(row-major) — already the ``(C, H, W)`` layout. Files are checked against the official md5 sums.
"""
from functools import lru_cache
from pathlib import Path

import numpy as np

from pynq_bnn.data.common import DataError, ImageSet, md5_of, missing_files_error, resolve_data_dir

__all__ = ["load_cifar10", "CIFAR10_FILES", "CIFAR10_CLASSES"]

CIFAR10_FILES = {
    "data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25",
    "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
    "data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421",
    "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
    "data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
    "test_batch.bin": "803d5f7f4d78ea53de84dbe85f74fb6d",
}
SPLITS = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
RECORD = 1 + 3 * 32 * 32
FILE_BYTES = 10000 * RECORD


@lru_cache(maxsize=8)
def _read_batch(path: str, verify: bool) -> np.ndarray:
    name = Path(path).name
    size = Path(path).stat().st_size  # checked before reading: a huge file is never loaded
    if size != FILE_BYTES:
        raise DataError(f"{path}: {size} bytes, expected {FILE_BYTES}; the file is truncated "
                        "or not the CIFAR-10 binary version")
    raw = Path(path).read_bytes()
    if len(raw) != FILE_BYTES:
        raise DataError(f"{path} changed size while being read; try again")
    if verify and md5_of(raw) != CIFAR10_FILES[name]:
        raise DataError(f"{path}: checksum mismatch (expected md5 {CIFAR10_FILES[name]}); "
                        "the file is corrupt, replace it")
    return np.frombuffer(raw, dtype=np.uint8).reshape(10000, RECORD)


def load_cifar10(split: str = "train", data_dir=None, *, verify: bool = True) -> ImageSet:
    """Load a CIFAR-10 split as uint8 ``(N, 3, 32, 32)`` RGB images and uint8 labels.

    Args:
        split: ``"train"`` (50,000) or ``"test"`` (10,000).
        data_dir: folder holding ``cifar10/``; defaults to ``$PYNQ_BNN_DATA``.
        verify: check each file's official md5 (cached per process).
    """
    if split not in SPLITS:
        raise DataError(f"unknown CIFAR-10 split {split!r}; use 'train' or 'test'")
    folder = resolve_data_dir(data_dir) / "cifar10" / "cifar-10-batches-bin"
    names = SPLITS[split]
    if not all((folder / n).is_file() for n in names):
        raise missing_files_error("CIFAR-10 (binary version)", folder, names)
    records = np.concatenate([_read_batch(str((folder / n).resolve()), verify) for n in names])
    labels = records[:, 0].copy()
    if labels.max() > 9:
        raise DataError(f"CIFAR-10 {split}: label {labels.max()} out of range 0..9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return ImageSet(images, labels, CIFAR10_CLASSES, f"cifar10/{split}")
