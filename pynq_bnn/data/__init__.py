# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Dataset readers (MNIST, CIFAR-10), splits, batching and augmentation.

Nothing downloads implicitly: without a data folder the test split is the 1,000-image subset
shipped inside pynq_bnn (:mod:`pynq_bnn.data.subset`); ``python -m pynq_bnn.data download`` fetches
the official archives on request (:mod:`pynq_bnn.data.download`).

>>> from pynq_bnn.data import load_dataset
>>> test = load_dataset("cifar10", "test")            # doctest: +SKIP
>>> test.images.shape, test.images.dtype              # doctest: +SKIP
((10000, 3, 32, 32), dtype('uint8'))
"""
import logging
import os
from functools import lru_cache

from pynq_bnn.data.cifar10 import load_cifar10
from pynq_bnn.data.common import DATA_ENV, DataError, ImageSet, resolve_data_dir
from pynq_bnn.data.mnist import load_mnist
from pynq_bnn.data.split import train_val_split
from pynq_bnn.data.subset import load_test_subset

__all__ = ["load_dataset", "load_mnist", "load_cifar10", "DataError", "ImageSet", "DATA_ENV",
           "resolve_data_dir", "make_loader", "BatchLoader", "train_val_split", "DATASETS",
           "load_test_subset"]

DATASETS = {"mnist": load_mnist, "cifar10": load_cifar10}


def __getattr__(name):
    # The torch batch loader is imported on first use: the runtime reads datasets without torch.
    if name in ("BatchLoader", "make_loader"):
        from pynq_bnn.data import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'pynq_bnn.data' has no attribute {name!r}")


def load_dataset(name: str, split: str = "train", data_dir=None, *, verify: bool = True) -> ImageSet:
    """Load ``split`` ("train"/"test") of dataset ``name`` ("mnist"/"cifar10").

    The data folder is ``data_dir``, else ``$PYNQ_BNN_DATA``. With neither, the test split is
    the subset shipped inside pynq_bnn (the first 1,000 official test images, see
    :mod:`pynq_bnn.data.subset`; a warning says so once per dataset), and the train split is an
    error saying how to download the data.
    """
    try:
        loader = DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}") from None
    if data_dir is None and not os.environ.get(DATA_ENV) and split == "test":
        _announce_subset(name)
        return load_test_subset(name)
    return loader(split, data_dir, verify=verify)


@lru_cache(maxsize=None)
def _announce_subset(name: str) -> None:
    logging.getLogger(__name__).warning(
        "no data folder given (%s unset): using the %s test subset shipped with pynq_bnn (the "
        "first 1,000 test images); for the full data run `python -m pynq_bnn.data download "
        "--dest DIR` and set %s=DIR", DATA_ENV, name, DATA_ENV)
