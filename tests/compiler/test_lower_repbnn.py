# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""RepConv: FoldChannelTile keeps the graph's function; the repbnn preset compiles bit-exactly."""
import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from pynq_bnn import zoo
from pynq_bnn.compiler.lower.repbnn import FoldChannelTile, RepConvRule, row_period

_spec = importlib.util.spec_from_file_location("seed_preset_oracle",
                                               Path(__file__).with_name("seed_preset_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


def _tiled_model(reps=3):
    rng = np.random.default_rng(0)
    w_int = rng.choice([-1.0, 1.0], size=(2, 4, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Mul", ["w_int", "w_scale"], ["w"], name="wq"),
             helper.make_node("Conv", ["x", "w"], ["acc"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Expand", ["acc", "ones"], ["e"], name="expand"),
             helper.make_node("Tile", ["e", "reps"], ["y"], name="tile")]
    inits = [helper.make_tensor("w_int", TensorProto.FLOAT, w_int.shape, w_int.ravel()),
             helper.make_tensor("w_scale", TensorProto.FLOAT, [], [0.1]),
             helper.make_tensor("ones", TensorProto.INT64, [4], [1, 1, 1, 1]),
             helper.make_tensor("reps", TensorProto.INT64, [4], [1, reps, 1, 1])]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2 * reps, 5, 5])
    graph = helper.make_graph(nodes, "g", [x_info], [y_info],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return ModelWrapper(model)


def _run(wrapper, x):
    sess = ort.InferenceSession(wrapper.model.SerializeToString())
    return sess.run(None, {"x": x})[0]


def test_fold_channel_tile_preserves_the_function_and_reaches_a_fixed_point():
    model = _tiled_model()
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(1, 4, 5, 5)).astype(np.float32)
    before = _run(model, x)
    model, changed = FoldChannelTile().apply(model)
    assert changed and not any(n.op_type in ("Tile", "Expand") for n in model.graph.node)
    assert model.get_initializer("w_int").shape == (6, 4, 3, 3)
    np.testing.assert_array_equal(_run(model, x), before)
    assert FoldChannelTile().apply(model)[1] is False


def test_row_period():
    w = np.array([[1, -1], [-1, -1], [1, 1]])
    assert row_period(np.tile(w, (4, 1))) == 3
    assert row_period(w) == 3
    assert row_period(np.ones((4, 2))) == 1


@pytest.mark.slow
def test_repbnn_preset_is_bit_exact_on_1000_cifar_images(tmp_path, data_dir):
    from pynq_bnn.data import load_dataset

    test = load_dataset("cifar10", "test", data_dir)
    model = oracle.prepare_model(zoo.build("repbnn"), test.images[-300:])
    graph = oracle.compile_with(model, tmp_path / "repbnn.onnx", extra_passes=[FoldChannelTile()],
                                extra_rules=[RepConvRule()])
    rep = [layer for layer in graph.layers if layer.kind == "Requantize"]
    assert len(rep) == 8  # 6 convs + 2 binary FCs share accumulators
    mvau = {layer.output: layer for layer in graph.layers if layer.kind == "MVAU"}
    for layer in rep:  # beta^2 = 4 thresholds per accumulator (2 for the first conv)
        assert layer.OUT_CH // layer.IN_CH in (2, 4) and layer.inputs[0] in mvau
    result = oracle.compare_top1(graph, model, test.images[:1000])
    assert result["classes"] >= 5
    assert result["non_tie"] == 0, result
