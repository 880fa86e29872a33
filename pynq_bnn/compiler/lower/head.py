# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Classifier heads on scaled integer streams (:mod:`.scaled`).

* :class:`GlobalPoolHeadRule` — ``GlobalAveragePool | ReduceMean(H, W) -> [tail -> Quant]``:
  :class:`SumPool` (GLOBAL) [+ :class:`Requantize`].
* :class:`ScaledMatMulRule` — the classifier ``MatMul(scaled int stream, W_int * s)`` ending at
  the graph output: MVAU on ``W_int`` (the positive scalar ``s_in * s`` does not change the
  top-k), e.g. an 8-bit classifier after the global pool.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.avgpool import SumPool
from pynq_bnn.compiler.hw.residual import type_range
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule, StreamInfo
from pynq_bnn.compiler.lower.mac import add_mvau
from pynq_bnn.compiler.lower.scaled import hw_name, is_pow2, quant_tail, requantize, scaled, \
    set_scaled, tabulate_quant

__all__ = ["GlobalPoolHeadRule", "ScaledMatMulRule"]


class GlobalPoolHeadRule(LoweringRule):
    """``GlobalAveragePool | ReduceMean(H, W)`` on a scaled int stream -> SumPool(GLOBAL)
    [+ Requantize of the following tail + Quant]."""

    def match(self, node, ctx) -> bool:
        if node.op_type not in ("GlobalAveragePool", "ReduceMean"):
            return False
        return scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        src, s = scaled(ctx, node.input[0])
        if node.op_type == "ReduceMean":
            axes = attr(node, "axes", None)
            if axes is None and len(node.input) > 1:
                axes = ctx.initializer(node.input[1])
            if axes is None or sorted(int(a) % 4 for a in np.ravel(axes)) != [2, 3]:
                raise UnsupportedGraphError(node, "only a mean over H and W is supported")
        h, w = src.shape[:2]
        if not is_pow2(h * w):  # mean = sum * (s / HW): exact in float only for HW = 2^k
            raise UnsupportedGraphError(node, f"averages a {h}x{w} frame; the mean is exact only "
                                        "when H*W is a power of two: pool to such a frame first "
                                        "or quantize the sum instead")
        channels = int(src.shape[-1])
        pool_tensor = node.output[0]
        layer = SumPool(ctx.unique_layer_name(node.name), [src.stream], hw_name(pool_tensor),
                        IFM_DIM=[int(h), int(w)], CH=channels, GLOBAL=1, in_dtype=src.stype.name)
        ctx.add_layer(layer, pool_tensor, (channels, 1, 1))
        s_sum = s / (h * w)
        set_scaled(ctx, pool_tensor, ctx.streams[pool_tensor], s_sum)
        ctx.consume(node)
        tail = quant_tail(ctx, pool_tensor, channels)
        if tail is None:
            return
        lo, hi = type_range(layer.out_type())
        domain = np.arange(lo, hi + 1, dtype=np.int64)
        table, levels = tabulate_quant(ctx, tail[0], tail[1], pool_tensor, domain, s_sum,
                                        channels)
        out_tensor = tail[1].output[0]
        requantize(ctx, f"{node.name}_requant", ctx.streams[pool_tensor], table, domain,
                    levels.dtype.name, out_tensor, (channels, 1, 1))
        set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
        ctx.consume(*tail[0])


class ScaledMatMulRule(LoweringRule):
    """Classifier ``MatMul(scaled int stream, W_int * s_w)`` ending at the graph output."""

    def _weights(self, node, ctx):
        w = ctx.initializer(node.input[1])
        if w is not None:
            return np.asarray(w, np.float64), 1.0
        mul = ctx.producer(node.input[1])
        if mul is None or mul.op_type != "Mul":
            return None
        a, b = (ctx.initializer(i) for i in mul.input)
        if a is None or b is None:
            return None
        if np.size(b) != 1:
            a, b = b, a
        if np.size(b) != 1 or float(np.asarray(b).reshape(())) <= 0:
            return None
        a = np.asarray(a, np.float64)
        if not np.all(a == np.round(a)):
            return None
        return a, float(np.asarray(b).reshape(()))

    def match(self, node, ctx) -> bool:
        return (node.op_type == "MatMul" and scaled(ctx, node.input[0]) is not None
                and ctx.is_graph_output(node.output[0]) and self._weights(node, ctx) is not None)

    def apply(self, node, ctx) -> None:
        src, s_in = scaled(ctx, node.input[0])
        w, s_w = self._weights(node, ctx)
        weights = w.T  # (MH, K)
        if src.flattened_from is not None:
            c, h, ww = src.flattened_from
            order = np.arange(c * h * ww).reshape(c, h, ww).transpose(1, 2, 0).ravel()
            weights = weights[:, order]
        add_mvau(ctx, node, weights, src.stream, (weights.shape[1],), src.stype)
        layer, out = ctx.layers[-1], node.output[0]
        layer.output = hw_name(out)  # the graph tensor holds the scaled logits
        info = ctx.streams[out]
        ctx.streams[out] = StreamInfo(layer.output, info.shape, info.stype, info.nchw_shape,
                                      scale=s_in * s_w)
