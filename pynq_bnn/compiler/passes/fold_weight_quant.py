# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""FoldWeightQuant: constant ``Quant`` / ``BipolarQuant`` nodes (weights) -> integer initializers.

Brevitas exports weight quantizers as QONNX nodes evaluated at run time. This pass evaluates them
once (with qonnx's own implementation) and splits the result ``W = W_int * s`` into an
integer-annotated initializer ``W_int`` (``BIPOLAR`` ±1 or ``INTk``/``UINTk`` codes) and, when
``s != 1``, a ``Mul(W_int, s)`` node producing the original tensor — so the graph still computes
exactly the same float values, and the next passes can read the integer weights and their scale.
"""
from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_node

from pynq_bnn.compiler.ir import UnsupportedGraphError, attr, made_from, unique_tensor_name
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["FoldWeightQuant", "opset_version"]


def opset_version(model) -> int:
    for imp in model.model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 13


def _integer_codes(node, model):
    """(codes, scale, DataType) of a constant quantizer node."""
    ins = [model.get_initializer(n) for n in node.input]
    context = {n: v for n, v in zip(node.input, ins)}
    context[node.output[0]] = np.zeros_like(ins[0], dtype=np.float32)
    execute_node(node, context, model.graph, opset_version(model))
    out = np.asarray(context[node.output[0]], dtype=np.float32)
    scale = np.asarray(ins[1], dtype=np.float32)
    if np.any(scale <= 0):
        raise UnsupportedGraphError(node, "has a non-positive weight scale")
    if node.op_type == "BipolarQuant":
        dtype = DataType["BIPOLAR"]
    else:
        zero_point, bits = np.asarray(ins[2]), np.asarray(ins[3])
        if np.any(zero_point != 0):
            raise UnsupportedGraphError(node, "has a non-zero weight zero point; only symmetric "
                                        "weight quantization is supported")
        if bits.size != 1 or float(bits) != int(bits):
            raise UnsupportedGraphError(node, "has a non-integer or per-channel bit width")
        kind = "INT" if attr(node, "signed", 1) else "UINT"
        dtype = DataType[f"{kind}{int(bits)}"]
    codes = np.round(out.astype(np.float64) / scale.astype(np.float64))
    if not np.allclose(codes * scale, out, rtol=1e-6, atol=0):
        raise UnsupportedGraphError(node, "produces weights that are not integer multiples of "
                                    "its scale")
    return codes.astype(np.float32), scale, dtype


class FoldWeightQuant(Pass):
    """Replace every all-constant quantizer node by ``W_int`` (+ ``Mul(W_int, s)`` if s != 1)."""

    QUANT_OPS = ("Quant", "BipolarQuant")

    def apply(self, model):
        for index, node in enumerate(model.graph.node):
            if node.op_type not in self.QUANT_OPS:
                continue
            if any(model.get_initializer(n) is None for n in node.input):
                continue
            codes, scale, dtype = _integer_codes(node, model)
            out = node.output[0]
            model.graph.node.remove(node)
            if np.all(scale == 1):
                model.set_initializer(out, codes)
                model.set_tensor_datatype(out, dtype)
            else:
                int_name = unique_tensor_name(model, f"{out}_int")
                scale_name = unique_tensor_name(model, f"{out}_scale")
                model.set_initializer(int_name, codes)
                model.set_tensor_datatype(int_name, dtype)
                model.set_initializer(scale_name, scale)
                mul = helper.make_node("Mul", [int_name, scale_name], [out],
                                       name=f"{node.name}_scale", doc_string=made_from(node))
                model.graph.node.insert(index, mul)
            return model, True
        return model, False
