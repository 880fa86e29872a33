# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Shared pieces of the dataset readers: the data directory, checksums, :class:`ImageSet`.

The data directory holds ``mnist/`` (IDX ``.gz`` files) and ``cifar10/cifar-10-batches-bin/``
(the binary version), as in the project's shared data folder. It is given as an argument or by
the ``PYNQ_BNN_DATA`` environment variable (``python -m pynq_bnn.data download`` fills one).
"""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DataError", "ImageSet", "resolve_data_dir", "md5_of", "DATA_ENV"]

DATA_ENV = "PYNQ_BNN_DATA"


class DataError(RuntimeError):
    """A dataset is missing, corrupt or requested with invalid arguments."""


@dataclass(frozen=True)
class ImageSet:
    """Images and labels of one split.

    Attributes:
        images: uint8 array ``(N, C, H, W)`` (raw pixels ``p``; models take ``p / 255``).
        labels: uint8 array ``(N,)`` with values ``0..len(classes)-1``.
        classes: class names in label order.
        name: dataset and split, e.g. ``"cifar10/test"``.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple
    name: str

    def __post_init__(self):
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise DataError(f"{self.name}: images must be uint8 (N, C, H, W), got "
                            f"{self.images.dtype} {self.images.shape}")
        if self.labels.shape != (self.images.shape[0],):
            raise DataError(f"{self.name}: {self.images.shape[0]} images but labels of shape "
                            f"{self.labels.shape}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, count: int) -> "ImageSet":
        """The first ``count`` images (deterministic; the test splits are class-balanced)."""
        return ImageSet(self.images[:count], self.labels[:count], self.classes,
                        f"{self.name}[:{count}]")


def resolve_data_dir(data_dir=None) -> Path:
    """Return the data directory from the argument or ``$PYNQ_BNN_DATA``.

    Raises:
        DataError: when neither is given or the directory does not exist.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    if chosen is None:
        raise DataError(f"no data directory given: pass data_dir=/--data-dir or set {DATA_ENV} to a "
                        "folder holding mnist/ and cifar10/cifar-10-batches-bin/ (get them with "
                        "`python -m pynq_bnn.data download --dest DIR`)")
    path = Path(chosen).expanduser()
    if path.exists() and not path.is_dir():
        raise DataError(f"data directory {path} is a file, not a folder; pass the folder holding "
                        "mnist/ and cifar10/")
    if not path.is_dir():
        raise DataError(f"data directory {path} does not exist")
    return path


def md5_of(data: bytes) -> str:
    """Hex md5 of ``data`` (checksums of the official dataset files)."""
    return hashlib.md5(data).hexdigest()


def missing_files_error(dataset: str, folder: Path, expected: list) -> DataError:
    """One clear error listing every expected file of ``dataset`` and which are absent."""
    lines = [f"  {'OK     ' if (folder / f).is_file() else 'MISSING'} {folder / f}" for f in expected]
    return DataError(f"{dataset} files not found in {folder}; expected:\n" + "\n".join(lines))
