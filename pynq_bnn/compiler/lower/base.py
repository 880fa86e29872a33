# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering framework: streamlined QONNX graph (NCHW, integer tensors) -> :class:`DataflowGraph`.

:func:`lower_model` visits the nodes of the streamlined model in graph (topological) order. For
each node not yet consumed it asks the rules in order; the first rule whose ``match`` is true
runs ``apply``, which creates HW layers with :meth:`LoweringContext.add_layer` and marks every
node it absorbed with :meth:`LoweringContext.consume`. A node no rule matches raises
:class:`UnsupportedGraphError` naming it. Streams are tracked channels-last (NHWC): the
context knows the per-image shape and :class:`StreamType` of every lowered tensor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pynq_bnn.compiler.graph import DataflowGraph
from pynq_bnn.compiler.hw.base import StreamType
from pynq_bnn.compiler.ir import UnsupportedGraphError, consumers, initializer, producer

__all__ = ["LoweringRule", "LoweringContext", "StreamInfo", "lower_model", "stream_type_of"]


@dataclass
class StreamInfo:
    """A lowered tensor: the HW stream carrying it and how its QONNX (NCHW) layout maps to it.

    Attributes:
        stream: HW stream name (the QONNX tensor name, or the tensor it aliases).
        shape: per-image channels-last shape of the stream.
        stype: element type.
        nchw_shape: per-image shape of the QONNX tensor (``(C, H, W)`` or ``(K,)``).
        flattened_from: ``(C, H, W)`` when the QONNX tensor is an NCHW flatten of a feature map
            that travels channels-last in hardware (consumers must permute their weight rows).
        scale: for a scaled integer stream (residual networks), the positive float ``s`` with
            QONNX value = stream integer * ``s``; None when the tensor holds the integers.
    """

    stream: str
    shape: tuple
    stype: StreamType
    nchw_shape: tuple
    flattened_from: tuple | None = None
    scale: float | None = None


def stream_type_of(model, tensor: str) -> StreamType:
    """The :class:`StreamType` of an integer-annotated QONNX tensor (see the streamline passes)."""
    dt = model.get_tensor_datatype(tensor).name
    if dt == "BIPOLAR":
        return StreamType("BIPOLAR", 1)
    for kind in ("UINT", "INT"):
        if dt.startswith(kind) and dt[len(kind):].isdigit():
            return StreamType(kind, int(dt[len(kind):]))
    raise UnsupportedGraphError(producer(model, tensor) or tensor,
                                f"produces tensor {tensor!r} of type {dt}; the lowering needs an "
                                "integer type (run the streamline passes first)")


class LoweringRule:
    """One lowering rule: a small class in its own file under ``pynq_bnn/compiler/lower/``."""

    def match(self, node, ctx: "LoweringContext") -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def apply(self, node, ctx: "LoweringContext") -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LoweringContext:
    """State shared by the rules while one model is lowered."""

    def __init__(self, model):
        self.model = model
        self.streams: dict = {}
        self.layers: list = []
        self.consumed: set = set()
        self._names: set = set()

    # -- queries ---------------------------------------------------------------------------------
    def initializer(self, name: str):
        return initializer(self.model, name)

    def consumers(self, tensor: str) -> list:
        return consumers(self.model, tensor)

    def producer(self, tensor: str):
        return producer(self.model, tensor)

    def only_consumer(self, tensor: str, op_type: str | None = None):
        """The single consumer of ``tensor`` (optionally of ``op_type``), else None."""
        if tensor in [o.name for o in self.model.graph.output]:
            return None
        users = self.consumers(tensor)
        if len(users) == 1 and (op_type is None or users[0].op_type == op_type):
            return users[0]
        return None

    def stream(self, tensor: str, node=None) -> StreamInfo:
        """The lowered stream of ``tensor`` (error naming ``node`` when it is not lowered)."""
        try:
            return self.streams[tensor]
        except KeyError:
            raise UnsupportedGraphError(node or tensor, f"reads {tensor!r}, which no earlier "
                                        "lowering rule produced") from None

    def stream_type(self, tensor: str) -> StreamType:
        return stream_type_of(self.model, tensor)

    def is_graph_output(self, tensor: str) -> bool:
        return tensor in [o.name for o in self.model.graph.output]

    # -- updates ---------------------------------------------------------------------------------
    def unique_layer_name(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        return name

    def add_layer(self, layer, tensor: str | None = None, nchw_shape: tuple | None = None):
        """Append ``layer``; when ``tensor`` is given, record that the layer's output carries it."""
        self._names.add(layer.name)
        self.layers.append(layer)
        shape = tuple(layer.out_shape())
        if tensor is not None:
            if nchw_shape is None:
                nchw_shape = (shape[-1],) + shape[:-1]
            self.streams[tensor] = StreamInfo(layer.output, shape, layer.out_type(),
                                              tuple(nchw_shape))
        return layer

    def alias(self, tensor: str, info: StreamInfo) -> None:
        """Record that QONNX tensor ``tensor`` is carried by an existing stream (no HW layer)."""
        self.streams[tensor] = info

    def consume(self, *nodes) -> None:
        self.consumed.update(n.name for n in nodes)


def _stream_tensors(ctx) -> dict:
    """For verification: the QONNX tensor each renamed or scaled HW stream carries (the first
    tensor recorded for it) and its scale (tensor value = stream integer * scale)."""
    tensors, scales, seen = {}, {}, set()
    for tensor, info in ctx.streams.items():
        if info.stream in seen:
            continue
        seen.add(info.stream)
        if tensor != info.stream:
            tensors[info.stream] = tensor
        if info.scale is not None:
            scales[info.stream] = float(info.scale)
    return {"stream_tensors": tensors, "stream_scales": scales}


def lower_model(model, rules, *, topk: int = 1, meta: dict | None = None) -> DataflowGraph:
    """Lower a streamlined QONNX model to a :class:`DataflowGraph` ending in a LabelSelect.

    Args:
        model: streamlined ``ModelWrapper`` (integer-annotated input ``(1, C, H, W)``).
        rules: lowering rules, tried in order for every node.
        topk: number of class indices the final LabelSelect emits.
        meta: JSON metadata stored on the graph.

    Raises:
        UnsupportedGraphError: naming the first node no rule can lower.
    """
    from pynq_bnn.compiler.hw.label_select import LabelSelect

    ctx = LoweringContext(model)
    graph_in = model.graph.input[0].name
    in_shape = tuple(model.get_tensor_shape(graph_in))
    if len(in_shape) != 4 or in_shape[0] != 1:
        raise UnsupportedGraphError(graph_in, f"has input shape {in_shape}; expected (1, C, H, W)")
    stype = stream_type_of(model, graph_in)
    hwc = (in_shape[2], in_shape[3], in_shape[1])
    ctx.alias(graph_in, StreamInfo(graph_in, hwc, stype, in_shape[1:]))
    for node in model.graph.node:
        if node.name in ctx.consumed:
            continue
        for rule in rules:
            if rule.match(node, ctx):
                rule.apply(node, ctx)
                break
        else:
            from pynq_bnn.compiler.lower.refusal import refuse_unlowered

            raise refuse_unlowered(node, ctx)
    out_tensor = model.graph.output[0].name
    out = ctx.stream(out_tensor)
    n_classes = int(np.prod(out.shape))
    if out.stype.kind not in ("INT", "UINT"):
        raise UnsupportedGraphError(out_tensor, f"is the graph output with type {out.stype.name}; "
                                    "label select needs integer scores")
    select = LabelSelect(ctx.unique_layer_name("LabelSelect_0"), [out.stream], "global_out_topk",
                         labels=n_classes, k=int(topk), in_type=out.stype.name, PE=1)
    ctx.add_layer(select)
    meta = dict(meta or {})
    meta.update(_stream_tensors(ctx))
    graph = DataflowGraph(ctx.layers, graph_in, hwc, stype.name, select.output, meta)
    graph.validate()
    return graph
