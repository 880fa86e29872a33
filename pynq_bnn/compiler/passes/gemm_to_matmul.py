# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""GemmToMatMul: ``Gemm(A, B, C)`` with constant ``B`` -> ``MatMul(A, B')`` (+ ``Add(C)``).

``transB`` is resolved by transposing the constant weights (an initializer, or both operands of
the ``Mul(W_int, s)`` left by :class:`FoldWeightQuant`), so the MatMul weight is ``(K, MH)`` and
the integer weights stay visible. ``alpha``/``beta`` must be 1 and ``transA`` 0.
"""
from __future__ import annotations

import numpy as np
from onnx import helper

from pynq_bnn.compiler.ir import UnsupportedGraphError, attr, consumers, made_from, producer, \
    unique_tensor_name
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["GemmToMatMul"]


def _transpose_constant(model, name: str, node) -> str:
    """Name of a transposed copy of constant 2-D tensor ``name`` (follows one Mul)."""
    value = model.get_initializer(name)
    if value is not None:
        new = unique_tensor_name(model, f"{name}_T")
        model.set_initializer(new, np.ascontiguousarray(np.asarray(value).T))
        model.set_tensor_datatype(new, model.get_tensor_datatype(name))
        return new
    mul = producer(model, name)
    if mul is None or mul.op_type != "Mul" or len(consumers(model, name)) != 1:
        raise UnsupportedGraphError(node, "has non-constant weights B; only constant weights are "
                                    "supported")
    inputs = []
    for operand in mul.input:
        value = model.get_initializer(operand)
        if value is None:
            raise UnsupportedGraphError(node, "has weights computed from a non-constant tensor")
        inputs.append(_transpose_constant(model, operand, node) if np.ndim(value) == 2 else operand)
    new = unique_tensor_name(model, f"{name}_T")
    index = list(model.graph.node).index(mul)
    model.graph.node.insert(index + 1, helper.make_node("Mul", inputs, [new], name=f"{mul.name}_T",
                                                                   doc_string=made_from(mul)))
    return new


class GemmToMatMul(Pass):
    def apply(self, model):
        for index, node in enumerate(model.graph.node):
            if node.op_type != "Gemm":
                continue
            if attr(node, "alpha", 1.0) != 1.0 or attr(node, "transA", 0):
                raise UnsupportedGraphError(node, "has alpha != 1 or transA; export a plain Linear")
            weight = node.input[1]
            if attr(node, "transB", 0):
                weight = _transpose_constant(model, weight, node)
            index = list(model.graph.node).index(node)
            out = node.output[0]
            has_bias = len(node.input) > 2 and node.input[2]
            mm_out = unique_tensor_name(model, f"{out}_mm") if has_bias else out
            new_nodes = [helper.make_node("MatMul", [node.input[0], weight], [mm_out],
                                          name=f"{node.name}_MatMul",
                                          doc_string=made_from(node))]
            if has_bias:
                if attr(node, "beta", 1.0) != 1.0:
                    raise UnsupportedGraphError(node, "has beta != 1")
                new_nodes.append(helper.make_node("Add", [mm_out, node.input[2]], [out],
                                                  name=f"{node.name}_bias",
                                                  doc_string=made_from(node)))
            model.graph.node.remove(node)
            for offset, new in enumerate(new_nodes):
                model.graph.node.insert(index + offset, new)
            return model, True
        return model, False
