# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""HoistScalarOps: move scalar elementwise ops and per-tensor quantizers above reshapes.

``Reshape``/``Flatten`` only reorder elements, so an elementwise op whose other operands are
scalars commutes with them exactly: ``f(reshape(x)) == reshape(f(x))``. Users' MLPs (Brevitas'
bnn_pynq TFC/SFC/LFC: ``x.view(N, -1)``, then ``2x - 1``, then a 1-bit input quantizer) put the
reshape first; hoisting the ``Mul``/``Sub``/quantizer above it makes the input mapping a
standalone tail on the pixel stream, which the streamline step turns into thresholds (FINN's
binarized-input stage). Only ops with scalar constant operands move (a per-channel op would
change meaning across a reshape).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.ir import consumers, producer, unique_tensor_name
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["HoistScalarOps"]

LAYOUT_OPS = ("Reshape", "Flatten")
SCALAR_OPS = ("Mul", "Div", "Add", "Sub", "BipolarQuant", "Quant", "Relu", "Neg", "Identity")


def _scalar_operands(model, node) -> bool:
    """All inputs after the first are scalar constants."""
    return all(name and model.get_initializer(name) is not None
               and np.size(model.get_initializer(name)) == 1 for name in node.input[1:])


class HoistScalarOps(Pass):
    def apply(self, model):
        graph_outputs = {o.name for o in model.graph.output}
        for node in model.graph.node:
            if node.op_type not in SCALAR_OPS or not node.input or not _scalar_operands(model,
                                                                                       node):
                continue
            layout = producer(model, node.input[0])
            if layout is None or layout.op_type not in LAYOUT_OPS or \
                    len(consumers(model, layout.output[0])) != 1 or \
                    layout.output[0] in graph_outputs:
                continue
            self._swap(model, layout, node)
            return model, True
        return model, False

    @staticmethod
    def _swap(model, layout, node) -> None:
        """``x -> layout -> t -> node -> y``  becomes  ``x -> node -> t' -> layout -> y``."""
        x, t, y = layout.input[0], layout.output[0], node.output[0]
        moved = unique_tensor_name(model, f"{y}_unreshaped")
        node.input[0] = x
        node.output[0] = moved
        layout.input[0] = moved
        layout.output[0] = y
        for info in list(model.graph.value_info):
            if info.name == t:
                model.graph.value_info.remove(info)
        nodes = model.graph.node
        nodes.remove(node)
        nodes.insert(list(nodes).index(layout), node)
