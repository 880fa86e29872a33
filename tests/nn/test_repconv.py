# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""RepConv: tiling semantics and channel plans."""
import pytest
import torch

from pynq_bnn.nn.repconv import ChannelTile, rep_plan


def test_tile_is_channel_major_copy():
    x = torch.randn(2, 3, 4, 4)
    y = ChannelTile(4)(x)
    assert y.shape == (2, 12, 4, 4)
    for j in range(12):
        assert torch.equal(y[:, j], x[:, j % 3])


def test_tile_gradient_sums_copies():
    x = torch.randn(1, 2, requires_grad=True)
    weights = torch.arange(8.0).view(1, 8)
    (ChannelTile(4)(x) * weights).sum().backward()
    assert x.grad.tolist() == [[0 + 2 + 4 + 6, 1 + 3 + 5 + 7]]


@pytest.mark.parametrize("beta", [1, 2, 4])
def test_plan_keeps_weight_count(beta):
    plan = rep_plan(64, 128, beta, widened_input=True)
    assert plan.conv_in * plan.conv_out == 64 * 128
    assert plan.out == beta * 128
    first = rep_plan(3, 64, beta, widened_input=False)
    assert (first.conv_in, first.conv_out, first.out) == (3, 64, beta * 64)


def test_plan_rejects_indivisible():
    with pytest.raises(ValueError, match="divisible"):
        rep_plan(8, 10, 4, widened_input=True)
    with pytest.raises(ValueError, match="beta"):
        rep_plan(8, 8, 0, widened_input=True)
