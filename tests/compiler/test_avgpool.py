# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""SumPool / DownsampleShortcut vs torch avg_pool2d (float32 is exact for power-of-two windows)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pynq_bnn.compiler.hw.avgpool import DownsampleShortcut, SumPool


def _nchw(x):
    return torch.tensor(x, dtype=torch.float32).permute(0, 3, 1, 2)


def test_sum_pool_is_k2_times_torch_avg_pool():
    x = np.random.randint(-128, 128, size=(4, 8, 8, 5))
    layer = SumPool("p", ["x"], "y", IFM_DIM=[8, 8], CH=5, K=2, STRIDE=2, in_dtype="INT8")
    expect = (F.avg_pool2d(_nchw(x), 2) * 4).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(layer.reference(x), expect.astype(np.int64))
    assert layer.out_type().name == "INT10" and layer.out_shape() == (4, 4, 5)


def test_global_sum_matches_adaptive_avg_pool():
    x = np.random.randint(0, 16, size=(3, 8, 8, 4))
    layer = SumPool("g", ["x"], "y", IFM_DIM=[8, 8], CH=4, GLOBAL=1, in_dtype="UINT4", PE=2)
    expect = (F.adaptive_avg_pool2d(_nchw(x), 1) * 64).flatten(1).numpy()
    np.testing.assert_array_equal(layer.reference(x), expect.astype(np.int64))
    assert layer.out_shape() == (4,) and layer.cycles() == 8 * 8 * 4 // 2
    assert layer.resources(None).lut > 0


@pytest.mark.parametrize("order", ["tile", "interleave"])
def test_downsample_shortcut_matches_torch(order):
    x = np.random.randint(-8, 8, size=(2, 6, 6, 3))
    layer = DownsampleShortcut("d", ["x"], "y", IFM_DIM=[6, 6], CH=3, DUP_ORDER=order,
                               in_dtype="INT4")
    pooled = F.avg_pool2d(_nchw(x), 2) * 4
    dup = torch.cat([pooled, pooled], 1) if order == "tile" else pooled.repeat_interleave(2, 1)
    expect = dup.permute(0, 2, 3, 1).numpy().astype(np.int64)
    np.testing.assert_array_equal(layer.reference(x), expect)
    assert layer.out_shape() == (3, 3, 6) and layer.check_folding() == []


def test_folding_rules():
    layer = SumPool("p", ["x"], "y", IFM_DIM=[4, 4], CH=6, in_dtype="BIPOLAR", PE=4)
    problems = layer.check_folding()
    assert len(problems) == 2 and "PE=4" in problems[0]
    assert DownsampleShortcut("d", ["x"], "y", IFM_DIM=[4, 4], CH=2, DUP_ORDER="zeros",
                              in_dtype="INT8").check_folding()
