# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rule: a standalone ``[Mul(±1)] -> MultiThreshold`` on a stream -> HW Thresholding.

(A MultiThreshold right after a MatMul/Conv is absorbed by the MVAU rule instead.) Example:
LFC's input binarization ``p >= 128`` on the uint8 pixel stream.
"""
from __future__ import annotations

from pynq_bnn.compiler.hw.thresholding import Thresholding
from pynq_bnn.compiler.lower.activation import find_activation, read_activation
from pynq_bnn.compiler.lower.base import LoweringRule

__all__ = ["ThresholdingRule"]


class ThresholdingRule(LoweringRule):
    def match(self, node, ctx) -> bool:
        if node.op_type == "MultiThreshold":
            return True
        if node.op_type == "Mul" and node.input[0] in ctx.streams:
            src = ctx.streams[node.input[0]]
            return find_activation(ctx, node.input[0], int(src.shape[-1])) is not None
        return False

    def apply(self, node, ctx) -> None:
        src = ctx.stream(node.input[0], node)
        channels = int(src.shape[-1])
        if node.op_type == "MultiThreshold":
            act = read_activation(ctx, None, node, channels)
        else:
            act = find_activation(ctx, node.input[0], channels)
        layer = Thresholding(ctx.unique_layer_name(act.nodes[-1].name), [src.stream], act.output,
                             {"thresholds": act.thresholds, "neg": act.neg},
                             shape=list(src.shape), in_type=src.stype.name,
                             out_type=act.out_type, num_thresholds=int(act.thresholds.shape[1]),
                             out_bias=act.out_bias)
        ctx.add_layer(layer, act.output, src.nchw_shape)
        ctx.consume(*act.nodes)
