# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""SlidingWindow + MVAU equals an integer convolution (stride, padding, ±1 zero padding)."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.hw.base import decode_values
from pynq_bnn.compiler.hw.mvau import MVAU
from pynq_bnn.compiler.hw.sliding_window import SlidingWindow


def conv_via_layers(x, w, in_type, stride, pad):
    n, h, wd, c = x.shape
    oc, _, kh, kw = w.shape
    swu = SlidingWindow("swu", ["x"], "win", ifm_dim=[h, wd], channels=c, kernel=[kh, kw],
                        stride=[stride, stride], pad=[pad] * 4, in_type=in_type)
    win = swu.reference(x)
    matrix = w.transpose(0, 2, 3, 1).reshape(oc, -1)
    mvau = MVAU("m", ["win"], "acc", {"weights": matrix}, MW=matrix.shape[1], MH=oc,
                in_shape=list(win.shape[1:]), in_type=swu.out_type().name,
                weight_type="BIPOLAR", out_type="INT32")
    return swu, mvau.reference(win)


@pytest.mark.parametrize("in_type,stride,pad", [("UINT8", 1, 0), ("BIPOLAR", 1, 1),
                                                ("BIPOLAR", 2, 1), ("INT4", 2, 0)])
def test_window_then_mvau_is_the_convolution(in_type, stride, pad):
    rng = np.random.default_rng(0)
    high = 2 if in_type == "BIPOLAR" else (256 if in_type == "UINT8" else 8)
    low = -8 if in_type == "INT4" else 0
    x = rng.integers(low, high, (2, 7, 6, 3))
    w = rng.choice([-1, 1], (4, 3, 3, 3))
    swu, acc = conv_via_layers(x, w, in_type, stride, pad)
    values = decode_values(x, swu.in_types()[0])
    nchw = torch.tensor(values.transpose(0, 3, 1, 2), dtype=torch.float64)
    ref = torch.nn.functional.conv2d(nchw,
                                     torch.tensor(w, dtype=torch.float64), stride=stride,
                                     padding=pad)
    np.testing.assert_array_equal(acc, ref.numpy().transpose(0, 2, 3, 1).astype(np.int64))
    assert swu.out_shape() == acc.shape[1:3] + (27,)


def test_padded_bipolar_window_is_ternary():
    swu = SlidingWindow("s", ["x"], "y", ifm_dim=[2, 2], channels=1, kernel=[3, 3], pad=[1] * 4,
                        in_type="BIPOLAR")
    assert swu.out_type().name == "INT2"
    win = swu.reference(np.ones((1, 2, 2, 1), np.uint8))
    assert win[0, 0, 0].tolist() == [0, 0, 0, 0, 1, 1, 0, 1, 1]


def test_window_order_is_ky_kx_channel():
    x = np.arange(2 * 2 * 2).reshape(1, 2, 2, 2)
    swu = SlidingWindow("s", ["x"], "y", ifm_dim=[2, 2], channels=2, kernel=[2, 2],
                        in_type="UINT8")
    assert swu.reference(x)[0, 0, 0].tolist() == list(range(8))


def test_folding_and_cycles():
    swu = SlidingWindow("s", ["x"], "y", ifm_dim=[32, 32], channels=3, kernel=[3, 3],
                        in_type="UINT8", SIMD=3)
    assert swu.check_folding() == [] and swu.folding_space() == {"SIMD": [1, 3]}
    assert swu.cycles() >= 30 * 30 * 9  # at least one cycle per emitted window word
    swu.attrs["SIMD"] = 2
    assert "SIMD (2)" in swu.check_folding()[0]
    assert swu.resources().lut > 0


@pytest.mark.parametrize("in_type,pad", [("BIPOLAR", 0), ("BIPOLAR", 1), ("FRAC2", 1),
                                         ("UINT8", 1), ("INT4", 0)])
def test_windows_of_decoded_input_are_the_decoded_window_stream(in_type, pad):
    """The fused path's window values equal the reference window stream as the MVAU reads it."""
    rng = np.random.default_rng(3)
    high = {"BIPOLAR": 2, "FRAC2": 4, "UINT8": 256, "INT4": 8}[in_type]
    x = rng.integers(-8 if in_type == "INT4" else 0, high, (3, 5, 6, 2))
    swu = SlidingWindow("s", ["x"], "y", ifm_dim=[5, 6], channels=2, kernel=[3, 2],
                        stride=[2, 1], pad=[pad, pad, 0, pad], in_type=in_type)
    values = swu.windows(swu.decoded_input(x, np.float32))
    stream = decode_values(swu.reference(x), swu.out_type())
    assert values.dtype == np.float32 and values.shape == stream.shape
    np.testing.assert_array_equal(values, stream)
