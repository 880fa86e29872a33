# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Pattern finder of the streamline step: the "segment" between two integer points.

A segment starts at an integer tensor ``S`` (the pixel input, a threshold output, an
accumulator) and is::

    S -> [positive scalar Mul/Div]* [Reshape/Flatten/MaxPool]* -> MAC(W) -> tail* -> quantizer
    S -> [positive scalar Mul/Div]* -> tail* -> quantizer                 (standalone)
    S -> [positive scalar Mul/Div]* [layout]* -> MAC(W) -> tail* -> graph output

where MAC is a MatMul/Conv with constant integer weights (optionally times a scale) and the tail
is a chain of per-channel elementwise ops (:data:`~.tail_eval.ELEMENTWISE_OPS`). Max-pooling and
reshapes commute with a positive scale, so they stay on the integer tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pynq_bnn.compiler.ir import consumers, producer, single_consumer
from pynq_bnn.compiler.passes.tail_eval import ELEMENTWISE_OPS, QUANT_OPS, is_per_channel

__all__ = ["Segment", "find_segment", "integer_weights", "is_sign_mul"]

LAYOUT_OPS = ("Reshape", "Flatten", "MaxPool")
MAC_OPS = ("MatMul", "Conv")


@dataclass
class Segment:
    source: str
    scales: list = field(default_factory=list)
    layout: list = field(default_factory=list)
    mac: object = None
    weights: np.ndarray | None = None
    weight_scale: np.ndarray | None = None
    weight_nodes: list = field(default_factory=list)
    bias: np.ndarray | None = None
    tail: list = field(default_factory=list)
    quant: object = None

    @property
    def tail_input(self) -> str:
        return self.mac.output[0] if self.mac is not None else self.source


def _positive_scalar_scale(model, node, tensor: str) -> bool:
    if node.op_type not in ("Mul", "Div") or node.input[0] != tensor:
        return False
    value = model.get_initializer(node.input[1])
    return value is not None and np.size(value) == 1 and float(np.asarray(value).reshape(())) > 0


def is_sign_mul(model, node) -> bool:
    """The per-channel ``Mul(±1)`` the streamline step puts before a MultiThreshold."""
    if node is None or node.op_type != "Mul":
        return False
    value = model.get_initializer(node.input[1])
    nxt = single_consumer(model, node.output[0])
    return (value is not None and np.all(np.abs(value) == 1) and nxt is not None
            and nxt.op_type == "MultiThreshold")


def integer_weights(model, node):
    """``(W_int, scale, producer nodes)`` of a MAC's weight input, or None if not integer."""
    name = node.input[1]
    value = model.get_initializer(name)
    if value is not None:
        value = np.asarray(value, dtype=np.float64)
        return (value, np.ones(1), []) if np.all(value == np.round(value)) else None
    mul = producer(model, name)
    if mul is None or mul.op_type != "Mul" or len(consumers(model, name)) != 1:
        return None
    a, b = (model.get_initializer(i) for i in mul.input)
    if a is None or b is None:
        return None
    if model.get_tensor_datatype(mul.input[0]).is_integer():
        w, s = a, b
    elif model.get_tensor_datatype(mul.input[1]).is_integer():
        w, s = b, a
    else:
        return None
    return np.asarray(w, dtype=np.float64), np.asarray(s, dtype=np.float32), [mul]


def _walk_tail(model, seg: Segment, tensor: str, node, channels: int, rank: int):
    while node is not None and node.op_type in ELEMENTWISE_OPS and is_per_channel(
            model, node, tensor, channels, rank):
        seg.tail.append(node)
        tensor = node.output[0]
        node = single_consumer(model, tensor)
    if node is not None and node.op_type in QUANT_OPS and node.input[0] == tensor and all(
            model.get_initializer(i) is not None for i in node.input[1:]):
        seg.quant = node
        return seg
    if node is None and seg.mac is not None and tensor in [o.name for o in model.graph.output]:
        return seg
    return None


def find_segment(model, source: str, node):
    """The not-yet-streamlined segment from ``source`` through its consumer ``node``, or None."""
    seg = Segment(source)
    tensor = source
    while node is not None:
        if _positive_scalar_scale(model, node, tensor):
            seg.scales.append(node)
        elif node.op_type in LAYOUT_OPS and node.input[0] == tensor:
            seg.layout.append(node)
        else:
            break
        tensor = node.output[0]
        node = single_consumer(model, tensor)
    if node is None or node.op_type == "MultiThreshold" or is_sign_mul(model, node):
        return None
    shape = model.get_tensor_shape(tensor)
    if node.op_type in MAC_OPS and node.input[0] == tensor:
        parts = integer_weights(model, node)
        if parts is None:
            return None
        weights, scale, weight_nodes = parts
        done = (not weight_nodes and model.get_tensor_datatype(node.input[1]).is_integer()
                and model.get_tensor_datatype(node.output[0]).is_integer())
        if done:
            return None
        seg.mac, seg.weights, seg.weight_scale, seg.weight_nodes = node, weights, scale, \
            weight_nodes
        if len(node.input) > 2 and node.input[2]:
            bias = model.get_initializer(node.input[2])
            if bias is None:
                return None
            seg.bias = np.asarray(bias, dtype=np.float32).reshape(-1)
        out_shape = model.get_tensor_shape(node.output[0])
        return _walk_tail(model, seg, node.output[0], single_consumer(model, node.output[0]),
                          out_shape[1], len(out_shape))
    if (node.op_type in ELEMENTWISE_OPS or node.op_type in QUANT_OPS) and not seg.layout:
        seg.tail, seg.scales = seg.scales, []  # exact: evaluated on the integer source itself
        return _walk_tail(model, seg, tensor, node, shape[1], len(shape))
    return None
