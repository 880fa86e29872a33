# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""RPReLU (ReActNet) and the per-channel shift."""
import pytest
import torch

from pynq_bnn.nn.rprelu import ChannelShift, RPReLU


def test_rprelu_formula_per_channel():
    act = RPReLU(3)
    with torch.no_grad():
        act.gamma.copy_(torch.tensor([0.5, -1.0, 0.0]))
        act.zeta.copy_(torch.tensor([0.1, 0.2, -0.3]))
        act.prelu.weight.copy_(torch.tensor([0.25, 0.0, -0.5]))
    x = torch.randn(2, 3, 4, 4)
    gamma, zeta = act.gamma.view(1, 3, 1, 1), act.zeta.view(1, 3, 1, 1)
    slope = act.prelu.weight.view(1, 3, 1, 1)
    shifted = x - gamma
    expected = torch.where(shifted >= 0, shifted, slope * shifted) + zeta
    torch.testing.assert_close(act(x), expected)


def test_rprelu_on_vectors_and_gradients_reach_all_parameters():
    act = RPReLU(4)
    y = act(torch.randn(5, 4) * 3)
    assert y.shape == (5, 4)
    y.sum().backward()
    assert all(p.grad is not None for p in act.parameters())


def test_channel_shift():
    shift = ChannelShift(2)
    with torch.no_grad():
        shift.bias.copy_(torch.tensor([1.0, -2.0]))
    out = shift(torch.zeros(1, 2, 2, 2))
    assert out[0, 0].eq(1).all() and out[0, 1].eq(-2).all()


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_channels_rejected(bad):
    with pytest.raises(ValueError, match="positive int"):
        RPReLU(bad)
    with pytest.raises(ValueError, match="positive int"):
        ChannelShift(bad)
