# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""render_hls() of the core layers: contract fields, and (slow) g++ csim equal to execute()."""
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import compile_qonnx

_spec = importlib.util.spec_from_file_location("graphs", Path(__file__).with_name(
    "test_absorb_thresholds.py"))
graphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graphs)


@pytest.fixture(scope="module")
def folded_graph():
    graph = compile_qonnx(graphs.small_cnv(np.random.default_rng(0)))
    by_name = {layer.name: layer for layer in graph}
    by_name["Conv_0_swu"].attrs["SIMD"] = 3
    by_name["Conv_0"].attrs.update(SIMD=3, PE=4)
    by_name["MatMul_0"].attrs.update(SIMD=8, PE=2)
    return graph


def test_every_layer_fills_the_contract(folded_graph):
    for layer in folded_graph:
        snip = layer.render_hls()
        assert len(snip.in_lanes) == len(layer.inputs) and snip.out_lanes >= 1, layer.name
        assert "${in0}" in snip.call and "${out}" in snip.call and "${reps}" in snip.call
        assert all(h.startswith("bnn/") for h in snip.includes)
    conv0 = next(layer for layer in folded_graph if layer.name == "Conv_0")
    snip = conv0.render_hls()
    assert snip.in_lanes == [3] and snip.out_lanes == 4
    assert "bnn::mvau<27, 8, 3, 4, 64, bnn::UINT, 8, bnn::BIPOLAR, 1," in snip.call
    assert "L_Conv_0_w" in snip.params_header and "L_Conv_0_act" in snip.params_header
    # a zero-padded ±1 x ±1 conv: one FracMVAU whose window carries tap-valid bits
    conv1 = next(layer for layer in folded_graph if layer.name == "Conv_1")
    assert conv1.kind == "FracMVAU" and conv1.in_dtype == "BIPOLAR" and conv1.PAD == 1
    call = conv1.render_hls().call
    assert "bnn::add_valid<" in call and "bnn::frac_mvau<" in call


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ for the C simulation")
def test_csim_equals_numpy_execute(folded_graph, tmp_path):
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim

    project = write_project(folded_graph, tmp_path / "proj")
    images = np.random.default_rng(1).integers(0, 256, (6, 8, 8, 3)).astype(np.uint8)
    report = verify_csim(folded_graph, project, images, batch=6)
    assert report.passed, report
