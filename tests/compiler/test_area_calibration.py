# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The area model against three synthesized designs with published foldings (the calibration
anchors in ``data/area_anchors.json``): finn-examples cnv-w1a1, BNN-PYNQ CNV-W1A1 and LFC-W1A1.

Each anchor's graph is the compiled cnv/lfc graph — the shipped ``overlays/<name>/graph.json``,
or the zoo model compiled here when none is shipped (random weights: the area model does not read
weight values) — folded as published; where the original padded a layer (BNN-PYNQ: LFC input
784 -> 832, last layers 10 -> 64 outputs) the graph is padded the same way. The estimate of our
templates with that folding must come within ±25 % of each published LUT, FF and BRAM18 total,
and the finn-examples throughput within 2 % of the measured 3,020.5 img/s.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import cost
from pynq_bnn.compiler.estimate import estimate
from pynq_bnn.compiler.graph import DataflowGraph
from pynq_bnn.compiler.hw.base import HWLayer, Resources

ANCHORS = json.loads((Path(__file__).with_name("data") / "area_anchors.json").read_text())
TOLERANCE = 0.25
FPS_TOLERANCE = 0.02

_spec = importlib.util.spec_from_file_location("lfc_helpers", Path(__file__).with_name(
    "test_lower_lfc.py"))
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


OVERLAYS = Path(__file__).resolve().parents[2] / "overlays"


def _compiled(name, tmp_path_factory):
    from pynq_bnn.compiler.graph import load_graph

    if (OVERLAYS / name / "graph.json").is_file():
        return load_graph(OVERLAYS / name)
    return helpers.build_compiled(name, tmp_path_factory.mktemp(name))[2]


@pytest.fixture(scope="module")
def zoo_graphs(tmp_path_factory):
    return {name: _compiled(name, tmp_path_factory) for name in ("cnv", "lfc")}


def _replace(layer, params=None, **attrs):
    data = layer.to_dict()
    data["attrs"] = dict(data["attrs"], **attrs)
    return HWLayer.from_dict(data, layer.params if params is None else params)


def _padded_params(layer, mw, mh):
    """Weights padded with +1 to ``(mh, mw)``; threshold rows repeated for padded outputs."""
    params = dict(layer.params)
    weights = np.ones((mh, mw), np.int8)
    weights[: layer.MH, : layer.MW] = layer.params["weights"]
    params["weights"] = weights
    for key in ("thresholds", "neg"):
        if key in params:
            extra = np.repeat(params[key][-1:], mh - layer.MH, axis=0)
            params[key] = np.concatenate([params[key], extra])
    return params


def anchor_graph(graph, anchor) -> DataflowGraph:
    """``graph`` folded (and padded) as the anchor design (see the fixture's ``_doc``)."""
    layers = list(graph.layers)
    input_shape = graph.input_shape
    mvaus = [i for i, layer in enumerate(layers) if layer.kind == "MVAU"]
    assert len(mvaus) == len(anchor["mvau"]), "the zoo model no longer matches the anchor"
    for k, i in enumerate(mvaus):
        layer = layers[i]
        pe, simd = anchor["mvau"][k]
        mw = int(anchor["pad_mw"].get(str(k), layer.MW))
        mh = int(anchor["pad_mh"].get(str(k), layer.MH))
        params = _padded_params(layer, mw, mh) if (mw, mh) != (layer.MW, layer.MH) else None
        layers[i] = _replace(layer, params, PE=pe, SIMD=simd, MW=mw, MH=mh,
                             in_shape=list(layer.in_shape[:-1]) + [mw])
        if mw != layer.MW:  # the input stage emits the padded vector
            assert i == 1 and layers[0].kind == "Thresholding"
            layers[0] = _replace(layers[0], shape=[1, mw, 1])
            input_shape = (1, mw, 1)
        if mh != layer.MH:
            assert layers[i + 1].kind == "LabelSelect"
            layers[i + 1] = _replace(layers[i + 1], labels=mh)
    for i, layer in enumerate(layers):
        if layer.kind == "SlidingWindow":  # FINN: the window moves its MVAU's SIMD
            layers[i] = _replace(layer, SIMD=layers[i + 1].SIMD)
        elif layer.kind == "MaxPool":  # finn-hlslib StreamingMaxPool: all channels per cycle
            layers[i] = _replace(layer, PE=layer.channels)
    folded = DataflowGraph(layers, graph.input_name, input_shape, graph.input_type,
                           graph.output_name, graph.meta)
    folded.validate()
    return folded


def _negate(res: Resources) -> Resources:
    return Resources(*(-v for v in res.as_dict().values()))


def anchor_estimate(graph, anchor, with_plumbing=True):
    """(comparable totals, estimate): the published FIFO depths priced in place of 2-word ones,
    the platform shell removed where the anchor reports the accelerator alone."""
    folded = anchor_graph(graph, anchor)
    result = estimate(folded if with_plumbing else folded.layers, anchor["board"],
                      anchor["clock_mhz"])
    total = result.total
    for width, depth in anchor["published_fifos"]:
        total = total + cost.fifo(depth, width) + _negate(cost.fifo(2, width))
    if anchor["scope"] == "accelerator":
        total = total + _negate(result.platform)
    return total, result


@pytest.mark.parametrize("anchor", ANCHORS["anchors"], ids=lambda a: a["name"])
def test_estimate_within_25_percent_of_published_synthesis(zoo_graphs, anchor):
    total, result = anchor_estimate(zoo_graphs[anchor["model"]], anchor)
    assert result.model == cost.MODEL_LABEL
    measured = anchor["measured"]
    for key in ("lut", "ff", "bram18"):
        ratio = getattr(total, key) / measured[key]
        assert abs(ratio - 1) <= TOLERANCE, (
            f"{anchor['name']}: estimated {key} {getattr(total, key):.0f} vs published "
            f"{measured[key]} ({ratio:.2f}x)")


def test_finn_examples_throughput_within_2_percent(zoo_graphs):
    anchor = ANCHORS["anchors"][0]
    _, result = anchor_estimate(zoo_graphs["cnv"], anchor)
    fps = anchor["measured"]["fps"]
    assert abs(result.fps / fps - 1) <= FPS_TOLERANCE, f"{result.fps:.1f} vs {fps}"
    assert result.bottleneck in ("MatMul_0", "MatMul_1")  # 512 x 64 cycles each


def test_calibration_needs_the_plumbing(zoo_graphs):
    """The top level's FIFOs, width converters and helpers are a fifth of finn-examples
    cnv-w1a1's flip-flops: a model that forgets them (the old one) is measurably off, and the
    estimate's total is exactly layers + plumbing + shell."""
    anchor = ANCHORS["anchors"][0]
    with_plumbing, result = anchor_estimate(zoo_graphs["cnv"], anchor)
    without, bare = anchor_estimate(zoo_graphs["cnv"], anchor, with_plumbing=False)
    assert bare.plumbing == [] and len(result.plumbing) > 40
    assert (with_plumbing.ff - without.ff) / anchor["measured"]["ff"] > 0.15
    layers = Resources()
    for item in result.layers:
        layers = layers + item.resources
    assert result.total == layers + result.plumbing_total + result.platform


def test_cnv_default_fold_fits_pynq_z2_with_plumbing_counted(zoo_graphs):
    """The build's default folding (fastest under 80 % of every resource) as the estimate counts
    it: layers + every FIFO and helper of the rendered top level + the shell."""
    from pynq_bnn.compiler.folding import fold_to_fit, get_folding

    graph = anchor_graph(zoo_graphs["cnv"], ANCHORS["anchors"][0])  # start from a known fold
    result = fold_to_fit(graph, "Pynq-Z2")
    check = estimate(graph, "Pynq-Z2")
    assert get_folding(graph) == result.folding and check.plumbing
    assert check.total == result.resources and check.fps == pytest.approx(result.fps)
    assert all(check.utilization[k] <= 0.8 for k in ("lut", "ff", "bram18", "dsp"))
    assert check.fps > 3051.8  # faster than the finn-examples folding it started from


def test_fold_to_fit_spares_the_resource_the_plumbing_uses():
    """Budget prices: a resource the top level's FIFOs have nearly used up costs more."""
    from pynq_bnn.compiler.boards import get_board
    from pynq_bnn.compiler.folding import _budget_prices, _caps

    board, caps = get_board("Pynq-Z2"), _caps(0.8)
    free = _budget_prices(Resources(), board, caps)
    crowded = _budget_prices(Resources(bram18=180), board, caps)
    assert crowded["bram18"] > 4 * free["bram18"] and crowded["lut"] == free["lut"]
    assert free["uram"] == float("inf")  # a Zynq-7000 has none


def test_fracbnn_shortcut_fifos_are_counted():
    """Each residual add's shortcut must hold about one image while the branch's window buffers
    its frame; whatever depth the top level declares, the estimate prices it (the old model
    omitted these FIFOs entirely). The compiled graph of the shipped preset is used (its
    ``graph.json``, not its report)."""
    from pynq_bnn.compiler.graph import load_graph

    folder = OVERLAYS / "fracbnn"
    if not (folder / "graph.json").is_file():
        pytest.skip("no compiled fracbnn graph in overlays/fracbnn")
    graph = load_graph(folder)
    result = estimate(graph, "Pynq-Z2")
    adds = [layer for layer in graph.layers if layer.kind == "AddStreams"]
    one_image = sum(int(np.prod(layer.out_shape())) * layer.in_types()[1].bits for layer in adds)
    deep = [item for item in result.plumbing if item.kind == "FIFO" and item.depth > 2]
    assert len(adds) == 18 and len(deep) >= len(adds)
    fifo_bram = sum(item.resources.bram18 for item in deep)
    assert fifo_bram >= 0.9 * one_image / 18_432
    layers = sum(item.resources.bram18 for item in result.layers)
    assert result.total.bram18 >= fifo_bram + layers
