# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``bnn::bitplane_conv`` (``bnn/bitplane.hpp``) against :meth:`BitPlaneConv.reference`.

The fast tests check the rendered snippet (template name, lanes, parameter identifiers) and that
a project with the bit-plane stage renders. The slow ones compile with g++: every template case
in ONE harness (``csim_layers``), on random pixels with several geometries/foldings and on real
CIFAR-10 images, plus a whole BitPlanes -> BitPlaneConv -> MVAU -> label select accelerator.
"""
import string

import numpy as np
import pytest

from pynq_bnn.compiler.graph import DataflowGraph
from pynq_bnn.compiler.hls.csim import LayerCase, StreamSpec, csim_layers, templates_dir
from pynq_bnn.compiler.hw.bitplane import BitPlaneConv, BitPlanes, bit_planes_reference

PAPER_WEIGHTS = [1, 1, 2, 2, 4, 4, 8, 8]


def make_conv(name, dims, ch, k, ksize, pad, pe, seed, fuse="pow2", wide_thresholds=False):
    """A BitPlaneConv with random parameters whose outputs are neither all 0 nor all 1.

    Args:
        fuse: ``"pow2"`` (``2^j``), ``"paper"`` (``[1,1,2,2,4,4,8,8]``) or ``"random"`` (signed).
        wide_thresholds: put some thresholds far outside the reachable accumulator range
            ("always"/"never" channels; the renderer clips them to a small C type).
    """
    rng = np.random.default_rng(seed)
    taps, planes, fused = ksize * ksize, 8 * ch, ch * k
    if fuse == "pow2":
        fuse_w = np.tile(2 ** np.arange(8), (fused, 1))
    elif fuse == "paper":
        fuse_w = np.tile(PAPER_WEIGHTS, (fused, 1))
    else:
        fuse_w = rng.integers(-20, 21, size=(fused, 8))
    plane_thr = rng.integers(-taps // 2, taps // 2 + 1, size=(planes * k, 1)).astype(np.float64)
    fuse_thr = np.array([[rng.integers(-row.sum() // 3, row.sum() // 3 + 1)]
                         for row in np.abs(fuse_w)], dtype=np.float64)
    if wide_thresholds:
        plane_thr[0, 0], plane_thr[1, 0], fuse_thr[0, 0] = 10 ** 6, -10 ** 6, 10 ** 9
    params = {"weights": rng.integers(0, 2, size=(planes * k, taps)).astype(np.uint8),
              "plane_thresholds": plane_thr, "plane_neg": rng.random(planes * k) > 0.6,
              "fuse_weights": fuse_w, "fuse_thresholds": fuse_thr,
              "fuse_neg": rng.random(fused) > 0.6}
    return BitPlaneConv(name, ["planes"], "out", params, IFM_DIM=list(dims), IFM_CH=ch,
                        PLANE_CH=k, K=ksize, PAD=pad, PE=pe)


def layer_case(conv, pixels):
    """(LayerCase of the rendered template on ``pixels`` (N, H, W, C) uint8, expected output)."""
    snippet = conv.render_hls()
    n = pixels.shape[0]
    planes = bit_planes_reference(pixels).reshape(n, -1)
    want = conv.reference(bit_planes_reference(pixels)).reshape(n, -1)
    count_in, count_out = planes.shape[1], want.shape[1]
    case = LayerCase(snippet.includes, snippet.params_header, snippet.call,
                     [StreamSpec(snippet.in_lanes[0], 1, count_in)],
                     StreamSpec(snippet.out_lanes, 1, count_out), [planes])
    return case, want


def random_cases():
    """Geometries: padded/valid, K = 1/3/5, non-square, PE = 1 .. all channels, fuse kinds."""
    specs = [  # name, dims, ch, k, K, pad, pe, fuse, wide thresholds
        ("L_bp_a", (5, 6), 2, 3, 3, 0, 3, "paper", True),
        ("L_bp_b", (6, 5), 3, 2, 3, 1, 1, "random", False),
        ("L_bp_c", (4, 4), 3, 2, 1, 0, 6, "pow2", False),
        ("L_bp_d", (7, 6), 1, 2, 5, 2, 2, "random", True),
    ]
    out = []
    for seed, (name, dims, ch, k, ksize, pad, pe, fuse, floats) in enumerate(specs):
        conv = make_conv(name, dims, ch, k, ksize, pad, pe, seed + 10, fuse, floats)
        pixels = np.random.default_rng(seed).integers(0, 256, size=(3,) + dims + (ch,),
                                                      dtype=np.uint8)
        out.append((name, conv, pixels))
    return out


# -- fast tier -----------------------------------------------------------------------------------
def test_snippet_names_the_template_and_lanes():
    conv = make_conv("conv/0", (32, 32), 3, 32, 3, 1, 4, seed=0)
    snippet = conv.render_hls()
    assert snippet.includes == ["bnn/bitplane.hpp"]
    assert (templates_dir() / "bnn" / "bitplane.hpp").is_file()
    assert snippet.call.startswith("bnn::bitplane_conv<32, 32, 3, 32, 3, 1, 4, 9>(")
    assert snippet.in_lanes == [24] and snippet.out_lanes == 4
    for ident in ("L_conv_0_w", "L_conv_0_plane_act", "L_conv_0_fuse_w", "L_conv_0_fuse_act"):
        assert f" {ident} = " in snippet.params_header and ident in snippet.call
    # NF = 96 / 4 = 24 folds; the plane activation has 8 folds per fused fold.
    assert "bnn::PackedWeights<4, 24, 72>" in snippet.params_header
    assert "bnn::Thresholds<192, 4, 1, int, 0> L_conv_0_plane_act" in snippet.params_header
    assert "bnn::PackedWeights<4, 24, 72> L_conv_0_fuse_w" in snippet.params_header  # 8 x INT9
    call = string.Template(snippet.call).substitute(in0="a", out="b", reps="n")
    assert call.endswith("(a, b, L_conv_0_w, L_conv_0_plane_act, L_conv_0_fuse_w, "
                         "L_conv_0_fuse_act, n);")


def test_snippet_rejects_illegal_folding():
    conv = make_conv("c", (4, 4), 3, 2, 3, 1, 4, seed=0)  # PE 4 does not divide 6
    with pytest.raises(ValueError, match="PE=4"):
        conv.render_hls()


def test_out_of_range_thresholds_are_clipped():
    """Thresholds beyond the accumulator range become ±(range + 1): same compares, int type."""
    conv = make_conv("c", (4, 4), 1, 2, 3, 1, 2, seed=3, fuse="paper", wide_thresholds=True)
    header = conv.render_hls().params_header
    assert "1000000" not in header and "Thresholds<8, 2, 1, int, 0> L_c_plane_act" in header
    assert "{{10}" in header and "{-10}" in header              # plane: K² + 1 = 10
    assert "{{" + str(sum(PAPER_WEIGHTS) + 1) + "}" in header   # fuse: Σ|w| + 1 = 31


def _small_graph(ch=3, dims=(8, 8), k=2, pe=2, seed=0, head=True):
    """pixels -> BitPlanes -> BitPlaneConv [-> FC (raw) -> top-2]: a complete accelerator graph.

    Without ``head`` the fused bits themselves are the accelerator output (every bit checked).
    """
    from pynq_bnn.compiler.hw.label_select import LabelSelect
    from pynq_bnn.compiler.hw.mvau import MVAU

    rng = np.random.default_rng(seed)
    split = BitPlanes("planes", ["pixels"], "planes_out", IFM_DIM=list(dims), IFM_CH=ch)
    conv = make_conv("bpconv", dims, ch, k, 3, 1, pe, seed + 1)
    conv.inputs, conv.output = ["planes_out"], "fused"
    if not head:
        return DataflowGraph([split, conv], input_name="pixels", input_shape=tuple(dims) + (ch,),
                             output_name="fused", meta={"model": "bitplane_stage"})
    mw = dims[0] * dims[1] * ch * k
    fc = MVAU("fc", ["fused"], "scores", {"weights": rng.choice([-1, 1], size=(4, mw))},
              MW=mw, MH=4, in_shape=[mw], in_type="BIPOLAR", weight_type="BIPOLAR",
              out_type="INT16", num_thresholds=0, PE=2, SIMD=pe)
    top = LabelSelect("top", ["scores"], "labels", labels=4, k=2, in_type="INT16", PE=2)
    return DataflowGraph([split, conv, fc, top], input_name="pixels",
                         input_shape=tuple(dims) + (ch,), output_name="labels",
                         meta={"model": "bitplane_small"})


def test_project_with_bitplane_stage_renders():
    from pynq_bnn.compiler.hls.project import render_project

    files, _ = render_project(_small_graph(), "pynq-z2", 100, name="bitplane_small")
    top = files["hls/src/bnn_top.cpp"]
    assert '#include "bnn/bitplane.hpp"' in top
    assert "bnn::bit_planes<3, 64>" in top and "bnn::bitplane_conv<8, 8, 3, 2, 3, 1, 2, 9>" in top


# -- slow tier: g++ csim ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def csim_results(request):
    """Compile every case once; return {name: (got, want)} (CIFAR case when data is present)."""
    cases = random_cases()
    try:
        data = request.getfixturevalue("data_dir")
    except pytest.skip.Exception:  # no real data: the random cases still run
        data = None
    if data is not None:
        from pynq_bnn.data import load_dataset

        images = load_dataset("cifar10", "test", data).images[:3].transpose(0, 2, 3, 1)
        conv = make_conv("L_bp_cifar", (32, 32), 3, 2, 3, 1, 2, seed=99)
        cases.append(("L_bp_cifar", conv, np.ascontiguousarray(images, dtype=np.uint8)))
    built = [layer_case(conv, pixels) for _, conv, pixels in cases]
    got = csim_layers([c for c, _ in built], timeout=600)
    return {name: (g, want) for (name, _, _), g, (_, want) in zip(cases, got, built)}


@pytest.mark.slow
@pytest.mark.parametrize("name", [c[0] for c in random_cases()])
def test_bitplane_conv_csim_random_pixels(csim_results, name):
    got, want = csim_results[name]
    assert 0.05 < want.mean() < 0.95, "degenerate case: outputs (nearly) constant"
    np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_bitplane_conv_csim_cifar10(csim_results, data_dir):
    got, want = csim_results["L_bp_cifar"]
    assert want.shape == (3, 32 * 32 * 6)
    assert 0.05 < want.mean() < 0.95
    np.testing.assert_array_equal(got, want)


@pytest.mark.slow
@pytest.mark.parametrize("head", [False, True], ids=["stage_only", "with_fc_head"])
def test_bitplane_accelerator_csim_on_cifar10(tmp_path, data_dir, head):
    """BitPlanes + BitPlaneConv inside a whole generated accelerator (AXI in/out, DATAFLOW top,
    width converters) equals ``execute`` on real CIFAR-10 crops."""
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim
    from pynq_bnn.data import load_dataset

    graph = _small_graph(head=head)
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name="bitplane_small")
    images = load_dataset("cifar10", "test", data_dir).images[:10].transpose(0, 2, 3, 1)
    crops = np.ascontiguousarray(images[:, 12:20, 12:20, :], dtype=np.uint8)
    report = verify_csim(graph, project, crops, batch=4)
    assert report.passed, report.as_dict()


@pytest.mark.slow
def test_small_cnv_bitplane_csim_equals_numpy(tmp_path, data_dir):
    """A narrow zoo ``cnv-bitplane`` through export -> compile_qonnx -> fold -> HLS -> csim on
    real CIFAR-10 images: the lowered BitPlanes + BitPlaneConv (k = 32 kernels per plane, PE 3)
    feed the usual CNV layers, all bit-exact against ``execute``."""
    import torch

    from pynq_bnn import zoo
    from pynq_bnn.compiler import compile_qonnx
    from pynq_bnn.compiler.folding import apply_folding, get_folding
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim
    from pynq_bnn.data import load_dataset
    from pynq_bnn.export import export_qonnx

    torch.manual_seed(0)
    model = zoo.build("cnv-bitplane", convs=((8, False), (8, True), (16, False), (16, True),
                                             (16, False), (16, False)), fcs=(32, 32)).eval()
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            mod.running_mean.uniform_(-5, 5)
            mod.weight.data.uniform_(-1, 1)
    graph = compile_qonnx(export_qonnx(model, tmp_path / "cnv_bitplane.onnx"))
    kinds = [layer.kind for layer in graph.layers]
    assert kinds.index("BitPlaneConv") == kinds.index("BitPlanes") + 1
    folding = get_folding(graph)
    for name, axes in folding.items():
        space = graph.layer(name).folding_space()
        for axis in axes:
            axes[axis] = space[axis][min(2, len(space[axis]) - 1)]
    apply_folding(graph, folding)
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name="cnv_bitplane_small")
    assert "bnn::bitplane_conv<32, 32, 3, 32, 3, 1, 3," in (
        project.hls_dir / "src" / "bnn_top.cpp").read_text()
    images = load_dataset("cifar10", "test", data_dir).images[:8].transpose(0, 2, 3, 1)
    report = verify_csim(graph, project, np.ascontiguousarray(images, dtype=np.uint8), batch=4)
    assert report.passed, report.as_dict()
