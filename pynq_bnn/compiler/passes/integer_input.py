# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""IntegerPixelInput: make the graph input the uint8 pixels ``p`` the accelerator receives.

Every zoo model takes ``x = p / 255`` (float32, :func:`pynq_bnn.zoo.to_model_input`). This pass
renames the float input, adds a new ``UINT8``-annotated input with the original name and a
``Div(p, 255)`` node recomputing ``x`` exactly as ``to_model_input`` does (a float32 division), so
the graph output is unchanged for every image and the first integer point is the pixel itself.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType

from pynq_bnn.compiler.ir import made_from, replace_tensor_uses, unique_tensor_name
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["IntegerPixelInput"]


class IntegerPixelInput(Pass):
    def apply(self, model):
        graph_in = model.graph.input[0]
        name = graph_in.name
        if model.get_tensor_datatype(name) == DataType["UINT8"]:
            return model, False
        shape = model.get_tensor_shape(name)
        scaled = unique_tensor_name(model, f"{name}_scaled")
        replace_tensor_uses(model, name, scaled)
        divisor = unique_tensor_name(model, "pixel_max")
        model.set_initializer(divisor, np.asarray(255.0, dtype=np.float32))
        model.graph.node.insert(0, helper.make_node("Div", [name, divisor], [scaled],
                                                    name="PixelsToUnit",
                                                    doc_string=made_from(name)))
        model.graph.value_info.append(helper.make_tensor_value_info(scaled, TensorProto.FLOAT,
                                                                    shape))
        model.set_tensor_datatype(name, DataType["UINT8"])
        return model, True
