# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Each streaming template, compiled with g++, against a tiny independent numpy oracle.

All cases are compiled into ONE harness (one g++ run for the module, see ``csim_layers``); each
test then checks its own case. The oracles state the contract of CONTRACT.md; the layer classes'
own ``reference()`` is compared through whole graphs in ``test_project.py``.
"""
import numpy as np
import pytest

from pynq_bnn.compiler.hls.csim import LayerCase, StreamSpec, csim_layers
from pynq_bnn.compiler.hls.params import table_cpp, thresholds_cpp, weights_cpp

# One g++ compile of every case (about 10 s on an idle laptop, minutes on a loaded one).
pytestmark = pytest.mark.slow
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def mvau_binary():
    rng = np.random.default_rng(1)
    mw, mh, simd, pe, pix, n = 12, 8, 4, 2, 3, 4
    w = rng.choice([-1, 1], size=(mh, mw))
    x = rng.integers(0, 2, size=(n, pix, mw))
    thr = rng.integers(-4, 5, size=(mh, 1))
    neg = rng.random(mh) > 0.5
    params = weights_cpp("L_m", w, pe, simd) + thresholds_cpp("L_m", thr, pe, neg)
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, {pe}, {pix}, bnn::BIPOLAR, 1, bnn::BIPOLAR, 1, "
            "ap_int<16>, 1>(${in0}, ${out}, L_m_w, L_m_act, ${reps});")
    acc = np.einsum("npk,ok->npo", 2 * x - 1, w)
    want = (np.where(neg, -acc, acc) >= thr[:, 0]).astype(int)
    return (LayerCase(["bnn/mvau.hpp"], params, call, [StreamSpec(simd, 1, pix * mw)],
                      StreamSpec(pe, 1, pix * mh), [x.reshape(n, -1)]), want.reshape(n, -1))


@case
def mvau_uint8_multithreshold():
    rng = np.random.default_rng(2)
    mw, mh, simd, pe, pix, n = 9, 4, 3, 4, 2, 3
    w = rng.choice([-1, 1], size=(mh, mw))
    x = rng.integers(0, 256, size=(n, pix, mw))
    thr = np.sort(rng.integers(-900, 900, size=(mh, 3)), axis=1)
    params = weights_cpp("L_a", w, pe, simd) + thresholds_cpp("L_a", thr, pe, out_bias=-2)
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, {pe}, {pix}, bnn::UINT, 8, bnn::BIPOLAR, 1, "
            "ap_int<20>, 2>(${in0}, ${out}, L_a_w, L_a_act, ${reps});")
    acc = np.einsum("npk,ok->npo", x, w)
    want = -2 + (acc[..., None] >= thr[None, None]).sum(-1)
    return (LayerCase(["bnn/mvau.hpp"], params, call, [StreamSpec(simd * 8, 8, pix * mw)],
                      StreamSpec(pe * 2, 2, pix * mh, signed=True), [x.reshape(n, -1)]),
            want.reshape(n, -1))


@case
def mvau_int8_weights_raw_acc_wide_words():
    rng = np.random.default_rng(7)
    mw, mh, simd, pe, n = 20, 4, 10, 2, 3   # 80-bit weight words: two 64-bit chunks
    w8 = rng.integers(-128, 128, size=(mh, mw))
    xb = rng.integers(0, 2, size=(n, mw))
    call = (f"bnn::mvau<{mw}, {mh}, {simd}, {pe}, 1, bnn::BIPOLAR, 1, bnn::INT, 8, ap_int<16>, "
            "16>(${in0}, ${out}, L_b_w, bnn::PassThrough(), ${reps});")
    return (LayerCase(["bnn/mvau.hpp"], weights_cpp("L_b", w8, pe, simd, "INT", 8), call,
                      [StreamSpec(simd, 1, mw)], StreamSpec(pe * 16, 16, mh, signed=True), [xb]),
            (2 * xb - 1) @ w8.T)


@case
def threshold_lut():
    rng = np.random.default_rng(8)
    ch, pe, pix, n, lo, hi = 4, 2, 3, 2, -5, 6
    x = rng.integers(lo, hi + 1, size=(n, pix, ch))
    table = rng.integers(-8, 8, size=(ch, hi - lo + 1))      # non-monotone rows
    call = (f"bnn::threshold_stream<{ch}, {pe}, {pix}, bnn::INT, 4, 4>(${{in0}}, ${{out}}, "
            "L_t_act, ${reps});")
    want = table[np.arange(ch), x - lo]
    return (LayerCase(["bnn/activations.hpp"], table_cpp("L_t", table, lo, 4, True, pe), call,
                      [StreamSpec(pe * 4, 4, pix * ch)], StreamSpec(pe * 4, 4, pix * ch, True),
                      [x.reshape(n, -1)]), want.reshape(n, -1))


@case
def label_select_ties():
    rng = np.random.default_rng(3)
    n, labels, pe, k = 6, 10, 2, 3
    x = rng.integers(-3, 3, size=(n, labels))  # many ties: lower index first
    call = (f"bnn::label_select<{labels}, {pe}, {k}, bnn::INT, 8, 8>(${{in0}}, ${{out}}, "
            "${reps});")
    return (LayerCase(["bnn/label_select.hpp"], "", call, [StreamSpec(pe * 8, 8, labels)],
                      StreamSpec(8, 8, k), [x]), np.argsort(-x, axis=1, kind="stable")[:, :k])


def _window_case(k, stride, pad):
    rng = np.random.default_rng(4)
    n, ih, iw, ch, simd = 2, 5, 6, 4, 2
    x = rng.integers(0, 4, size=(n, ih, iw, ch))
    call = (f"bnn::sliding_window<{k}, {k}, {stride}, {stride}, {pad}, {pad}, {pad}, {pad}, "
            f"{ih}, {iw}, {ch}, {simd}, 2, 3>(${{in0}}, ${{out}}, ${{reps}});")
    oh, ow = (ih + 2 * pad - k) // stride + 1, (iw + 2 * pad - k) // stride + 1
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=3)
    want = np.stack([padded[:, oy * stride:oy * stride + k, ox * stride:ox * stride + k, :]
                     for oy in range(oh) for ox in range(ow)], axis=1)
    return (LayerCase(["bnn/sliding_window.hpp"], "", call,
                      [StreamSpec(simd * 2, 2, ih * iw * ch)],
                      StreamSpec(simd * 2, 2, oh * ow * k * k * ch), [x.reshape(n, -1)]),
            want.reshape(n, -1))


CASES["window_valid"] = lambda: _window_case(3, 1, 0)
CASES["window_pad_stride2"] = lambda: _window_case(3, 2, 1)


def _pool_case(kind, bits, lo, hi):
    rng = np.random.default_rng(5)
    n, ih, iw, ch, pe = 2, 5, 4, 4, 2
    x = rng.integers(lo, hi, size=(n, ih, iw, ch))
    call = (f"bnn::max_pool<2, 2, {ih}, {iw}, {ch}, {pe}, bnn::{kind}, {bits}>"
            "(${in0}, ${out}, ${reps});")
    want = x[:, :4, :4].reshape(n, 2, 2, 2, 2, ch).max(axis=(2, 4))
    return (LayerCase(["bnn/pool.hpp"], "", call, [StreamSpec(pe * bits, bits, ih * iw * ch)],
                      StreamSpec(pe * bits, bits, 2 * 2 * ch, signed=kind == "INT"),
                      [x.reshape(n, -1)]), want.reshape(n, -1))


CASES["maxpool_bipolar"] = lambda: _pool_case("BIPOLAR", 1, 0, 2)
CASES["maxpool_int_floor"] = lambda: _pool_case("INT", 4, -8, 8)


def _resize_case(in_w, out_w, count):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 4, size=(3, count))
    in_words, out_words = -(-count * 2 // in_w), -(-count * 2 // out_w)
    call = f"bnn::resize<{in_w}, {out_w}, {in_words}, {out_words}>(${{in0}}, ${{out}}, ${{reps}});"
    return (LayerCase(["bnn/streams.hpp"], "", call, [StreamSpec(in_w, 2, count)],
                      StreamSpec(out_w, 2, count), [x]), x)


CASES["resize_narrow"] = lambda: _resize_case(64, 24, 40)
CASES["resize_wide_padded"] = lambda: _resize_case(6, 64, 33)
CASES["resize_same"] = lambda: _resize_case(16, 16, 8)


def _arr_cpp(name, ctype, values):
    """A plain C array initializer for the test harness (nested braces)."""
    def braces(v):
        return "{" + ", ".join(braces(x) for x in v) + "}" if isinstance(v, list) else str(v)
    dims = "".join(f"[{d}]" for d in np.asarray(values).shape)
    return f"static const {ctype} {name}{dims} = {braces(np.asarray(values).tolist())};\n"


@case
def thermometer_and_bit_planes():
    rng = np.random.default_rng(9)
    n, pix, ch, nt = 2, 5, 3, 4
    x = rng.integers(0, 256, size=(n, pix, ch))
    x[0, 0] = [0, 255, 128]
    thr = np.sort(rng.integers(0, 257, size=(ch, nt)), axis=1)
    call = (f"bnn::thermometer<{ch}, {nt}, {pix}>(${{in0}}, ${{out}}, L_th_thr, ${{reps}});")
    want = (x[..., :, None] >= thr[None, None]).reshape(n, pix, ch * nt)
    return (LayerCase(["bnn/input_encode.hpp"], _arr_cpp("L_th_thr", "int", thr), call,
                      [StreamSpec(ch * 8, 8, pix * ch)], StreamSpec(ch * nt, 1, pix * ch * nt),
                      [x.reshape(n, -1)]), want.reshape(n, -1))


@case
def bit_planes():
    rng = np.random.default_rng(10)
    n, pix, ch = 2, 4, 3
    x = rng.integers(0, 256, size=(n, pix, ch))
    want = (x[..., None] >> np.arange(8)) & 1
    call = f"bnn::bit_planes<{ch}, {pix}>(${{in0}}, ${{out}}, ${{reps}});"
    return (LayerCase(["bnn/input_encode.hpp"], "", call, [StreamSpec(ch * 8, 8, pix * ch)],
                      StreamSpec(ch * 8, 1, pix * ch * 8), [x.reshape(n, -1)]),
            want.reshape(n, -1))


@case
def residual_add_shift_saturate():
    rng = np.random.default_rng(11)
    n, pix, ch, pe = 3, 4, 4, 2
    a = rng.integers(-128, 128, size=(n, pix * ch))
    b = rng.integers(-32, 32, size=(n, pix * ch))
    call = (f"bnn::add_streams<{ch}, {pe}, {pix}, bnn::INT, 8, bnn::INT, 6, 9, 0, 2>"
            "(${in0}, ${in1}, ${out}, ${reps});")
    want = np.clip(a + (b << 2), -256, 255)
    return (LayerCase(["bnn/elementwise.hpp"], "", call,
                      [StreamSpec(pe * 8, 8, pix * ch, True), StreamSpec(pe * 6, 6, pix * ch, True)],
                      StreamSpec(pe * 9, 9, pix * ch, True), [a, b]), want)


@case
def channel_map_requantize():
    rng = np.random.default_rng(12)
    n, pix, ch_in, ch_out = 2, 3, 4, 8
    x = rng.integers(-20, 20, size=(n, pix, ch_in))
    src = np.repeat(np.arange(ch_in), 2)                 # RepConv-style duplication
    thr = np.sort(rng.integers(-20, 20, size=(ch_out, 3)), axis=1)
    neg = rng.random(ch_out) > 0.5
    params = _arr_cpp("L_cm_src", "unsigned short", src) + thresholds_cpp("L_cm", thr, 4, neg)
    call = (f"bnn::channel_map_activate<{ch_in}, 2, {ch_out}, 4, {pix}, bnn::INT, 6, 2>"
            "(${in0}, ${out}, L_cm_src, L_cm_act, ${reps});")
    v = x[..., src]
    v = np.where(neg, -v, v)
    want = (v[..., None] >= thr).sum(-1)
    return (LayerCase(["bnn/activations.hpp"], params, call, [StreamSpec(12, 6, pix * ch_in, True)],
                      StreamSpec(8, 2, pix * ch_out), [x.reshape(n, -1)]), want.reshape(n, -1))


@case
def frac_mvau_gate_and_padding():
    rng = np.random.default_rng(13)
    mw, mh, simd, pe, pix, n = 12, 4, 4, 2, 3, 3
    w = rng.choice([-1, 1], size=(mh, mw))
    codes = rng.integers(0, 4, size=(n, pix, mw))
    valid = rng.random((n, pix, mw)) > 0.2               # padded taps contribute 0
    gate = rng.integers(-4, 5, size=mh)
    sm, sl = (2 * (codes >> 1) - 1) * valid, (2 * (codes & 1) - 1) * valid
    m, l = sm @ w.T, sl @ w.T
    want = 2 * m + np.where(m >= gate, l, 0)
    lanes = codes | (valid.astype(int) << 2)
    params = (weights_cpp("L_f", w, pe, simd)
              + _arr_cpp("L_f_gate", "int", gate.reshape(mh // pe, pe).T))
    call = (f"bnn::frac_mvau<{mw}, {mh}, {simd}, {pe}, {pix}, 2, 1, ap_int<12>, 10>"
            "(${in0}, ${out}, L_f_w, L_f_gate, bnn::PassThrough(), ${reps});")
    return (LayerCase(["bnn/frac_mvau.hpp"], params, call, [StreamSpec(simd * 3, 3, pix * mw)],
                      StreamSpec(pe * 10, 10, pix * mh, True), [lanes.reshape(n, -1)]),
            want.reshape(n, -1))


@case
def lab_depthwise_mac():
    rng = np.random.default_rng(14)
    n, pix, k2, ch, pe = 2, 3, 9, 4, 2
    x = rng.integers(-1, 2, size=(n, pix, k2, ch))          # INT2 window taps (-1, 0, +1)
    w = rng.integers(-128, 128, size=(ch, k2))
    thr = rng.integers(-100, 100, size=(ch, 1))
    acc = np.einsum("nptc,ct->npc", x, w)
    want = (acc >= thr[:, 0]).astype(int)
    wt = w.reshape(ch // pe, pe, k2).transpose(1, 0, 2)
    params = _arr_cpp("L_lab_w", "int", wt) + thresholds_cpp("L_lab", thr, pe)
    call = (f"bnn::depthwise_mac<{k2}, {ch}, {pe}, {pix}, bnn::INT, 2, 1>"
            "(${in0}, ${out}, L_lab_w, L_lab_act, ${reps});")
    return (LayerCase(["bnn/vvau.hpp"], params, call, [StreamSpec(pe * 2, 2, pix * k2 * ch, True)],
                      StreamSpec(pe, 1, pix * ch), [x.reshape(n, -1)]), want.reshape(n, -1))


@case
def sum_pool_and_widen():
    rng = np.random.default_rng(15)
    n, ih, iw, ch, pe = 2, 4, 4, 2, 2
    x = rng.integers(0, 2, size=(n, ih, iw, ch))            # BIPOLAR bits -> ±1 sums
    call = (f"bnn::sum_pool<2, 2, {ih}, {iw}, {ch}, {pe}, bnn::BIPOLAR, 1, 4>"
            "(${in0}, ${out}, ${reps});")
    want = (2 * x - 1).reshape(n, 2, 2, 2, 2, ch).sum(axis=(2, 4))
    return (LayerCase(["bnn/pool.hpp"], "", call, [StreamSpec(pe, 1, ih * iw * ch)],
                      StreamSpec(pe * 4, 4, 2 * 2 * ch, True), [x.reshape(n, -1)]),
            want.reshape(n, -1))


@pytest.fixture(scope="module")
def results():
    built = {name: make() for name, make in CASES.items()}
    outputs = csim_layers([c for c, _ in built.values()])
    return {name: (out, want) for (name, (_, want)), out in zip(built.items(), outputs)}


@pytest.mark.parametrize("name", list(CASES))
def test_template_matches_oracle(results, name):
    got, want = results[name]
    np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))
