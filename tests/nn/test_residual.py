# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Fixed-scale int8 residual quantizer, parameter-free downsampling shortcut, pow2 int8 weights."""
import math

import numpy as np
import pytest
import torch
from brevitas.nn import QuantLinear

from pynq_bnn.nn.residual import (DownsampleShortcut, Int8WeightPow2, ResidualQuant,
                                  residual_quant_reference)


def int8_stream(shape, scale_exp=-4, seed=0):
    codes = torch.randint(-128, 128, shape, generator=torch.Generator().manual_seed(seed))
    return codes.float() * 2.0 ** scale_exp


def test_quantizer_grid_ties_and_saturation():
    rq = ResidualQuant(scale_exp=-4)
    x = torch.cat([torch.linspace(-10, 10, 2001), torch.tensor([0.03125, 0.09375, -0.03125])])
    y = rq(x)
    np.testing.assert_array_equal((y * 16).numpy(), residual_quant_reference(x.numpy(), -4))
    assert (y * 16).tolist()[-3:] == [0.0, 2.0, -0.0]  # half-to-even
    assert float(y.max()) == 127 / 16 and float(y.min()) == -8.0
    assert rq.scale == 0.0625


@pytest.mark.parametrize("scale_exp, bits", [(-5, 8), (-3, 6), (0, 4)])
def test_exported_scale_is_the_exact_power_of_two(scale_exp, bits):
    rq = ResidualQuant(scale_exp=scale_exp, bits=bits)
    rq.return_quant_tensor = True
    out = rq(torch.randn(64) * 4)
    assert float(out.scale) == 2.0 ** scale_exp and int(out.bit_width) == bits
    codes = (out.value / out.scale).detach()
    assert torch.equal(codes, torch.round(codes))
    assert codes.min() >= -(2 ** (bits - 1)) and codes.max() <= 2 ** (bits - 1) - 1


def test_quantizer_rejects_bad_options():
    with pytest.raises(ValueError, match="scale_exp"):
        ResidualQuant(scale_exp=0.5)
    with pytest.raises(ValueError, match="bits"):
        ResidualQuant(bits=1)


def test_downsample_shortcut_is_exact_four_sum_and_duplicates_channels():
    x = int8_stream((2, 3, 8, 8))
    out = DownsampleShortcut(2)(x)
    assert out.shape == (2, 6, 4, 4)
    codes = (x * 16).long().view(2, 3, 4, 2, 4, 2).sum(dim=(3, 5))  # integer 4-sums
    assert torch.equal(out[:, :3] * 64, codes.float()) and torch.equal(out[:, 3:], out[:, :3])
    assert not list(DownsampleShortcut().parameters())


def test_downsample_rejects_odd_sizes():
    with pytest.raises(ValueError, match="even"):
        DownsampleShortcut()(torch.zeros(1, 2, 5, 4))


def test_shortcut_add_is_exact_in_float32():
    branch, r = int8_stream((1, 8, 4, 4), seed=1), int8_stream((1, 4, 8, 8), seed=2)
    total = branch + DownsampleShortcut(2)(r)
    exact = (branch.double() * 64 + DownsampleShortcut(2)(r.double()) * 64)
    assert torch.equal(total.double() * 64, exact) and torch.equal(exact, torch.round(exact))


def test_pow2_weights_give_exact_integer_logits():
    fc = QuantLinear(64, 10, bias=False, weight_quant=Int8WeightPow2, return_quant_tensor=False)
    w = fc.quant_weight()
    exponent = math.log2(float(w.scale))
    assert exponent == round(exponent)
    w_int = (w.value / w.scale).detach().double()
    x = int8_stream((32, 64), seed=3)
    logits = fc(x).detach().double()
    exact = (x.double() * 16) @ w_int.T * float(w.scale) / 16
    assert torch.equal(logits, exact)
