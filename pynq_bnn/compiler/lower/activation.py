# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Shared helper of the lowering rules: read the activation that follows an integer tensor.

In the streamlined graph a per-channel activation is ``[Mul(±1 per channel)] -> MultiThreshold``
(the optional Mul marks channels whose tail was decreasing: the HW ``neg`` flag). This module
turns that pattern into the ``thresholds`` / ``neg`` / ``out_bias`` of a HW layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pynq_bnn.compiler.ir import UnsupportedGraphError, attr

__all__ = ["Activation", "find_activation", "read_activation"]


@dataclass
class Activation:
    """A matched ``[Mul(±1)] -> MultiThreshold`` pattern."""

    nodes: list
    output: str
    thresholds: np.ndarray
    neg: np.ndarray
    out_bias: int
    out_type: str


def read_activation(ctx, sign_node, mt_node, channels: int) -> Activation:
    """Decode a MultiThreshold (and optional sign Mul) into HW threshold parameters."""
    thresholds = ctx.initializer(mt_node.input[1])
    if thresholds is None:
        raise UnsupportedGraphError(mt_node, "has non-constant thresholds")
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if not np.all(thresholds == np.round(thresholds)):
        raise UnsupportedGraphError(mt_node, "has non-integer thresholds on an integer input")
    if thresholds.shape[0] == 1 and channels > 1:
        thresholds = np.repeat(thresholds, channels, axis=0)
    if thresholds.shape[0] != channels:
        raise UnsupportedGraphError(mt_node, f"has {thresholds.shape[0]} threshold rows for "
                                    f"{channels} channels")
    neg = np.zeros(channels, dtype=np.uint8)
    if sign_node is not None:
        signs = np.asarray(ctx.initializer(sign_node.input[1])).reshape(-1)
        neg = np.broadcast_to(signs < 0, (channels,)).astype(np.uint8)
    out_type = ctx.stream_type(mt_node.output[0]).name
    scale, bias = float(attr(mt_node, "out_scale", 1.0)), float(attr(mt_node, "out_bias", 0.0))
    if out_type == "BIPOLAR":
        if (scale, bias) != (2.0, -1.0) or thresholds.shape[1] != 1:
            raise UnsupportedGraphError(mt_node, "is annotated BIPOLAR but is not one threshold "
                                        "with out_scale=2, out_bias=-1")
        out_bias = 0
    else:
        if scale != 1.0 or bias != round(bias):
            raise UnsupportedGraphError(mt_node, f"has out_scale={scale}, out_bias={bias}; "
                                        "integer outputs need out_scale=1 and an integer bias")
        out_bias = int(bias)
    return Activation([n for n in (sign_node, mt_node) if n is not None], mt_node.output[0],
                      thresholds.astype(np.int64), neg, out_bias, out_type)


def _is_sign_mul(ctx, node) -> bool:
    if node is None or node.op_type != "Mul":
        return False
    value = ctx.initializer(node.input[1])
    return value is not None and np.all(np.abs(value) == 1)


def find_activation(ctx, tensor: str, channels: int):
    """The activation reading ``tensor`` (None when the tensor is not followed by one)."""
    node = ctx.only_consumer(tensor)
    sign_node = None
    if _is_sign_mul(ctx, node):
        sign_node, node = node, ctx.only_consumer(node.output[0])
    if node is None or node.op_type != "MultiThreshold":
        return None
    return read_activation(ctx, sign_node, node, channels)
