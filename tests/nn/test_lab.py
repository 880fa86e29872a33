# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LAB: inference equals sign(ΔK ⊛ x + Δb), integer form, soft-argmax gradient."""
import torch
import torch.nn.functional as F

from pynq_bnn.nn.lab import LearnableActivationBinarizer, soft_argmax_sign


def _trained_like_lab(channels=5, seed=0):
    torch.manual_seed(seed)
    lab = LearnableActivationBinarizer(channels)
    with torch.no_grad():
        for p in (lab.conv.weight, lab.conv.weight_neg):
            p.normal_(0, 0.7)
        lab.conv.bias.normal_(0, 0.5)
        lab.conv.bias_neg.normal_(0, 0.5)
    return lab


def _pm1(*shape):
    return torch.where(torch.rand(*shape) < 0.5, -1.0, 1.0)


def test_inference_is_sign_of_difference_conv():
    lab = _trained_like_lab().eval()
    x = _pm1(3, 5, 7, 7)
    dk = lab.conv.quantized_kernel()
    d = F.conv2d(x, dk, None, padding=1, groups=5) + lab.conv.difference_bias().view(1, -1, 1, 1)
    expected = torch.where(d >= 0, 1.0, -1.0)
    out = lab(x)
    assert torch.equal(out, expected)
    assert torch.equal(lab.train()(x), expected)  # training forward has the same values


def test_argmax_of_the_kernel_pair_matches():
    lab = _trained_like_lab().eval()
    x = _pm1(2, 5, 6, 6)
    beta = lab.beta
    # two-kernel argmax with the float pair (unquantized) agrees with sign of the float difference
    z1 = beta * (F.conv2d(x, lab.conv.weight, lab.conv.bias, padding=1, groups=5))
    z0 = beta * (F.conv2d(x, lab.conv.weight_neg, lab.conv.bias_neg, padding=1, groups=5))
    d = F.conv2d(x, lab.conv.difference_kernel(), lab.conv.difference_bias(), padding=1, groups=5)
    assert torch.equal(z1 >= z0, (d >= 0) | torch.isclose(z1, z0))


def test_integer_form_is_bit_exact():
    lab = _trained_like_lab(channels=4, seed=3).eval()
    k_int, thresholds, scale = lab.integer_form()
    assert scale > 0 and abs(torch.log2(torch.tensor(scale)) % 1) < 1e-9  # power of two
    assert k_int.abs().max() <= 127
    x = _pm1(4, 4, 5, 5)
    acc = F.conv2d(x.double(), k_int.double(), None, padding=1, groups=4)
    expected = torch.where(acc >= thresholds.view(1, -1, 1, 1), 1.0, -1.0).float()
    assert torch.equal(lab(x), expected)


def test_identity_initialization_rebinarizes_input():
    lab = LearnableActivationBinarizer(3).eval()
    x = _pm1(2, 3, 4, 4)
    assert torch.equal(lab(x), x)


def test_soft_argmax_gradient():
    d = torch.tensor([-3.0, -0.5, 0.0, 0.4, 2.0], requires_grad=True)
    beta = torch.tensor(1.7, requires_grad=True)
    y = soft_argmax_sign(d, beta)
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    g = torch.randn(5)
    (y * g).sum().backward()
    d2 = d.detach().clone().requires_grad_(True)
    b2 = beta.detach().clone().requires_grad_(True)
    (torch.tanh(b2 * d2 / 2) * g).sum().backward()
    assert torch.allclose(d.grad, d2.grad) and torch.allclose(beta.grad, b2.grad)


def test_lab_trains_its_kernels_and_beta():
    lab = LearnableActivationBinarizer(2).train()
    lab(_pm1(2, 2, 4, 4)).sum().backward()
    assert lab.conv.weight.grad.abs().sum() > 0 and lab.log_beta.grad is not None
    assert torch.equal(lab.conv.weight.grad, -lab.conv.weight_neg.grad)
