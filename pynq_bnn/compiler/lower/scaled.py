# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Scaled integer streams: ``float tensor = integer stream * scale`` (residual networks).

The streamline passes stop where a quantizer's output feeds several consumers (a residual
stream read by the branch and the shortcut) or where two streams meet (the residual add): the
graph keeps ``Mul(int, s)`` there. These rules and helpers lower such graphs directly, always by
**tabulating the graph's own nodes** (qonnx ``execute_node``, float32, the graph's op order) on
every integer of the source domain, so each table is what the graph computes:

* :class:`ScaledStreamRule` — ``Mul(int stream, positive scalar)``: no layer; the stream
  carries the tensor and its scale (:attr:`StreamInfo.scale`: value = integer * scale).
* :class:`ScaledSignRule` — ``[per-channel ops, e.g. RSign's shift] -> BipolarQuant | Quant`` on
  a scaled stream: :class:`Requantize` (thresholds; a LUT if a row is not monotone).
* :class:`ScaledFlattenRule` — a flatten of a scaled stream keeps the scale.
* :class:`ConstantNodeRule` — a node whose inputs are all constants: its consumers read it.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.onnx_exec import execute_node

from pynq_bnn.compiler.hw.requantize import Requantize, fit_channel_function
from pynq_bnn.compiler.hw.residual import type_range
from pynq_bnn.compiler.ir import UnsupportedGraphError
from pynq_bnn.compiler.lower.base import LoweringRule, StreamInfo
from pynq_bnn.compiler.passes.tail_eval import ELEMENTWISE_OPS, QUANT_OPS, is_per_channel, \
    quant_levels

__all__ = ["ScaledStreamRule", "ScaledSignRule", "ScaledFlattenRule", "ConstantNodeRule",
           "scaled", "set_scaled", "hw_name", "evaluate_nodes", "quant_tail", "tabulate_quant",
           "requantize", "is_pow2", "scalar_constant", "quant_codes", "CHAIN_OPS"]

CHAIN_OPS = ELEMENTWISE_OPS + ("Round",)
_BOOL_OPS = ("Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or")


# -- helpers -------------------------------------------------------------------------------------
def scaled(ctx, tensor: str):
    """``(StreamInfo, scale)`` when ``tensor`` is an integer stream times a known scale (the
    scale travels on the stream: :attr:`StreamInfo.scale`)."""
    info = ctx.streams.get(tensor)
    if info is None or info.scale is None:
        return None
    return info, info.scale


def set_scaled(ctx, tensor: str, info: StreamInfo, scale: float) -> None:
    """Record that QONNX tensor ``tensor`` is ``integer stream info * scale``."""
    ctx.streams[tensor] = replace(info, scale=float(scale))


def hw_name(tensor: str) -> str:
    """Stream name of an integer stream carrying the scaled float tensor ``tensor`` (the graph
    tensor holds ``integer * scale``; :func:`~pynq_bnn.compiler.verify.compare_layers` compares
    same-named tensors as integers, so the stream gets its own name)."""
    return f"{tensor}_int"


def scalar_constant(ctx, name: str):
    value = ctx.initializer(name)
    if value is None or np.size(value) != 1:
        return None
    return float(np.asarray(value).reshape(()))


def is_pow2(x: float) -> bool:
    m, _ = np.frexp(x)
    return x > 0 and m == 0.5


def evaluate_nodes(model, nodes: list, feeds: dict) -> dict:
    """Run ``nodes`` (topologically ordered) with qonnx ``execute_node`` on ``feeds``.

    Initializers are loaded automatically; every other tensor is float32 except the outputs of
    comparison ops (bool). Returns the whole context.
    """
    context = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in feeds.items()}
    infos = {k: TensorProto.FLOAT for k in feeds}
    for node in nodes:
        for name in node.input:
            if name and name not in context and name not in infos:
                value = model.get_initializer(name)
                if value is None:
                    raise UnsupportedGraphError(node, f"reads {name!r}, which is neither fed nor "
                                                "a constant while tabulating")
                context[name] = value
                infos[name] = helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)
        for name in node.output:
            infos[name] = TensorProto.BOOL if node.op_type in _BOOL_OPS else TensorProto.FLOAT
    graph = helper.make_graph([], "tab", [], [], value_info=[
        helper.make_tensor_value_info(n, e, None) for n, e in infos.items()])
    opset = next((int(i.version) for i in model.model.opset_import if i.domain in ("", "ai.onnx")),
                 13)
    for node in nodes:
        first = context[node.input[0]] if node.input and node.input[0] in context else None
        shape = () if first is None else np.shape(first)
        if node.op_type not in ("BatchNormalization", "Conv", "Clip") and first is not None:
            shape = np.broadcast_shapes(*[np.shape(context[i]) for i in node.input if i])
        dtype = np.bool_ if node.op_type in _BOOL_OPS else np.float32
        for out in node.output:
            context[out] = np.empty(shape, dtype=dtype)
        execute_node(node, context, graph, opset)
    return context


def walk_chain(ctx, tensor: str, channels: int, rank: int = 4):
    """Single-consumer per-channel elementwise nodes from ``tensor``; returns (nodes, last tensor,
    next node)."""
    nodes = []
    node = ctx.only_consumer(tensor)
    while node is not None and node.op_type in CHAIN_OPS and node.input[0] == tensor and \
            is_per_channel(ctx.model, node, tensor, channels, rank):
        nodes.append(node)
        tensor = node.output[0]
        node = ctx.only_consumer(tensor)
    return nodes, tensor, node


def quant_tail(ctx, tensor: str, channels: int, rank: int = 4):
    """``(nodes incl. the Quant, quant node)`` of a tail ``tensor -> chain -> Quant``, or None."""
    nodes, last, node = walk_chain(ctx, tensor, channels, rank)
    if node is None or node.op_type not in QUANT_OPS or node.input[0] != last or not all(
            ctx.initializer(i) is not None for i in node.input[1:]):
        return None
    return nodes + [node], node


def tabulate_quant(ctx, nodes, quant, in_tensor: str, domain: np.ndarray, scale: float,
                   channels: int, rank: int = 4):
    """Integer output codes ``(C, D)`` of ``nodes`` fed with ``domain * scale`` per channel."""
    values = (domain.astype(np.float32) * np.float32(scale)).reshape((-1,) + (1,) * (rank - 1)) \
        * np.ones((1, channels) + (1,) * (rank - 2), np.float32)
    out = evaluate_nodes(ctx.model, nodes, {in_tensor: values})[quant.output[0]]
    out = np.asarray(out, dtype=np.float64).reshape(domain.size, channels)
    levels = quant_levels(ctx.model, quant)
    return quant_codes(quant, out, levels).T, levels


def quant_codes(quant, out: np.ndarray, levels) -> np.ndarray:
    """Integer codes of a quantizer's float outputs ``code * scale`` (float32 products: a
    non-power-of-two scale leaves a relative error of about 2^-24, far below half a code)."""
    codes = np.asarray(out, dtype=np.float64) / levels.scale
    rounded = np.round(codes)
    if np.any(np.abs(codes - rounded) > 1e-3):
        raise UnsupportedGraphError(quant, "produced values off its grid while tabulating")
    return rounded.astype(np.int64)


def requantize(ctx, name, src: StreamInfo, table, domain, out_dtype: str, out_tensor: str,
               nchw=None, stream: str | None = None):
    """A :class:`Requantize` of ``src`` computing ``table`` (C, D) over ``domain``; its output
    stream is ``stream`` (default :func:`hw_name` of ``out_tensor``) and carries
    ``out_tensor``."""
    fit = fit_channel_function(domain, table, "auto")
    spatial = list(src.shape[:-1])
    layer = Requantize(ctx.unique_layer_name(name), [src.stream], stream or hw_name(out_tensor),
                       fit["params"],
                       SPATIAL=spatial, IN_CH=int(src.shape[-1]), OUT_CH=int(table.shape[0]),
                       in_dtype=src.stype.name, out_dtype=out_dtype, MODE=fit["mode"],
                       in_min=fit["in_min"], out_bias=fit["out_bias"])
    return ctx.add_layer(layer, out_tensor, nchw)


# -- rules ---------------------------------------------------------------------------------------
class ScaledStreamRule(LoweringRule):
    """``Mul(integer stream, positive scalar)``: the stream carries the product (scale noted)."""

    def match(self, node, ctx) -> bool:
        if node.op_type != "Mul" or node.input[0] not in ctx.streams:
            return False
        s = scalar_constant(ctx, node.input[1])
        src = ctx.streams[node.input[0]]
        return s is not None and s > 0 and src.stype.kind in ("INT", "UINT")

    def apply(self, node, ctx) -> None:
        src = ctx.streams[node.input[0]]
        prev = (ctx.streams[node.input[0]].scale or 1.0)
        set_scaled(ctx, node.output[0], src, prev * scalar_constant(ctx, node.input[1]))
        ctx.consume(node)


class ConstantNodeRule(LoweringRule):
    """A node computing a constant (all inputs are initializers): its consumers read it."""

    def match(self, node, ctx) -> bool:
        return bool(node.input) and all(ctx.initializer(i) is not None for i in node.input if i)

    def apply(self, node, ctx) -> None:
        ctx.consume(node)




class ScaledSignRule(LoweringRule):
    """``[per-channel chain] -> BipolarQuant | Quant`` reading a scaled int stream: the sign of a
    residual stream (Bi-Real), with a learnable per-channel shift before it (ReActNet's RSign), or
    any requantization of it. The chain + quantizer is tabulated on every integer of the
    stream's type: thresholds per channel (the next MVAU reads ±1 or k-bit codes)."""

    def _tail(self, node, ctx):
        if node.op_type not in CHAIN_OPS + QUANT_OPS or not node.input:
            return None
        got = scaled(ctx, node.input[0])
        if got is None:
            return None
        src, _ = got
        channels, rank = int(src.shape[-1]), len(src.nchw_shape) + 1
        if node.op_type in QUANT_OPS:
            if not all(ctx.initializer(i) is not None for i in node.input[1:]):
                return None
            return [node], node, channels
        if not is_per_channel(ctx.model, node, node.input[0], channels, rank):
            return None
        found = quant_tail(ctx, node.output[0], channels, rank)
        if found is None:
            return None
        return [node] + found[0], found[1], channels

    def match(self, node, ctx) -> bool:
        return self._tail(node, ctx) is not None

    def apply(self, node, ctx) -> None:
        nodes, quant, channels = self._tail(node, ctx)
        src, s = scaled(ctx, node.input[0])
        lo, hi = type_range(src.stype)
        domain = np.arange(lo, hi + 1, dtype=np.int64)
        table, levels = tabulate_quant(ctx, nodes, quant, node.input[0], domain, s, channels,
                                       rank=len(src.nchw_shape) + 1)
        out_tensor = quant.output[0]
        if levels.dtype.name == "BIPOLAR":  # codes -1/+1 -> stored bits 0/1
            table = (table > 0).astype(np.int64)
        requantize(ctx, f"{quant.name}_requant", src, table, domain, levels.dtype.name,
                   out_tensor, src.nchw_shape, stream=out_tensor if levels.scale == 1.0 else None)
        if levels.scale != 1.0:
            set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
        ctx.consume(*nodes)


class ScaledFlattenRule(LoweringRule):
    """``Flatten``/``Reshape`` to ``(1, K)`` of a scaled stream: an alias keeping the scale."""

    def match(self, node, ctx) -> bool:
        return node.op_type in ("Flatten", "Reshape") and scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        from pynq_bnn.compiler.lower.layout import FlattenRule

        s = scaled(ctx, node.input[0])[1]
        FlattenRule().apply(node, ctx)
        ctx.streams[node.output[0]] = replace(ctx.streams[node.output[0]], scale=s)



class ConstantNodeRule(LoweringRule):
    """A node computing a constant (all inputs are initializers): its consumers read it."""

    def match(self, node, ctx) -> bool:
        return bool(node.input) and all(ctx.initializer(i) is not None for i in node.input if i)

    def apply(self, node, ctx) -> None:
        ctx.consume(node)


