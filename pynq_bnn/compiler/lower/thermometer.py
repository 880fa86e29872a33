# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rule: an input-encoding chain on the uint8 pixels -> HW :class:`Thermometer`.

Input encoders (``docs/export_patterns.md``) export as a chain on the pixel input::

    p (UINT8) -> [Mul/Div by a positive scalar]* -> Gather(axis=1, channel replication)
              -> elementwise ops with per-channel constants (Sub, Add, Mod, ...) -> BIPOLAR tensor

The streamline step leaves this chain alone (a channel ``Gather`` is not a per-channel tail), so
the rule evaluates it exactly: it runs the chain's own nodes (qonnx/onnxruntime, float32, the
graph's op order) on every pixel value ``0..255`` of every colour channel, and reads the output
bit of each encoded channel as a function of its source pixel. The FracBNN thermometer code is
recognised when every bit is a step ``[p >= t]`` and the Gather replicates each colour ``NT``
times in colour-major order; the thresholds ``t`` then come from the graph itself, never from a
re-implementation of the rounding. :mod:`pynq_bnn.compiler.lower.bitplane` reuses
:func:`find_encoding_chain` / :func:`encoding_bits` for the bit-plane pattern.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.onnx_exec import execute_node

from pynq_bnn.compiler.hw.thermometer import Thermometer
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule
from pynq_bnn.compiler.passes.tail_eval import is_per_channel

__all__ = ["ThermometerRule", "EncodingChain", "find_encoding_chain", "encoding_bits", "run_chain"]

MAX_CHAIN = 12
PIXELS = np.arange(256)


@dataclass
class EncodingChain:
    """A matched pixel-encoding chain (``nodes`` from the pixel stream to a BIPOLAR tensor)."""

    nodes: list
    source: str
    output: str
    gather: object
    indices: np.ndarray

    @property
    def channels_out(self) -> int:
        return int(self.indices.size)


def _is_positive_scalar_scale(ctx, node, tensor: str) -> bool:
    if node.op_type not in ("Mul", "Div") or node.input[0] != tensor:
        return False
    value = ctx.initializer(node.input[1])
    return value is not None and np.size(value) == 1 and float(np.asarray(value).reshape(())) > 0


def find_encoding_chain(node, ctx):
    """The encoding chain starting at ``node`` (a consumer of a UINT8 stream), or None."""
    src = ctx.streams.get(node.input[0]) if node.input else None
    if src is None or src.stype.name != "UINT8" or len(src.shape) != 3:
        return None
    channels, rank = int(src.shape[-1]), 4
    nodes, tensor, gather, current = [], node.input[0], None, node
    while current is not None and len(nodes) < MAX_CHAIN:
        if current.input[0] != tensor:
            return None
        if gather is None and current.op_type == "Gather":
            indices = ctx.initializer(current.input[1])
            if attr(current, "axis", 0) != 1 or indices is None or np.ndim(indices) != 1:
                return None
            gather = current
            channels = int(np.size(indices))
        elif gather is None and not _is_positive_scalar_scale(ctx, current, tensor):
            return None
        elif gather is not None and not is_per_channel(ctx.model, current, tensor, channels, rank):
            return None
        nodes.append(current)
        tensor = current.output[0]
        if gather is not None and ctx.model.get_tensor_datatype(tensor).name == "BIPOLAR":
            indices = np.asarray(ctx.initializer(gather.input[1]), dtype=np.int64)
            return EncodingChain(nodes, node.input[0], tensor, gather, indices)
        current = ctx.only_consumer(tensor)
    return None


def run_chain(model, nodes: list, input_name: str, values: np.ndarray) -> np.ndarray:
    """Execute ``nodes`` (a single-data-input chain) on ``values`` with qonnx's ``execute_node``.

    Elementwise ops keep the shape; a ``Gather`` on axis 1 sets the channel count. Constant
    inputs keep their own dtype (e.g. int64 Gather indices); everything else is float32.
    """
    context = {input_name: np.ascontiguousarray(values, dtype=np.float32)}
    infos = {input_name: TensorProto.FLOAT}
    for node in nodes:
        for name in node.input:
            value = model.get_initializer(name) if name else None
            if value is not None:
                context[name] = value
                infos[name] = helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)
        infos.update({name: TensorProto.FLOAT for name in node.output})
    graph = helper.make_graph([], "chain", [], [], value_info=[
        helper.make_tensor_value_info(name, elem, None) for name, elem in infos.items()])
    opset = next((int(i.version) for i in model.model.opset_import if i.domain in ("", "ai.onnx")),
                 13)
    current = context[input_name]
    for node in nodes:
        shape = list(current.shape)
        if node.op_type == "Gather":  # the channel replication changes the channel count
            shape[1] = int(np.size(context[node.input[1]]))
        context[node.output[0]] = np.empty(shape, dtype=np.float32)
        execute_node(node, context, graph, opset)
        current = np.asarray(context[node.output[0]], dtype=np.float32)
        context[node.output[0]] = current
    return current


def encoding_bits(chain: EncodingChain, ctx) -> np.ndarray:
    """Output bits ``(C_out, 256)`` of every encoded channel for source pixel values 0..255.

    Runs the chain's own nodes on a ``(1, C, 1, 256)`` tensor holding every pixel value in every
    colour channel. Raises :class:`UnsupportedGraphError` unless the outputs are ±1.
    """
    channels = int(ctx.streams[chain.source].shape[-1])
    values = np.broadcast_to(PIXELS.astype(np.float32), (1, channels, 1, 256)).copy()
    out = run_chain(ctx.model, chain.nodes, chain.source, values)
    out = out.reshape(chain.channels_out, 256)
    if not np.all(np.abs(out) == 1):
        raise UnsupportedGraphError(chain.nodes[-1], "is annotated BIPOLAR but the encoding chain "
                                    "produces values other than ±1")
    return (out > 0).astype(np.uint8)


def colour_major_repeats(chain: EncodingChain, channels: int):
    """``NT`` when the Gather is ``[0]*NT + [1]*NT + ...`` over ``channels`` colours, else None."""
    if chain.channels_out % channels:
        return None
    repeats = chain.channels_out // channels
    expected = np.repeat(np.arange(channels), repeats)
    return repeats if np.array_equal(chain.indices, expected) else None


def step_thresholds(bits: np.ndarray):
    """``t`` with ``bits[k, p] == [p >= t_k]`` for every row, or None if a row is no such step."""
    thresholds = np.argmax(bits, axis=1)
    thresholds[bits.max(axis=1) == 0] = 256
    steps = PIXELS[None, :] >= thresholds[:, None]
    return thresholds if np.array_equal(steps, bits.astype(bool)) else None


class ThermometerRule(LoweringRule):
    """Pixel chain whose every bit is ``[p_c >= t]`` (colour-major) -> :class:`Thermometer`."""

    def _thresholds(self, node, ctx):
        chain = find_encoding_chain(node, ctx)
        if chain is None:
            return None, None
        channels = int(ctx.streams[chain.source].shape[-1])
        if colour_major_repeats(chain, channels) is None:
            return chain, None
        return chain, step_thresholds(encoding_bits(chain, ctx))

    def match(self, node, ctx) -> bool:
        return self._thresholds(node, ctx)[1] is not None

    def apply(self, node, ctx) -> None:
        chain, thresholds = self._thresholds(node, ctx)
        src = ctx.streams[chain.source]
        channels = int(src.shape[-1])
        if np.any(thresholds > 255):
            constant = int(np.argmax(thresholds > 255))
            raise UnsupportedGraphError(chain.gather, f"encodes channel {constant} as a constant "
                                        "-1 (no pixel value sets it); the 8-bit thermometer stage "
                                        "needs thresholds in 0..255 — drop that level")
        nt = chain.channels_out // channels
        layer = Thermometer(ctx.unique_layer_name(chain.gather.name or "Thermometer"),
                            [src.stream], chain.output,
                            {"thresholds": thresholds.reshape(channels, nt).astype(np.int64)},
                            IFM_DIM=[int(d) for d in src.shape[:2]], IFM_CH=channels, NT=nt)
        ctx.add_layer(layer, chain.output)
        ctx.consume(*chain.nodes)
