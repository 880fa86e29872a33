# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Deterministic train/validation split of an :class:`ImageSet`."""
import numpy as np

from pynq_bnn.data.common import DataError, ImageSet

__all__ = ["train_val_split"]


def train_val_split(imageset: ImageSet, val_count: int, seed: int = 0):
    """Split off ``val_count`` random images (fixed by ``seed``) as a validation set.

    Returns:
        ``(train, val)`` ImageSets; with ``val_count == 0`` the validation set is empty.
    """
    if not 0 <= val_count < len(imageset):
        raise DataError(f"val_count must be in [0, {len(imageset)}), got {val_count}")
    order = np.random.default_rng(seed).permutation(len(imageset))
    val_idx, train_idx = np.sort(order[:val_count]), np.sort(order[val_count:])
    pick = lambda idx, tag: ImageSet(imageset.images[idx], imageset.labels[idx],  # noqa: E731
                                     imageset.classes, f"{imageset.name}:{tag}")
    return pick(train_idx, "train"), pick(val_idx, "val")
