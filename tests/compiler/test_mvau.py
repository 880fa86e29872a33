# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""MVAU: bit-exact reference in all modes, folding rules, cycles, estimates."""
import numpy as np
import pytest

from pynq_bnn.compiler.hw.base import decode_values
from pynq_bnn.compiler.hw.mvau import MVAU


def mvau(weights, in_type, weight_type, in_shape, thresholds=None, neg=None, **kw):
    mh, mw = weights.shape
    params = {"weights": weights}
    attrs = dict(MW=mw, MH=mh, in_shape=list(in_shape), in_type=in_type, weight_type=weight_type)
    if thresholds is None:
        attrs["out_type"] = "INT32"
    else:
        params.update(thresholds=thresholds, neg=neg if neg is not None else
                      np.zeros(mh, np.uint8))
        attrs.update(num_thresholds=thresholds.shape[1])
        attrs.setdefault("out_type", "BIPOLAR")
    attrs.update(kw)
    return MVAU("mvau", ["in"], "out", params, **attrs)


def test_binary_mode_is_xnor_popcount():
    rng = np.random.default_rng(0)
    mw, mh = 64, 8
    w_bits = rng.integers(0, 2, (mh, mw))
    x_bits = rng.integers(0, 2, (5, mw)).astype(np.uint8)
    layer = mvau(2 * w_bits - 1, "BIPOLAR", "BIPOLAR", (mw,))
    acc = layer.reference(x_bits)
    xnor = (x_bits[:, None, :] == w_bits[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(acc, 2 * xnor - mw)


def test_uint8_input_binary_weights_and_pixels():
    rng = np.random.default_rng(1)
    w = rng.choice([-1, 1], (4, 27))
    x = rng.integers(0, 256, (2, 3, 3, 27)).astype(np.uint8)
    acc = mvau(w, "UINT8", "BIPOLAR", (3, 3, 27)).reference(x)
    assert acc.shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(acc, x.astype(np.int64) @ w.T)


def test_int8_weights_on_bipolar_input():
    rng = np.random.default_rng(2)
    w = rng.integers(-128, 128, (10, 512)).astype(np.int8)
    x = rng.integers(0, 2, (3, 512)).astype(np.uint8)
    acc = mvau(w, "BIPOLAR", "INT8", (512,)).reference(x)
    np.testing.assert_array_equal(acc, decode_values(x, mvau(w, "BIPOLAR", "INT8", (512,))
                                                     .in_types()[0]) @ w.astype(np.int64).T)


def test_thresholds_with_negated_channels_and_multibit_codes():
    w = np.array([[1, 1, 1, 1], [1, -1, 1, -1]])
    x = np.array([[1, 1, 1, 0]], np.uint8)  # decoded [1, 1, 1, -1]: acc = [2, 2]
    single = mvau(w, "BIPOLAR", "BIPOLAR", (4,), np.array([[2], [1]]),
                  neg=np.array([0, 1], np.uint8))
    assert single.reference(x).tolist() == [[1, 0]]   # 2 >= 2; -2 >= 1 is false
    multi = mvau(w, "BIPOLAR", "BIPOLAR", (4,), np.array([[-2, 0, 2], [-1, 0, 1]]),
                 out_type="INT2", out_bias=-2)
    assert multi.reference(x).tolist() == [[1, 1]]    # counts 3 and 3, minus 2
    x2 = np.array([[0, 0, 1, 1]], np.uint8)  # decoded [-1, -1, 1, 1]: acc = [0, 0]
    assert multi.reference(x2).tolist() == [[0, 0]]   # counts 2 and 2, minus 2


def test_float64_fallback_beyond_float32_exact_range():
    w = np.full((1, 600), 127, np.int8)
    layer = mvau(w, "INT32", "INT8", (600,))
    x = np.full((1, 600), 2 ** 20 + 1, np.int64)
    assert layer.acc_bound() > 2 ** 24
    assert layer.reference(x)[0, 0] == 600 * 127 * (2 ** 20 + 1)


def test_folding_cycles_and_resources():
    layer = mvau(np.ones((64, 576), np.int8), "BIPOLAR", "BIPOLAR", (28, 28, 576),
                 np.zeros((64, 1), np.int64), PE=16, SIMD=32)
    assert layer.check_folding() == []
    assert layer.cycles() == (64 // 16) * (576 // 32) * 28 * 28
    assert 16 in layer.folding_space()["PE"] and 576 in layer.folding_space()["SIMD"]
    bad = mvau(np.ones((10, 6), np.int8), "BIPOLAR", "BIPOLAR", (6,), PE=3, SIMD=4)
    issues = bad.check_folding()
    assert any("MH (10) % PE (3)" in i for i in issues)
    assert any("MW (6) % SIMD (4)" in i for i in issues)
    res = layer.resources()
    assert res.lut > 0 and res.bram18 + res.lut > 0


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="must end with MW"):
        mvau(np.ones((2, 4), np.int8), "BIPOLAR", "BIPOLAR", (5,))
    with pytest.raises(ValueError, match=r"expected \(MH, MW\)"):
        MVAU("m", ["a"], "b", {"weights": np.ones((4, 2))}, MW=4, MH=2, in_shape=[4],
             in_type="BIPOLAR", weight_type="BIPOLAR", out_type="INT4")


@pytest.mark.parametrize("in_type,stride,pad,mh,n_thr", [
    ("BIPOLAR", 1, 0, 8, 1), ("BIPOLAR", 1, 1, 7, 1), ("BIPOLAR", 2, 1, 6, 3),
    ("UINT8", 1, 0, 5, 1), ("INT4", 2, 1, 4, 0), ("FRAC2", 1, 1, 5, 1), ("BIPOLAR", 1, 0, 3, 0)])
def test_conv_reference_equals_window_then_reference(in_type, stride, pad, mh, n_thr):
    """The fused conv path (decoded input, blocked, sign-folded, channel-packed) is bit-exact."""
    from pynq_bnn.compiler.hw.sliding_window import SlidingWindow

    rng = np.random.default_rng(mh + 10 * n_thr)
    c = 16
    high = {"BIPOLAR": 2, "UINT8": 256, "INT4": 8, "FRAC2": 4}[in_type]
    x = rng.integers(-8 if in_type == "INT4" else 0, high, (5, 7, 6, c))
    swu = SlidingWindow("swu", ["x"], "win", ifm_dim=[7, 6], channels=c, kernel=[3, 3],
                        stride=[stride, stride], pad=[pad] * 4, in_type=in_type)
    win = swu.reference(x)
    w = rng.choice([-1, 1], (mh, 9 * c)).astype(np.int8)
    thresholds = None
    if n_thr:
        thresholds = np.sort(rng.integers(-20, 21, (mh, n_thr)), axis=1)
        thresholds[0] = 10 ** 9  # never fires: beyond float32's exact range on purpose
    neg = (np.arange(mh) % 2).astype(np.uint8)
    kw = {} if n_thr < 2 else {"out_type": "UINT2"}
    layer = mvau(w, swu.out_type().name, "BIPOLAR", win.shape[1:], thresholds, neg, **kw)
    expect = layer.reference(win)
    for block_mb in (0.001, 1.0):
        got = layer.conv_reference(swu, x, block_mb=block_mb)
        np.testing.assert_array_equal(got, expect)
        assert got.dtype == expect.dtype and got.shape == expect.shape
    if n_thr:
        acc = decode_values(win, layer.in_types()[0]) @ w.astype(np.int64).T
        acc = np.where(neg.astype(bool), -acc, acc)
        count = (acc[..., None] >= thresholds[None, None, None]).sum(-1)
        np.testing.assert_array_equal(expect, count)


def test_packing_shift_only_where_two_sums_fit_float32():
    assert mvau(np.ones((64, 576), np.int8), "BIPOLAR", "BIPOLAR", (576,)).packing_shift() == 11
    assert mvau(np.ones((8, 1152), np.int8), "BIPOLAR", "BIPOLAR", (1152,)).packing_shift() == 12
    assert mvau(np.ones((8, 2304), np.int8), "BIPOLAR", "BIPOLAR", (2304,)).packing_shift() == 0
    assert mvau(np.ones((8, 27), np.int8), "UINT8", "BIPOLAR", (27,)).packing_shift() == 0
    assert mvau(np.ones((1, 64), np.int8), "BIPOLAR", "BIPOLAR", (64,)).packing_shift() == 0
