# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rule: ``Reshape`` / ``Flatten`` to ``(1, K)`` — free in a channels-last stream.

The flattened QONNX tensor (NCHW order ``c, h, w``) is carried by the same stream (order
``h, w, c``); the rule records ``flattened_from = (C, H, W)`` so the consuming MVAU permutes its
weight columns. No HW layer is created.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.ir import UnsupportedGraphError
from pynq_bnn.compiler.lower.base import LoweringRule, StreamInfo

__all__ = ["FlattenRule"]


class FlattenRule(LoweringRule):
    def match(self, node, ctx) -> bool:
        return node.op_type in ("Reshape", "Flatten")

    def apply(self, node, ctx) -> None:
        src = ctx.stream(node.input[0], node)
        out_shape = tuple(ctx.model.get_tensor_shape(node.output[0]) or ())
        k = int(np.prod(src.shape))
        if len(out_shape) != 2 or out_shape[0] != 1 or out_shape[1] != k:
            raise UnsupportedGraphError(node, f"reshapes {src.nchw_shape} to {out_shape}; only a "
                                        "flatten to (1, C*H*W) is supported")
        flat_from = None
        if len(src.nchw_shape) == 3 and src.nchw_shape[0] > 1 and src.nchw_shape[1] * \
                src.nchw_shape[2] > 1:
            flat_from = tuple(src.nchw_shape)
        ctx.alias(node.output[0], StreamInfo(src.stream, (k,), src.stype, (k,), flat_from))
        ctx.consume(node)
