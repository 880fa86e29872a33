# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Batches for training and evaluation, with distributed (DDP) sharding.

``make_loader`` turns an :class:`ImageSet` into batches ``(x, y)``: ``x`` float32 ``p/255`` in
NCHW (the model input contract), ``y`` int64 labels. Conversion and augmentation run per batch,
vectorized. With ``world_size > 1`` each rank sees a disjoint, equally sized shard of each epoch's
permutation (padded by repetition like ``DistributedSampler``), so all ranks take the same number
of steps.
"""
import math

import numpy as np
import torch

from pynq_bnn.data.augment import random_crop_flip
from pynq_bnn.data.common import ImageSet

__all__ = ["make_loader", "BatchLoader"]


class BatchLoader:
    """Iterable over ``(x, y)`` batches of an :class:`ImageSet`; call ``set_epoch`` per epoch."""

    def __init__(self, imageset: ImageSet, batch_size: int, *, shuffle: bool, augment: bool,
                 seed: int = 0, rank: int = 0, world_size: int = 1, drop_last: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of size {world_size}")
        self.imageset, self.batch_size = imageset, batch_size
        self.shuffle, self.augment, self.seed = shuffle, augment, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _indices(self) -> np.ndarray:
        n = len(self.imageset)
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(n)
        else:
            order = np.arange(n)
        per_rank = math.ceil(n / self.world_size)
        order = np.resize(order, per_rank * self.world_size)  # pad by cyclic repetition
        return order[self.rank::self.world_size]

    def __len__(self) -> int:
        per_rank = math.ceil(len(self.imageset) / self.world_size)
        return per_rank // self.batch_size if self.drop_last else math.ceil(per_rank / self.batch_size)

    def __iter__(self):
        idx = self._indices()
        gen = torch.Generator().manual_seed(self.seed * 1000003 + self.epoch * 101 + self.rank)
        for start in range(0, len(idx), self.batch_size):
            chunk = idx[start:start + self.batch_size]
            if self.drop_last and len(chunk) < self.batch_size:
                break
            x = torch.from_numpy(self.imageset.images[chunk]).to(torch.float32).div_(255.0)
            if self.augment:
                x = random_crop_flip(x, generator=gen)
            y = torch.from_numpy(self.imageset.labels[chunk].astype(np.int64))
            yield x, y


def make_loader(imageset: ImageSet, batch_size: int, *, shuffle: bool, augment: bool, seed: int = 0,
                rank: int = 0, world_size: int = 1, drop_last: bool = False) -> BatchLoader:
    """Build a :class:`BatchLoader` (see the module docstring)."""
    return BatchLoader(imageset, batch_size, shuffle=shuffle, augment=augment, seed=seed,
                       rank=rank, world_size=world_size, drop_last=drop_last)
