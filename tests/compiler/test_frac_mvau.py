# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""FracMVAU: integer reference vs an independent float64 torch model of FracBNN's gated conv."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pynq_bnn.compiler.hw.frac_mvau import FracMVAU, frac2_planes


def _layer(weights_bits, c_in, c_out, dim, k=3, pad=1, stride=1, **kw):
    weights = 2 * np.asarray(weights_bits) - 1  # bits -> decoded ±1 values
    return FracMVAU("frac", ["x"], "y", {"weights": weights, **kw.pop("params", {})},
                    IFM_DIM=list(dim), IFM_CH=c_in, OFM_CH=c_out, K=k, PAD=pad, STRIDE=stride, **kw)


def _torch_weights(bits, c_out, c_in, k):
    """(MH, k*k*C) bits in (kh, kw, c) order -> OIHW ±1 float64."""
    w = torch.tensor(2.0 * bits - 1, dtype=torch.float64)
    return w.view(c_out, k, k, c_in).permute(0, 3, 1, 2)


def _gated_conv_float(codes, w, delta, stride, pad):
    """FracBNN's forward in float64: y = out_msb + [out_msb > delta] * (1/3) conv(s_L)."""
    msb, lsb = (torch.tensor(p, dtype=torch.float64).permute(0, 3, 1, 2)
                for p in frac2_planes(codes))
    out_msb = (2 / 3) * F.conv2d(msb, w, stride=stride, padding=pad)
    out_lsb = (1 / 3) * F.conv2d(lsb, w, stride=stride, padding=pad)
    mask = out_msb > torch.tensor(delta, dtype=torch.float64).view(1, -1, 1, 1)
    return (out_msb + mask * out_lsb).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("dim,c_in,c_out,k,pad,stride", [((8, 8), 4, 6, 3, 1, 1),
                                                         ((7, 9), 3, 4, 3, 1, 2),
                                                         ((5, 5), 2, 8, 1, 0, 1)])
def test_gated_accumulator_matches_float_fracbnn(dim, c_in, c_out, k, pad, stride):
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(c_out, k * k * c_in))
    delta = rng.uniform(-3, 3, size=c_out) + 0.01  # away from the (2/3)·integer grid
    gate = np.floor(1.5 * delta).astype(np.int64) + 1  # (2/3) m > delta  <=>  m >= gate
    layer = _layer(bits, c_in, c_out, dim, k, pad, stride, params={"gate": gate})
    codes = rng.integers(0, 4, size=(3,) + dim + (c_in,))
    acc = layer.reference(codes)
    expect = 3 * _gated_conv_float(codes, _torch_weights(bits, c_out, c_in, k), delta, stride, pad)
    np.testing.assert_allclose(acc, expect, atol=1e-9)
    assert acc.dtype == np.int64 and acc.shape == (3,) + layer.out_shape()
    frac = layer.lsb_fraction(codes)
    assert 0.0 < frac < 1.0  # the gate really splits the outputs


def test_bipolar_padded_conv_matches_zero_padded_torch_conv():
    """Thermometer first layer: 96 binary channels, 3x3, pad 1 (padded taps add 0)."""
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2, size=(16, 9 * 96))
    layer = _layer(bits, 96, 16, (6, 6), in_dtype="BIPOLAR")
    x = rng.integers(0, 2, size=(2, 6, 6, 96))
    xt = torch.tensor(2.0 * x - 1, dtype=torch.float64).permute(0, 3, 1, 2)
    expect = F.conv2d(xt, _torch_weights(bits, 16, 96, 3), padding=1).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(layer.reference(x), expect.astype(np.int64))
    assert layer.out_type().name == "INT11"  # |acc| <= 864


def test_thresholds_mode_and_fc_shapes():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, size=(5, 12))
    thr = np.sort(rng.integers(-20, 20, size=(5, 3)), axis=1)
    fc = _layer(bits, 12, 5, (1, 1), k=1, pad=0, OUT_MODE="thresholds", out_dtype="FRAC2",
                params={"thresholds": thr})
    assert fc.in_shapes() == [(12,)] and fc.out_shape() == (5,)
    codes = rng.integers(0, 4, size=(10, 12))
    acc = _layer(bits, 12, 5, (1, 1), k=1, pad=0).reference(codes)
    expect = (acc[..., None] >= thr[None]).sum(-1)
    np.testing.assert_array_equal(fc.reference(codes), expect)
    assert fc.out_type().name == "FRAC2"


def test_folding_cycles_and_resources():
    layer = _layer(np.zeros((32, 9 * 16), dtype=int), 16, 32, (16, 16), PE=8, SIMD=16)
    assert layer.check_folding() == []
    assert layer.cycles() == (32 // 8) * (144 // 16) * 256
    assert 144 in layer.folding_space()["SIMD"] and 32 in layer.folding_space()["PE"]
    bad = _layer(np.zeros((32, 144), dtype=int), 16, 32, (16, 16), PE=5, SIMD=7)
    assert len(bad.check_folding()) == 2
    wide = _layer(np.zeros((32, 144), dtype=int), 16, 32, (16, 16), PE=8, SIMD=16).resources(None)
    narrow = _layer(np.zeros((32, 144), dtype=int), 16, 32, (16, 16), PE=1, SIMD=1).resources(None)
    assert wide.lut > narrow.lut > 0
    binary = _layer(np.zeros((32, 144), dtype=int), 16, 32, (16, 16), in_dtype="BIPOLAR",
                    PE=8, SIMD=16).resources(None)
    assert binary.lut < wide.lut  # one plane, no gate


def test_bad_inputs_raise_clear_errors():
    layer = _layer(np.zeros((4, 10), dtype=int), 2, 4, (3, 3))
    with pytest.raises(ValueError, match="weights must be"):
        layer.reference(np.zeros((1, 3, 3, 2), dtype=int))
    zero_weights = _layer(np.zeros((4, 18), dtype=int), 2, 4, (3, 3))
    zero_weights.params["weights"] = np.zeros((4, 18), dtype=int)
    with pytest.raises(ValueError, match="-1/\\+1"):
        zero_weights.reference(np.zeros((1, 3, 3, 2), dtype=int))
    with pytest.raises(ValueError, match="0..3"):
        frac2_planes(np.array([4]))
    assert math.isclose(_layer(np.zeros((4, 18), dtype=int), 2, 4, (3, 3)).lsb_fraction(
        np.zeros((1, 3, 3, 2), dtype=int)), 1.0)
