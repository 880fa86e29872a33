# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Each streaming template, compiled with g++ in a one-layer harness, against a numpy oracle.

The oracles here are deliberately tiny and independent of the HW layer classes (they state the
contract of CONTRACT.md); the layer classes' own ``reference()`` is compared in
``test_layers_csim.py``.
"""
import numpy as np
import pytest

from pynq_bnn.compiler.hls.csim import StreamSpec, csim_layer
from pynq_bnn.compiler.hls.params import thresholds_cpp, weights_cpp

pytestmark = pytest.mark.filterwarnings("ignore")


def _bits(rng, *shape):
    return rng.integers(0, 2, size=shape)


def test_mvau_binary_thresholds_with_neg():
    rng = np.random.default_rng(1)
    mw, mh, simd, pe, pix, n = 12, 8, 4, 2, 3, 4
    w = rng.choice([-1, 1], size=(mh, mw))
    x = _bits(rng, n, pix, mw)
    thr = rng.integers(-4, 5, size=(mh, 1))
    neg = rng.random(mh) > 0.5
    params = weights_cpp("L_m", w, pe, simd) + thresholds_cpp("L_m", thr, pe, neg)
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, {pe}, {pix}, bnn::BIPOLAR, 1, bnn::BIPOLAR, 1, "
            "ap_int<16>, 1>(${in0}, ${out}, L_m_w, L_m_act, ${reps});")
    got = csim_layer(["bnn/mvau.hpp"], params, call, [StreamSpec(simd, 1, pix * mw)],
                     StreamSpec(pe, 1, pix * mh), [x.reshape(n, -1)])
    acc = np.einsum("npk,ok->npo", 2 * x - 1, w)
    want = (np.where(neg, -acc, acc) >= thr[:, 0]).astype(int)
    np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_mvau_uint8_input_multithreshold_and_int8_raw_acc():
    rng = np.random.default_rng(2)
    mw, mh, simd, pe, pix, n = 9, 4, 3, 4, 2, 3
    w = rng.choice([-1, 1], size=(mh, mw))
    x = rng.integers(0, 256, size=(n, pix, mw))
    thr = np.sort(rng.integers(-900, 900, size=(mh, 3)), axis=1)
    params = weights_cpp("L_a", w, pe, simd) + thresholds_cpp("L_a", thr, pe, out_bias=-2)
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, {pe}, {pix}, bnn::UINT, 8, bnn::BIPOLAR, 1, "
            "ap_int<20>, 2>(${in0}, ${out}, L_a_w, L_a_act, ${reps});")
    got = csim_layer(["bnn/mvau.hpp"], params, call, [StreamSpec(simd * 8, 8, pix * mw)],
                     StreamSpec(pe * 2, 2, pix * mh, signed=True), [x.reshape(n, -1)])
    acc = np.einsum("npk,ok->npo", x, w)
    want = -2 + (acc[..., None] >= thr[None, None]).sum(-1)
    np.testing.assert_array_equal(got.reshape(want.shape), want)

    w8 = rng.integers(-128, 128, size=(mh, mw))
    xb = _bits(rng, n, 1, mw)
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, 2, 1, bnn::BIPOLAR, 1, bnn::INT, 8, ap_int<16>, 16>"
            "(${in0}, ${out}, L_b_w, bnn::PassThrough(), ${reps});")
    got = csim_layer(["bnn/mvau.hpp"], weights_cpp("L_b", w8, 2, simd, "INT", 8), call,
                     [StreamSpec(simd, 1, mw)], StreamSpec(32, 16, mh, signed=True),
                     [xb.reshape(n, -1)])
    np.testing.assert_array_equal(got, (2 * xb[:, 0] - 1) @ w8.T)


def test_label_select_topk_ties_go_to_lower_index():
    rng = np.random.default_rng(3)
    n, labels, pe, k = 6, 10, 2, 3
    x = rng.integers(-3, 3, size=(n, labels))  # many ties
    call = (f"bnn::label_select<{labels}, {pe}, {k}, bnn::INT, 8, 8>(${{in0}}, ${{out}}, "
            "${reps});")
    got = csim_layer(["bnn/label_select.hpp"], "", call, [StreamSpec(pe * 8, 8, labels)],
                     StreamSpec(8, 8, k), [x])
    want = np.argsort(-x, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 0), (3, 2, 1)])
def test_sliding_window_order_and_padding(k, stride, pad):
    rng = np.random.default_rng(4)
    n, ih, iw, ch, simd = 2, 5, 6, 4, 2
    x = rng.integers(0, 4, size=(n, ih, iw, ch))
    call = (f"bnn::sliding_window<{k}, {stride}, {pad}, {ih}, {iw}, {ch}, {simd}, 2, 3>"
            "(${in0}, ${out}, ${reps});")
    oh, ow = (ih + 2 * pad - k) // stride + 1, (iw + 2 * pad - k) // stride + 1
    got = csim_layer(["bnn/sliding_window.hpp"], "", call, [StreamSpec(simd * 2, 2, ih * iw * ch)],
                     StreamSpec(simd * 2, 2, oh * ow * k * k * ch), [x.reshape(n, -1)])
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=3)
    want = np.stack([padded[:, oy * stride:oy * stride + k, ox * stride:ox * stride + k, :]
                     for oy in range(oh) for ox in range(ow)], axis=1)
    np.testing.assert_array_equal(got, want.reshape(n, -1))


def test_max_pool_bipolar_and_int_floor_mode():
    rng = np.random.default_rng(5)
    n, ih, iw, ch, pe = 2, 5, 4, 4, 2
    for kind, bits, lo, hi in (("BIPOLAR", 1, 0, 2), ("INT", 4, -8, 8)):
        x = rng.integers(lo, hi, size=(n, ih, iw, ch))
        call = (f"bnn::max_pool<2, {ih}, {iw}, {ch}, {pe}, bnn::{kind}, {bits}>"
                "(${in0}, ${out}, ${reps});")
        got = csim_layer(["bnn/pool.hpp"], "", call, [StreamSpec(pe * bits, bits, ih * iw * ch)],
                         StreamSpec(pe * bits, bits, 2 * 2 * ch, signed=kind == "INT"),
                         [x.reshape(n, -1)])
        want = x[:, :4, :4].reshape(n, 2, 2, 2, 2, ch).max(axis=(2, 4))
        np.testing.assert_array_equal(got, want.reshape(n, -1))


@pytest.mark.parametrize("in_w,out_w,count", [(64, 24, 40), (6, 64, 33), (16, 16, 8)])
def test_resize_repacks_bits_exactly(in_w, out_w, count):
    rng = np.random.default_rng(6)
    n, bits = 3, 2
    x = rng.integers(0, 4, size=(n, count))
    in_words = -(-count * bits // in_w)
    out_words = -(-count * bits // out_w)
    call = f"bnn::resize<{in_w}, {out_w}, {in_words}, {out_words}>(${{in0}}, ${{out}}, ${{reps}});"
    got = csim_layer(["bnn/streams.hpp"], "", call, [StreamSpec(in_w, bits, count)],
                     StreamSpec(out_w, bits, count), [x])
    np.testing.assert_array_equal(got, x)
