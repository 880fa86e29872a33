# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Dataset readers (MNIST, CIFAR-10), splits, batching and augmentation. Never downloads.

>>> from pynq_bnn.data import load_dataset
>>> test = load_dataset("cifar10", "test")            # doctest: +SKIP
>>> test.images.shape, test.images.dtype              # doctest: +SKIP
((10000, 3, 32, 32), dtype('uint8'))
"""
from pynq_bnn.data.cifar10 import load_cifar10
from pynq_bnn.data.common import DATA_ENV, DataError, ImageSet, resolve_data_dir
from pynq_bnn.data.mnist import load_mnist
from pynq_bnn.data.split import train_val_split

__all__ = ["load_dataset", "load_mnist", "load_cifar10", "DataError", "ImageSet", "DATA_ENV",
           "resolve_data_dir", "make_loader", "BatchLoader", "train_val_split", "DATASETS"]

DATASETS = {"mnist": load_mnist, "cifar10": load_cifar10}


def __getattr__(name):
    # The torch batch loader is imported on first use: the runtime reads datasets without torch.
    if name in ("BatchLoader", "make_loader"):
        from pynq_bnn.data import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'pynq_bnn.data' has no attribute {name!r}")


def load_dataset(name: str, split: str = "train", data_dir=None, *, verify: bool = True) -> ImageSet:
    """Load ``split`` ("train"/"test") of dataset ``name`` ("mnist"/"cifar10")."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}") from None
    return loader(split, data_dir, verify=verify)
