# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""MaxPool HW layer: max of decoded values (OR on BIPOLAR bits)."""
import numpy as np
import torch

from pynq_bnn.compiler.hw.pool import MaxPool


def test_max_pool_matches_torch_on_integers():
    rng = np.random.default_rng(0)
    x = rng.integers(-8, 8, (2, 6, 6, 3))
    layer = MaxPool("p", ["x"], "y", ifm_dim=[6, 6], channels=3, kernel=[2, 2], stride=[2, 2],
                    in_type="INT4")
    ref = torch.nn.functional.max_pool2d(torch.tensor(x.transpose(0, 3, 1, 2)), 2)
    np.testing.assert_array_equal(layer.reference(x), ref.numpy().transpose(0, 2, 3, 1))


def test_max_pool_on_bipolar_bits_is_or_and_floor_size():
    layer = MaxPool("p", ["x"], "y", ifm_dim=[5, 5], channels=1, kernel=[2, 2], stride=[2, 2],
                    in_type="BIPOLAR")
    x = np.zeros((1, 5, 5, 1), np.uint8)
    x[0, 1, 1, 0] = 1
    out = layer.reference(x)
    assert out.shape == (1, 2, 2, 1) and out[..., 0].tolist() == [[[1, 0], [0, 0]]]


def test_overlapping_windows_and_folding():
    layer = MaxPool("p", ["x"], "y", ifm_dim=[4, 4], channels=2, kernel=[3, 3], stride=[1, 1],
                    in_type="UINT8")
    x = np.arange(32).reshape(1, 4, 4, 2)
    assert layer.reference(x)[0, :, :, 0].tolist() == [[20, 22], [28, 30]]
    assert any("kernel == stride" in issue for issue in layer.check_folding())
    assert layer.cycles() == 32 and layer.resources().lut > 0
