# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``render_hls()`` of the seed-technique HW layers (FracMVAU, Requantize, AddStreams, SumPool,
DownsampleShortcut, LABBinarize) against each layer's own numpy ``reference()``.

The fast tests check the snippets (lanes, placeholders, parameter arrays); the slow test compiles
every rendered layer into ONE g++ csim harness (``csim_layers``) and compares its output with
``reference()`` on random inputs, padding, strides, channel maps, saturation and folding included;
the slow whole-accelerator tests csim a hand-built graph of all six kinds, a small FracBNN and the
``lab`` / ``repbnn`` presets against :func:`pynq_bnn.compiler.execute`.
"""
import string

import numpy as np
import pytest

from pynq_bnn.compiler.hls.csim import LayerCase, StreamSpec, csim_layers
from pynq_bnn.compiler.hw.asd import ASDDynamic
from pynq_bnn.compiler.hw.base import StreamType
from pynq_bnn.compiler.hw.avgpool import DownsampleShortcut, SumPool
from pynq_bnn.compiler.hw.affine import fit_piecewise_affine
from pynq_bnn.compiler.hw.frac_mvau import FracMVAU
from pynq_bnn.compiler.hw.lab import LABBinarize
from pynq_bnn.compiler.hw.requantize import Requantize, fit_channel_function
from pynq_bnn.compiler.hw.residual import AddStreams, type_range

N_IMAGES = 2


def _random_stream(rng, stype, shape):
    lo, hi = type_range(stype)
    return rng.integers(lo, hi + 1, size=(N_IMAGES,) + tuple(shape))


def _monotone_thresholds(rng, channels, count, lo, hi):
    return np.sort(rng.integers(lo, hi + 1, size=(channels, count)), axis=1)


def _frac(name, rng, gate=True, **attrs):
    layer = FracMVAU(name, ["x"], "y", **attrs)
    layer.params["weights"] = rng.choice([-1, 1], size=(layer.OFM_CH, layer.mw))
    if gate and layer.in_dtype == "FRAC2":
        layer.params["gate"] = rng.integers(-layer.mw // 3, layer.mw // 3 + 1, size=layer.OFM_CH)
    if layer.OUT_MODE == "affine":  # BN -> int8 on the accumulator range
        lo, hi = layer.acc_range()
        xs = np.arange(lo, hi + 1)
        out_lo, out_hi = type_range(layer.out_type())
        layer.params.update(fit_piecewise_affine(
            xs, _affine_table(rng, xs, layer.OFM_CH, out_lo, out_hi)))
    if layer.OUT_MODE == "thresholds":
        nt = {"FRAC2": 3, "BIPOLAR": 1}.get(layer.out_dtype)
        if nt is None:
            nt = (1 << layer.out_type().bits) - 1
        lo, hi = layer.acc_range()
        layer.params["thresholds"] = _monotone_thresholds(rng, layer.OFM_CH, nt, lo // 2, hi // 2)
        layer.params["direction"] = rng.choice([-1, 1], size=layer.OFM_CH)
    return layer


def _affine_table(rng, xs, out_ch, out_lo, out_hi):
    """Rounded two-slope rows (RPReLU after BN), clamped: a piecewise-affine requantizer."""
    slope = rng.uniform(0.05, 0.6, (out_ch, 1)) * rng.choice([-1, 1], (out_ch, 1))
    knee = rng.integers(xs[0], xs[-1] + 1, (out_ch, 1))
    low = rng.uniform(-0.3, 0.3, (out_ch, 1))
    y = np.where(xs >= knee, slope * (xs - knee), low * slope * (xs - knee)) + rng.normal(0, 5)
    return np.clip(np.floor(y + 0.5), out_lo, out_hi).astype(np.int64)


def _requantize(name, rng, in_dtype, out_dtype, mode, src=None, steps=4.0, **attrs):
    lo, hi = type_range(StreamType.parse(in_dtype))
    xs = np.arange(lo, hi + 1)
    out_lo, out_hi = type_range(StreamType.parse(out_dtype))
    out_ch = len(src) if src is not None else attrs["IN_CH"]
    if mode == "thresholds":   # monotone rows, some decreasing (negative BN gamma)
        steps = rng.random((out_ch, xs.size)) < steps / xs.size
        table = np.clip(out_lo + np.cumsum(steps, axis=1), out_lo, out_hi)
        flip = rng.random(out_ch) < 0.5
        table[flip] = table[flip, ::-1]
    elif mode == "affine":
        table = _affine_table(rng, xs, out_ch, out_lo, out_hi)
    else:                       # arbitrary rows (PReLU with a negative slope is not monotone)
        table = rng.integers(out_lo, out_hi + 1, size=(out_ch, xs.size))
    fit = fit_channel_function(xs, table, mode)
    assert fit["mode"] == mode
    params = dict(fit["params"])
    if src is not None:
        params["src"] = np.asarray(src)
    layer = Requantize(name, ["x"], "y", params, OUT_CH=out_ch, in_dtype=in_dtype,
                       out_dtype=out_dtype, MODE=mode, in_min=fit["in_min"],
                       out_bias=fit["out_bias"], **attrs)
    return layer


def _lab(name, rng, direction=True, **attrs):
    layer = LABBinarize(name, ["x"], "y", **attrs)
    k2 = layer.K * layer.K
    limit = 1 << (layer.W_BITS - 1)
    layer.params["kernel"] = rng.integers(-limit, limit, size=(layer.CH, k2))
    layer.params["thresholds"] = rng.integers(-limit, limit, size=(layer.CH, 1))
    if direction:
        layer.params["direction"] = rng.choice([-1, 1], size=layer.CH)
    return layer


def build_layers():
    """(layer, inputs) pairs: realistic shapes of the FracBNN / LAB / RepBNN lowerings."""
    rng = np.random.default_rng(2026)
    cases = {}

    def add(key, layer, *inputs):
        if not inputs:
            inputs = tuple(_random_stream(rng, t, s)
                           for t, s in zip(layer.in_types(), layer.in_shapes()))
        cases[key] = (layer, list(inputs))

    # FracMVAU: FracBNN 3x3 pad-1 conv on FRAC2 with the LSB gate, raw accumulator out
    add("frac_conv_pad_gate_acc",
        _frac("fconv", rng, IFM_DIM=[6, 6], IFM_CH=16, OFM_CH=16, K=3, PAD=1, PE=4, SIMD=8))
    # stride-2 pad-1 conv, thresholds to FRAC2, SIMD a multiple of IFM_CH (window + resize)
    add("frac_conv_stride2_thresholds_resize",
        _frac("fconv_s2", rng, IFM_DIM=[7, 7], IFM_CH=8, OFM_CH=8, K=3, STRIDE=2, PAD=1,
              OUT_MODE="thresholds", out_dtype="FRAC2", PE=2, SIMD=24))
    # thermometer first conv: BIPOLAR input (96 channels), 3x3 pad 1, BIPOLAR thresholds out
    add("frac_bipolar_first_conv",
        _frac("fconv_in", rng, IFM_DIM=[4, 4], IFM_CH=96, OFM_CH=8, K=3, PAD=1,
              in_dtype="BIPOLAR", OUT_MODE="thresholds", out_dtype="BIPOLAR", PE=8, SIMD=32))
    # unpadded 3x3 (no valid bit), INT4 thresholds out (out_bias -8), no gate (always open)
    add("frac_conv_valid_int4",
        _frac("fconv_v", rng, gate=False, IFM_DIM=[5, 5], IFM_CH=4, OFM_CH=6, K=3,
              OUT_MODE="thresholds", out_dtype="UINT4", PE=3, SIMD=4))
    # FracBNN residual branch: BN -> int8 as an exact piecewise-affine unit (one multiplier/PE)
    add("frac_conv_affine_int8",
        _frac("fconv_aff", rng, IFM_DIM=[5, 5], IFM_CH=8, OFM_CH=8, K=3, PAD=1,
              OUT_MODE="affine", out_dtype="INT8", PE=4, SIMD=8))
    # 255 thresholds (INT8 out): the binary-search threshold unit
    add("frac_conv_search_int8",
        _frac("fconv_search", rng, IFM_DIM=[4, 4], IFM_CH=8, OFM_CH=4, K=3, PAD=1,
              OUT_MODE="thresholds", out_dtype="UINT8", PE=2, SIMD=8))
    # pointwise 1x1 conv (no window unit) and the fully connected classifier
    add("frac_pointwise", _frac("fpw", rng, IFM_DIM=[3, 3], IFM_CH=16, OFM_CH=8, PE=4, SIMD=16))
    add("frac_fc", _frac("ffc", rng, IFM_DIM=[1, 1], IFM_CH=64, OFM_CH=10, PE=2, SIMD=32))

    # Requantize: identity map (threshold_stream) and channel maps (channel_map_activate)
    add("requant_thresholds_to_frac2",
        _requantize("rq_t", rng, "INT9", "FRAC2", "thresholds", SPATIAL=[4, 4], IN_CH=8, PE=4))
    add("requant_lut_int8",
        _requantize("rq_l", rng, "INT6", "INT8", "lut", SPATIAL=[3, 3], IN_CH=4, PE=2))
    add("requant_repconv_tile_thresholds",
        _requantize("rq_rep", rng, "INT7", "BIPOLAR", "thresholds", src=np.tile(np.arange(8), 4),
                    SPATIAL=[3, 3], IN_CH=8, PE=16))
    add("requant_affine_rprelu_int8",
        _requantize("rq_aff", rng, "INT9", "INT8", "affine", SPATIAL=[3, 3], IN_CH=8, PE=4))
    add("requant_search_thresholds_int8",
        _requantize("rq_srch", rng, "INT10", "INT8", "thresholds", steps=300.0, SPATIAL=[2, 2],
                    IN_CH=4, PE=2))
    # every row saturates at 127 well inside the INT10 range: 191 thresholds padded to 255,
    # the padding must stay above every input (a leaky-ReLU-like requantizer with ties)
    xs = np.arange(-512, 512)
    table = np.clip(np.round(xs[None, :] / 2.0 + np.arange(4)[:, None]), -64, 127)
    fit = fit_channel_function(xs, table.astype(np.int64), "thresholds")
    add("requant_search_padded_int8",
        Requantize("rq_pad", ["x"], "y", fit["params"], SPATIAL=[4, 4], IN_CH=4, OUT_CH=4,
                   in_dtype="INT10", out_dtype="INT8", MODE="thresholds", in_min=fit["in_min"],
                   out_bias=fit["out_bias"], PE=4))
    add("requant_dup_lut_vector",
        _requantize("rq_dup", rng, "UINT5", "INT4", "lut", src=np.repeat(np.arange(6), 2),
                    SPATIAL=[], IN_CH=6, PE=4))

    # AddStreams: branch + shifted shortcut, saturating (INT and UINT outputs)
    add_a = AddStreams("add_a", ["a", "b"], "y", SPATIAL=[4, 4], CH=16, a_dtype="INT8",
                       b_dtype="INT10", out_dtype="INT10", SHIFT_A=2, SHIFT_B=0, FIFO_DEPTH=300,
                       PE=4)
    add("add_streams_shift_saturate", add_a)
    add_u = AddStreams("add_u", ["a", "b"], "y", SPATIAL=[], CH=12, a_dtype="UINT4",
                       b_dtype="INT5", out_dtype="UINT4", SHIFT_A=0, SHIFT_B=1, PE=3)
    add("add_streams_uint_out", add_u)

    # SumPool: 2x2 (odd frame: floor mode), global (UINT sums)
    add("sum_pool_2x2_floor",
        SumPool("sp", ["x"], "y", IFM_DIM=[5, 5], CH=8, in_dtype="INT8", PE=4))
    add("sum_pool_global_uint",
        SumPool("gap", ["x"], "y", IFM_DIM=[4, 4], CH=16, GLOBAL=1, in_dtype="UINT6", PE=8))
    # DownsampleShortcut: 2x2 sum + channel duplication, both orders
    add("downsample_tile", DownsampleShortcut("ds_t", ["x"], "y", IFM_DIM=[6, 6], CH=8,
                                              in_dtype="INT8", PE=4))
    add("downsample_interleave", DownsampleShortcut("ds_i", ["x"], "y", IFM_DIM=[4, 4], CH=4,
                                                    DUP=4, DUP_ORDER="interleave",
                                                    in_dtype="UINT3", PE=2))

    # LABBinarize: BIPOLAR 3x3 pad 1 (zero padding via INT2), -1 padding, integer input
    add("lab_bipolar_pad1", _lab("lab", rng, IFM_DIM=[6, 6], CH=16, PE=4))
    add("lab_bipolar_pad_minus1",
        _lab("lab_m", rng, direction=False, IFM_DIM=[5, 4], CH=4, PAD_VALUE=-1, PE=2, W_BITS=6))
    add("lab_int4_input", _lab("lab_i", rng, IFM_DIM=[4, 4], CH=6, in_dtype="INT4", PE=3,
                               PAD=2, K=5))
    return cases


CASES = build_layers()


def layer_case(layer, inputs) -> LayerCase:
    """A csim case from a layer's snippet (decl + pragmas + calls in one statement block)."""
    snip = layer.render_hls()
    in_specs = []
    for t, shape, lanes in zip(layer.in_types(), layer.in_shapes(), snip.in_lanes):
        in_specs.append(StreamSpec(lanes * t.bits, t.bits, int(np.prod(shape)), t.kind == "INT"))
    out_t = layer.out_type()
    out_spec = StreamSpec(snip.out_lanes * out_t.bits, out_t.bits,
                          int(np.prod(layer.out_shape())), out_t.kind == "INT")
    body = "\n  ".join(([snip.decl] if snip.decl else []) + list(snip.pragmas) + [snip.call])
    return LayerCase(snip.includes, snip.params_header, "{\n  " + body + "\n  }", in_specs,
                     out_spec, [np.asarray(x).reshape(x.shape[0], -1) for x in inputs])


# -- fast tier: snippets -------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(CASES))
def test_snippet_is_complete(key):
    layer, _ = CASES[key]
    snip = layer.render_hls()
    assert len(snip.in_lanes) == len(layer.inputs) and snip.out_lanes > 0
    for shape, lanes in zip(layer.in_shapes(), snip.in_lanes):
        assert int(np.prod(shape)) % lanes == 0
    assert int(np.prod(layer.out_shape())) % snip.out_lanes == 0
    mapping = {"out": "s_out", "reps": "num_images"}
    mapping.update({f"in{i}": f"s_in{i}" for i in range(len(layer.inputs))})
    for text in [snip.call, snip.decl] + list(snip.pragmas):
        string.Template(text).substitute(mapping)  # every placeholder is known
    assert "${in0}" in snip.call and "${out}" in snip.call and "${reps}" in snip.call
    assert all(h.startswith("bnn/") for h in snip.includes)


def test_frac_mvau_padding_uses_valid_bit():
    layer, _ = CASES["frac_conv_pad_gate_acc"]
    snip = layer.render_hls()
    assert "bnn::add_valid<8, 2," in snip.call
    assert "bnn::frac_mvau<144, 16, 8, 4, 36, 2, 1," in snip.call
    assert "L_fconv_gate[4][4]" in snip.params_header
    unpadded, _ = CASES["frac_conv_valid_int4"]
    assert "add_valid" not in unpadded.render_hls().call
    pointwise, _ = CASES["frac_pointwise"]
    assert "sliding_window" not in pointwise.render_hls().call


def test_frac_mvau_resize_when_simd_exceeds_channels():
    layer, _ = CASES["frac_conv_stride2_thresholds_resize"]
    snip = layer.render_hls()
    assert snip.in_lanes == [8] and "bnn::resize<24, 72," in snip.call


def test_requantize_channel_map_and_identity():
    ident, _ = CASES["requant_thresholds_to_frac2"]
    assert "bnn::threshold_stream<8, 4, 16, bnn::INT, 9, 2>" in ident.render_hls().call
    tiled, _ = CASES["requant_repconv_tile_thresholds"]
    snip = tiled.render_hls()
    assert "bnn::channel_map_activate<8, 8, 32, 16, 9," in snip.call
    assert "ap_uint<16> L_rq_rep_src[32]" in snip.params_header
    assert snip.in_lanes == [8] and snip.out_lanes == 16


def test_add_streams_fifo_pragma():
    layer, _ = CASES["add_streams_shift_saturate"]
    snip = layer.render_hls()
    assert snip.pragmas == ["#pragma HLS STREAM variable = ${in1} depth = 300"]
    assert "2, 0, bnn::INT>(${in0}, ${in1}, ${out}, ${reps});" in snip.call


def test_sum_pool_rejects_overlapping_stride():
    layer = SumPool("sp3", ["x"], "y", IFM_DIM=[6, 6], CH=4, K=3, STRIDE=2, in_dtype="INT4")
    with pytest.raises(NotImplementedError, match="STRIDE == K"):
        layer.render_hls()


def test_asd_dynamic_still_raises():
    layer = object.__new__(ASDDynamic)   # no template yet: the clear error needs no attributes
    with pytest.raises(NotImplementedError, match="ASDDynamic"):
        layer.render_hls()


# -- slow tier: g++ csim against reference() -----------------------------------------------------


@pytest.fixture(scope="module")
def csim_results():
    keys = list(CASES)
    outputs = csim_layers([layer_case(*CASES[k]) for k in keys], timeout=300.0)
    return dict(zip(keys, outputs))


@pytest.mark.slow
@pytest.mark.parametrize("key", list(CASES))
def test_csim_matches_reference(csim_results, key):
    layer, inputs = CASES[key]
    want = np.asarray(layer.reference(*inputs)).reshape(N_IMAGES, -1)
    np.testing.assert_array_equal(csim_results[key], want)


# -- whole accelerator: the assembler with these snippets (forks, decls, FIFO pragma) ------------


def seed_graph():
    """pixels (4,4,4) -> BIPOLAR -> LAB -> FracMVAU(BIPOLAR, thresholds to FRAC2) -> FracMVAU
    (FRAC2, gate, acc) -> Requantize INT8 (branch) + Requantize FRAC2 -> INT4 LUT (shortcut, a
    fork of the FRAC2 tensor) -> AddStreams -> DownsampleShortcut -> global SumPool."""
    from pynq_bnn.compiler.graph import DataflowGraph

    rng = np.random.default_rng(7)
    ch = 8
    xs = np.arange(256)
    binarize = Requantize("bin", ["pixels"], "b0",
                          fit_channel_function(xs, (xs[None] >= rng.integers(60, 200, (4, 1)))
                                               .astype(int), "thresholds")["params"],
                          SPATIAL=[4, 4], IN_CH=4, OUT_CH=4, in_dtype="UINT8", out_dtype="BIPOLAR",
                          PE=2)
    lab = _lab("lab", rng, IFM_DIM=[4, 4], CH=4, PE=2)
    lab.inputs, lab.output = ["b0"], "b1"
    conv1 = _frac("conv1", rng, IFM_DIM=[4, 4], IFM_CH=4, OFM_CH=ch, K=3, PAD=1,
                  in_dtype="BIPOLAR", OUT_MODE="thresholds", out_dtype="FRAC2", PE=2, SIMD=12)
    conv1.inputs, conv1.output = ["b1"], "f1"
    conv2 = _frac("conv2", rng, IFM_DIM=[4, 4], IFM_CH=ch, OFM_CH=ch, K=3, PAD=1, PE=4, SIMD=8)
    conv2.inputs, conv2.output = ["f1"], "acc2"
    lo, hi = conv2.acc_range()
    table = np.clip(np.arange(lo, hi + 1)[None] // rng.integers(1, 4, (ch, 1)), -128, 127)
    fit = fit_channel_function(np.arange(lo, hi + 1), table, "thresholds")
    branch = Requantize("branch", ["acc2"], "br", fit["params"], SPATIAL=[4, 4], IN_CH=ch,
                        OUT_CH=ch, in_dtype=conv2.out_type().name, out_dtype="INT8",
                        out_bias=fit["out_bias"], PE=2)
    short = Requantize("short", ["f1"], "sc", {"lut": rng.integers(-8, 8, (ch, 4))},
                       SPATIAL=[4, 4], IN_CH=ch, OUT_CH=ch, in_dtype="FRAC2", out_dtype="INT4",
                       MODE="lut", PE=4)
    add = AddStreams("add", ["br", "sc"], "sum", SPATIAL=[4, 4], CH=ch, a_dtype="INT8",
                     b_dtype="INT4", out_dtype="INT8", SHIFT_B=3, FIFO_DEPTH=64, PE=2)
    down = DownsampleShortcut("down", ["sum"], "ds", IFM_DIM=[4, 4], CH=ch, in_dtype="INT8",
                              PE=2)
    gap = SumPool("gap", ["ds"], "out", IFM_DIM=[2, 2], CH=2 * ch, GLOBAL=1,
                  in_dtype=down.out_type().name, PE=4)
    layers = [binarize, lab, conv1, conv2, branch, short, add, down, gap]
    return DataflowGraph(layers, input_name="pixels", input_shape=(4, 4, 4), output_name="out")


def test_seed_graph_renders_top_level():
    from pynq_bnn.compiler.hls.project import render_project

    files, _ = render_project(seed_graph(), "pynq-z2", 100, name="seed")
    top = files["hls/src/bnn_top.cpp"]
    for needle in ("bnn::depthwise_mac<", "bnn::add_valid<", "bnn::frac_mvau<",
                   "bnn::channel_map_activate<", "bnn::add_streams<", "bnn::sum_pool<",
                   "bnn::duplicate<", "hls::stream<ap_uint<24> > s_f1_simd(\"s_f1_simd\");",
                   "#pragma HLS STREAM variable = s_sc_w2 depth = 64"):
        assert needle in top, needle


@pytest.mark.slow
def test_seed_graph_csim_equals_numpy(tmp_path):
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim

    graph = seed_graph()
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name="seed")
    images = np.random.default_rng(3).integers(0, 256, size=(9, 4, 4, 4), dtype=np.uint8)
    report = verify_csim(graph, project, images, batch=4)
    assert report.passed, report.as_dict()


# -- the seed presets end to end: export -> compile -> HLS project -> csim == numpy -------------


@pytest.mark.slow
def test_small_fracbnn_accelerator_csim_equals_numpy(tmp_path):
    """A small random FracBNN (thermometer input, gated FRAC2 convs, residual adds, downsampling
    shortcut, global sum pool): every seed kind of the fracbnn lowering in one accelerator."""
    import torch

    from pynq_bnn.compiler import compile_qonnx
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim
    from pynq_bnn.export import export_qonnx
    from pynq_bnn.zoo.fracbnn import fracbnn

    torch.manual_seed(0)
    model = fracbnn(widths=(8, 16), blocks=(1, 1)).eval()
    export_qonnx(model, tmp_path / "fracbnn.onnx")
    graph = compile_qonnx(tmp_path / "fracbnn.onnx")
    kinds = {layer.kind for layer in graph.layers}
    assert {"FracMVAU", "AddStreams", "Requantize", "DownsampleShortcut", "SumPool"} <= kinds
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name="fracbnn_small")
    images = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    report = verify_csim(graph, project, images, batch=3)
    assert report.passed, report.as_dict()


@pytest.mark.slow
@pytest.mark.parametrize("preset,kind", [("lab", "LABBinarize"), ("repbnn", "Requantize")])
def test_seed_preset_accelerator_csim_equals_numpy(tmp_path, data_dir, preset, kind):
    """The ``lab`` / ``repbnn`` presets (random LAB kernels, BN statistics from real images) on
    two real CIFAR-10 images."""
    import sys
    from pathlib import Path

    import torch

    from pynq_bnn import zoo
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim
    from pynq_bnn.data import load_dataset
    from pynq_bnn.nn.lab import LearnableActivationBinarizer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import seed_preset_oracle as oracle

    test = load_dataset("cifar10", "test", data_dir)
    torch.manual_seed(0)
    model = zoo.build(preset)
    with torch.no_grad():
        for lab in [m for m in model.modules() if isinstance(m, LearnableActivationBinarizer)]:
            lab.conv.weight.normal_(0, 0.5)
            lab.conv.bias.normal_(0, 0.7)
    oracle.prepare_model(model, test.images[-300:])
    graph = oracle.compile_with(model, tmp_path / f"{preset}.onnx")
    assert any(layer.kind == kind for layer in graph.layers)
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name=preset)
    report = verify_csim(graph, project, test.images[:2].transpose(0, 2, 3, 1), batch=2)
    assert report.passed, report.as_dict()
