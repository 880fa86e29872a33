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
