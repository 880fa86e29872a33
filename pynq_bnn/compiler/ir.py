# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Thin helpers over qonnx's ``ModelWrapper`` (the compiler's IR) and the compiler's errors.

The IR of every compiler step up to lowering is a QONNX ``ModelWrapper``: it can be saved,
opened in Netron and executed with ``qonnx.core.onnx_exec.execute_onnx``. These helpers keep the
passes short; none of them copies the model.
"""
from __future__ import annotations

import numpy as np

__all__ = ["UnsupportedGraphError", "GraphFormatError", "initializer", "consumers", "producer",
           "single_consumer", "attr", "is_scalar", "replace_tensor_uses", "remove_node",
           "unique_tensor_name", "QONNX_DOMAIN", "made_from", "origin_of"]

QONNX_DOMAIN = "qonnx.custom_op.general"
_ORIGIN_TAG = "pynq_bnn:made-from "


def made_from(origin) -> str:
    """``doc_string`` for a node a pass creates from the user's node ``origin`` (or from the
    graph input, when ``origin`` is a tensor name), so that errors name the user's node."""
    if isinstance(origin, str):
        return f"{_ORIGIN_TAG}Input {origin}"
    first = origin_of(origin)  # a node made from a made node keeps the first origin
    op_type, name = first if first is not None else (origin.op_type, origin.name)
    return f"{_ORIGIN_TAG}{op_type} {name}"


def origin_of(node) -> tuple | None:
    """``(op_type, name)`` of the user's node a compiler-made ``node`` came from; None for a
    node of the user's graph."""
    doc = getattr(node, "doc_string", "") or ""
    if not doc.startswith(_ORIGIN_TAG):
        return None
    op_type, _, name = doc[len(_ORIGIN_TAG):].partition(" ")
    return op_type, name


class UnsupportedGraphError(ValueError):
    """The graph contains something the compiler cannot lower exactly.

    The message names the node, its op type and the reason, e.g.
    ``Conv node 'Conv_3' has dilation 2; only dilation 1 is supported``.
    """

    def __init__(self, node, reason: str):
        origin = origin_of(node)  # a node a pass made: name the user's node it came from
        self.node_name = origin[1] if origin else getattr(node, "name", str(node))
        self.op_type = origin[0] if origin else getattr(node, "op_type", "?")
        self.reason = reason
        super().__init__(f"{self.op_type} node {self.node_name!r} {reason}")


class GraphFormatError(ValueError):
    """A saved dataflow graph (graph.json + params.npz) is missing, corrupt or inconsistent."""


def initializer(model, name: str):
    """The constant value of tensor ``name`` or None when it is not an initializer."""
    return model.get_initializer(name)


def consumers(model, name: str) -> list:
    """All nodes reading tensor ``name`` (in graph order)."""
    return [n for n in model.graph.node if name in n.input]


def producer(model, name: str):
    """The node writing tensor ``name`` or None (graph input / initializer)."""
    for node in model.graph.node:
        if name in node.output:
            return node
    return None


def single_consumer(model, name: str):
    """The only consumer of ``name``; None when there are zero or several, or it is an output."""
    if name in [o.name for o in model.graph.output]:
        return None
    users = consumers(model, name)
    return users[0] if len(users) == 1 else None


def attr(node, name: str, default=None):
    """Value of attribute ``name`` of an ONNX node (ints/floats/lists/strings decoded)."""
    from onnx import helper  # imported here: the runtime imports this module without onnx

    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def is_scalar(value) -> bool:
    return value is not None and np.asarray(value).size == 1


def replace_tensor_uses(model, old: str, new: str) -> None:
    """Make every node input (and graph output) reading ``old`` read ``new`` instead."""
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    for out in model.graph.output:
        if out.name == old:
            out.name = new


def remove_node(model, node) -> None:
    """Remove ``node`` and the initializers only it used."""
    model.graph.node.remove(node)
    for name in node.input:
        if name and model.get_initializer(name) is not None and not consumers(model, name):
            model.del_initializer(name)


def unique_tensor_name(model, prefix: str) -> str:
    """A tensor name not used anywhere in ``model``."""
    used = {t for n in model.graph.node for t in list(n.input) + list(n.output)}
    used |= {i.name for i in model.graph.initializer} | {i.name for i in model.graph.input}
    k = 0
    while f"{prefix}_{k}" in used:
        k += 1
    return f"{prefix}_{k}"
