# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Thresholding HW layer and the shared multi-threshold helper."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynq_bnn.compiler.hw.thresholding import Thresholding, apply_thresholds


def brute_force(acc, thresholds, neg, out_bias):
    out = np.zeros(acc.shape, dtype=np.int64)
    for idx in np.ndindex(acc.shape):
        c = idx[-1]
        v = -acc[idx] if neg[c] else acc[idx]
        out[idx] = out_bias + sum(int(v >= t) for t in thresholds[c])
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 20), st.integers(-3, 3), st.integers(0, 2 ** 31 - 1))
def test_apply_thresholds_matches_definition(channels, n, out_bias, seed):
    rng = np.random.default_rng(seed)
    thresholds = np.sort(rng.integers(-30, 30, size=(channels, n)), axis=1)
    neg = rng.integers(0, 2, size=channels).astype(np.uint8)
    acc = rng.integers(-40, 40, size=(6, channels))
    got = apply_thresholds(acc.astype(np.float32), thresholds, neg, out_bias)
    np.testing.assert_array_equal(got, brute_force(acc, thresholds, neg, out_bias))


def make_layer(**overrides):
    attrs = dict(shape=[4, 4, 2], in_type="UINT8", out_type="BIPOLAR", num_thresholds=1)
    attrs.update(overrides)
    params = {"thresholds": np.array([[128], [10]]), "neg": np.array([0, 1], np.uint8)}
    return Thresholding("thr", ["in"], "out", params, **attrs)


def test_reference_binarizes_pixels_per_channel():
    layer = make_layer()
    x = np.zeros((1, 4, 4, 2), np.uint8)
    x[0, 0, 0] = [128, 10]   # ch0: 128 >= 128 -> 1; ch1: -10 >= 10 -> 0
    x[0, 0, 1] = [127, 0]    # ch0: 0;  ch1: 0 >= 10 -> 0
    out = layer.reference(x)
    assert out.dtype == np.uint8
    assert out[0, 0, 0].tolist() == [1, 0] and out[0, 0, 1].tolist() == [0, 0]


def test_folding_rules_and_estimates():
    layer = make_layer(PE=2)
    assert layer.folding_space() == {"PE": [1, 2]}
    assert layer.check_folding() == []
    assert layer.cycles() == 16
    assert "PE (3)" in make_layer(PE=3).check_folding()[0]
    assert layer.resources().lut > 0


def test_rejects_unsorted_thresholds():
    with pytest.raises(ValueError, match="ascending"):
        Thresholding("t", ["a"], "b", {"thresholds": np.array([[3, 1]])}, shape=[1],
                     in_type="UINT8", out_type="UINT2", num_thresholds=2)
