# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from pynq_bnn.compiler.passes.annotate_bipolar import AnnotateBipolar


def _graph(scale):
    node = helper.make_node("BipolarQuant", ["x", "s"], ["y"], domain="qonnx.custom_op.general")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = ModelWrapper(qonnx_make_model(graph))
    model.set_initializer("s", np.asarray(scale, dtype=np.float32))
    return model


def test_scale_one_output_becomes_bipolar_and_reaches_fixed_point():
    model, changed = AnnotateBipolar().apply(_graph(1.0))
    assert changed and model.get_tensor_datatype("y") == DataType["BIPOLAR"]
    assert AnnotateBipolar().apply(model)[1] is False


def test_other_scales_are_left_alone():
    model, changed = AnnotateBipolar().apply(_graph(0.5))
    assert not changed and model.get_tensor_datatype("y") == DataType["FLOAT32"]
