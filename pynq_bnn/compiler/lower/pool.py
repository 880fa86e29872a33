# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rule: ``MaxPool`` on an integer stream -> HW :class:`MaxPool`."""
from __future__ import annotations

from pynq_bnn.compiler.hw.pool import MaxPool
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule

__all__ = ["MaxPoolRule"]


class MaxPoolRule(LoweringRule):
    def match(self, node, ctx) -> bool:
        return node.op_type == "MaxPool"

    def apply(self, node, ctx) -> None:
        kernel = list(attr(node, "kernel_shape"))
        if len(kernel) != 2:
            raise UnsupportedGraphError(node, f"pools over {len(kernel)} axes; only 2-D is "
                                        "supported")
        if any(attr(node, "pads", [0, 0, 0, 0])):
            raise UnsupportedGraphError(node, "has padding; only unpadded max-pooling is supported")
        if attr(node, "ceil_mode", 0):
            raise UnsupportedGraphError(node, "uses ceil_mode=1; only floor mode is supported")
        if list(attr(node, "dilations", [1, 1])) != [1, 1]:
            raise UnsupportedGraphError(node, "has dilation; only dilation 1 is supported")
        if len(node.output) > 1 and node.output[1]:
            raise UnsupportedGraphError(node, "returns indices; only the values can be lowered")
        src = ctx.stream(node.input[0], node)
        if len(src.shape) != 3:
            raise UnsupportedGraphError(node, f"reads a {len(src.shape)}-D stream; expected "
                                        "H, W, C")
        layer = MaxPool(ctx.unique_layer_name(node.name), [src.stream], node.output[0],
                        ifm_dim=list(src.shape[:2]), channels=int(src.shape[2]), kernel=kernel,
                        stride=list(attr(node, "strides", kernel)), in_type=src.stype.name)
        ctx.add_layer(layer, node.output[0])
        ctx.consume(node)
