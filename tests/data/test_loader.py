# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pynq_bnn.data import ImageSet, make_loader, train_val_split
from pynq_bnn.data.augment import random_crop_flip


def _toy_set(n=37):
    images = np.arange(n * 3 * 4 * 4, dtype=np.int64).reshape(n, 3, 4, 4).astype(np.uint8)
    return ImageSet(images, (np.arange(n) % 10).astype(np.uint8), tuple("abcdefghij"), "toy")


def test_batches_follow_the_model_input_contract():
    x, y = next(iter(make_loader(_toy_set(), 8, shuffle=False, augment=False)))
    assert x.dtype == torch.float32 and x.shape == (8, 3, 4, 4) and y.dtype == torch.int64
    assert torch.equal(x * 255, torch.from_numpy(_toy_set().images[:8]).float())


def test_shuffle_is_a_permutation_that_changes_per_epoch():
    loader = make_loader(_toy_set(), 5, shuffle=True, augment=False, seed=3)
    first = torch.cat([y for _, y in loader])
    loader.set_epoch(1)
    second = torch.cat([y for _, y in loader])
    assert sorted(first.tolist()) == sorted(second.tolist()) == sorted((np.arange(37) % 10).tolist())
    assert not torch.equal(first, second)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 50), world=st.integers(1, 4), batch=st.integers(1, 9))
def test_ranks_partition_the_epoch(n, world, batch):
    data = ImageSet(np.zeros((n, 1, 2, 2), np.uint8), np.arange(n).astype(np.uint8) % 256, ("x",), "t")
    loaders = [make_loader(data, batch, shuffle=True, augment=False, rank=r, world_size=world)
               for r in range(world)]
    seen = [torch.cat([y for _, y in ld]).tolist() for ld in loaders]
    assert len({len(s) for s in seen}) == 1  # same number of samples on every rank
    assert set().union(*map(set, seen)) == set(range(n))
    assert [len(list(ld)) for ld in loaders] == [len(ld) for ld in loaders]


def test_train_val_split_is_disjoint_and_deterministic():
    data = _toy_set()
    data = ImageSet(data.images, np.arange(len(data), dtype=np.uint8), data.classes, "toy")
    train, val = train_val_split(data, 7, seed=1)
    assert len(train) == 30 and len(val) == 7
    assert not set(train.labels.tolist()) & set(val.labels.tolist())
    assert np.array_equal(train_val_split(data, 7, seed=1)[1].images, val.images)


def test_random_crop_flip_moves_pixels_without_inventing_values():
    x = torch.rand(16, 3, 8, 8)
    out = random_crop_flip(x, padding=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    for img_in, img_out in zip(x, out):
        kept = img_out[img_out != 0]
        assert torch.isin(kept, img_in).all()


def test_random_crop_flip_without_padding_is_identity_or_mirror():
    x = torch.rand(32, 2, 5, 5)
    out = random_crop_flip(x, padding=0, generator=torch.Generator().manual_seed(1))
    for img_in, img_out in zip(x, out):
        assert torch.equal(img_out, img_in) or torch.equal(img_out, img_in.flip(-1))
