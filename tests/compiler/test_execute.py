# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""execute(): input contract, chunking invariance, return_all."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import ExecutionInputError, execute

_spec = importlib.util.spec_from_file_location("graph_helpers", Path(__file__).with_name(
    "test_graph.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def test_chunking_does_not_change_results():
    graph = _helpers.tiny_graph()
    images = np.random.default_rng(0).integers(0, 256, (37, 4, 4, 1)).astype(np.uint8)
    full = execute(graph, images)
    assert full.shape == (37, 2)
    np.testing.assert_array_equal(execute(graph, images, batch_size=5), full)
    streams = execute(graph, images, return_all=True, batch_size=8)
    assert set(streams) == {"img", "bits", "scores", "label"}
    np.testing.assert_array_equal(streams["label"], full)
    assert streams["bits"].shape == (37, 4, 4, 1)


def test_single_image_and_input_errors():
    graph = _helpers.tiny_graph()
    assert execute(graph, np.zeros((4, 4, 1), np.uint8)).shape == (1, 2)
    with pytest.raises(ExecutionInputError, match="uint8"):
        execute(graph, np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ExecutionInputError, match="NHWC"):
        execute(graph, np.zeros((1, 5, 4, 1), np.uint8))
    with pytest.raises(ExecutionInputError, match="numpy"):
        execute(graph, [[0]])


def test_nchw_input_gets_a_transpose_hint():
    graph = _helpers.tiny_graph()
    graph.input_shape = (4, 4, 3)
    with pytest.raises(ExecutionInputError, match="transpose"):
        execute(graph, np.zeros((2, 3, 4, 4), np.uint8))


def _layer_by_layer(graph, images):
    """Every stream by running each layer's ``reference()`` in graph order (the oracle)."""
    streams = {graph.input_name: images}
    for layer in graph.layers:
        inputs = [streams[name].reshape((len(images),) + tuple(shape))
                  for name, shape in zip(layer.inputs, layer.in_shapes())]
        streams[layer.output] = layer.reference(*inputs)
    return streams


def test_fused_conv_path_equals_layer_by_layer_reference_on_cifar10(tmp_path, data_dir):
    """CNV (random weights, randomized BN incl. negated channels) on real CIFAR-10: the fused
    SlidingWindow->MVAU path equals the layer-by-layer references, stream by stream and at the
    output, for any chunking / thread count; return_all still gives every named stream."""
    from pynq_bnn.compiler.hw.thresholding import apply_thresholds
    from pynq_bnn.data import load_dataset

    lfc_helpers = importlib.util.spec_from_file_location(
        "lfc_helpers_exec", Path(__file__).with_name("test_lower_lfc.py"))
    helpers = importlib.util.module_from_spec(lfc_helpers)
    lfc_helpers.loader.exec_module(helpers)
    graph = helpers.build_compiled("cnv", tmp_path)[2]
    images = np.ascontiguousarray(
        load_dataset("cifar10", "test", data_dir).images[:24].transpose(0, 2, 3, 1))
    oracle = _layer_by_layer(graph, images)

    fast = execute(graph, images, batch_size=7, threads=2)
    np.testing.assert_array_equal(fast, oracle[graph.output_name])
    assert fast.dtype == oracle[graph.output_name].dtype
    np.testing.assert_array_equal(execute(graph, images, threads=1), fast)
    streams = execute(graph, images, return_all=True, batch_size=10)
    assert set(streams) == set(oracle)
    for name, value in oracle.items():
        np.testing.assert_array_equal(streams[name], value, err_msg=name)
        assert streams[name].dtype == value.dtype, name

    fused = 0
    for i, layer in enumerate(graph.layers):
        if layer.kind != "MVAU" or graph.layers[i - 1].kind != "SlidingWindow":
            continue
        window, x = graph.layers[i - 1], oracle[graph.layers[i - 1].inputs[0]]
        got = layer.conv_reference(window, x, block_mb=0.01)  # one image per block
        np.testing.assert_array_equal(got, oracle[layer.output], err_msg=layer.name)
        # independent of the sign folding: the plain accumulator + signed thresholds
        acc = layer.accumulate(oracle[window.output])
        if layer.num_thresholds:
            expect = apply_thresholds(acc, layer.params["thresholds"], layer.params["neg"],
                                      layer.out_bias)
            np.testing.assert_array_equal(got, expect, err_msg=layer.name)
        fused += 1
    assert fused == 6
