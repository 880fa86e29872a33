# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""SD-BNN: WSD shift, ASD static / dynamic math, and the binarized outputs against the formulas."""
import pytest
import torch
import torch.nn.functional as F

from pynq_bnn.nn.sdbnn import ASDDynamic, ASDStatic, WSDConv2d, WSDLinear, make_asd, wsd_shift


def _sign(x):
    return torch.where(x >= 0, 1.0, -1.0)


def test_wsd_shift_formula():
    w = torch.randn(4, 3, 3, 3)
    alpha = torch.tensor([-2.0, 0.0, 1.0, 5.0])
    expected = torch.stack([w[o] + torch.sigmoid(alpha[o]) * 0.01 * w[o].mean() for o in range(4)])
    assert torch.allclose(wsd_shift(w, alpha), expected)


def test_wsd_shift_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha must have shape"):
        wsd_shift(torch.randn(4, 3), torch.zeros(3))


def test_wsd_conv_binarizes_the_shifted_weight():
    conv = WSDConv2d(3, 4, 3)
    with torch.no_grad():
        # make the shift decide some signs: weights close to 0 with a strongly positive mean
        conv.weight.copy_(torch.randn_like(conv.weight) * 1e-3 + 0.05)
        conv.weight[:, 0, 0, 0] = -0.0001  # becomes + only through the shift 0.005*mean ≈ 2.5e-4
        conv.wsd_alpha.fill_(0.0)
    quant = conv.quant_weight()
    wq = quant.value / quant.scale  # the recipe's constant scale (0.1 in Brevitas' recipe)
    expected = _sign(wsd_shift(conv.weight, conv.wsd_alpha))
    assert torch.equal(wq, expected)
    assert (wq[:, 0, 0, 0] == 1).all()  # sign(W) alone would give -1
    x = _sign(torch.randn(2, 3, 6, 6))
    assert torch.allclose(conv(x), F.conv2d(x, expected) * quant.scale)


def test_wsd_gradient_reaches_alpha_and_weight():
    fc = WSDLinear(8, 3)
    fc(torch.randn(5, 8)).sum().backward()
    assert fc.wsd_alpha.grad is not None and fc.weight.grad is not None
    assert fc.weight.grad.abs().sum() > 0


def test_asd_static_adds_sigmoid_beta_then_sign():
    asd = ASDStatic(3)
    with torch.no_grad():
        asd.beta.copy_(torch.tensor([-1.0, 0.0, 3.0]))
    a = torch.randn(2, 3, 4, 4)
    shifted = asd(a)
    assert torch.allclose(shifted, a + torch.sigmoid(asd.beta).view(1, 3, 1, 1))
    # sign after the shift equals a threshold compare a >= -sigmoid(beta)
    thresholds = -torch.sigmoid(asd.beta).view(1, 3, 1, 1)
    assert torch.equal(_sign(shifted), _sign(a - thresholds))
    assert torch.allclose(asd(torch.randn(5, 3))[:, 0] * 0, torch.zeros(5))  # FC shapes work


def test_asd_dynamic_is_se_shift_per_image():
    asd = ASDDynamic(32, reduction=16)
    assert asd.squeeze.weight.shape == (2, 32) and asd.excite.weight.shape == (32, 2)
    assert asd.squeeze.bias is None and asd.excite.bias is None
    a = torch.randn(3, 32, 5, 5)
    w1, w2 = asd.squeeze.weight, asd.excite.weight
    se = torch.sigmoid(torch.relu(a.mean(dim=(2, 3)) @ w1.T) @ w2.T)
    out = asd(a)
    assert torch.allclose(out, a + se.view(3, 32, 1, 1), atol=1e-6)
    # per-image: changing image 1 does not change image 0's output
    b = a.clone()
    b[1] += 3.0
    assert torch.equal(asd(b)[0], out[0]) and not torch.allclose(asd(b)[1], out[1])


def test_make_asd_kinds():
    assert isinstance(make_asd("none", 4), torch.nn.Identity)
    assert isinstance(make_asd("static", 4), ASDStatic)
    assert isinstance(make_asd("dynamic", 4), ASDDynamic)
    with pytest.raises(ValueError, match="unknown ASD kind"):
        make_asd("sometimes", 4)
