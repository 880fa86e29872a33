# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Exact integer thresholds of an elementwise "tail" by exhaustive evaluation.

Between two integer points only per-channel elementwise functions of one integer tensor appear
(BN, scale, bias, PReLU, clamp, then a quantizer). For an integer input :math:`a` with a known
per-channel range :math:`[lo_c, hi_c]` the tail :math:`f_c` is evaluated **in float32 with the
graph's own op implementations and op order** (qonnx ``execute_node``: onnxruntime for standard
ops, qonnx for ``Quant``/``BipolarQuant``) on every integer of the range. The quantized output
level (a count :math:`0..n`) is then a step function of :math:`a`; if it is monotone per channel
it is exactly ``#{k : a >= T_k}`` (non-decreasing) or ``#{k : -a >= T_k}`` (non-increasing, e.g.
negative BN gamma -> the ``neg`` flag), with :math:`T_k` the first input reaching level
:math:`k` — FINN's MultiThreshold (Umuroglu et al., 2017), derived without any algebra on BN, so
it is exact for whatever float32 rounding the tail does. A non-monotone tail raises
:class:`UnsupportedGraphError` naming the node and channel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_node

from pynq_bnn.compiler.ir import UnsupportedGraphError, attr

__all__ = ["ELEMENTWISE_OPS", "QUANT_OPS", "QuantLevels", "quant_levels", "evaluate_tail",
           "derive_thresholds", "is_per_channel", "MAX_EVALUATIONS"]

ELEMENTWISE_OPS = ("Mul", "Div", "Add", "Sub", "BatchNormalization", "PRelu", "Relu", "Clip",
                   "Neg", "LeakyRelu", "Identity")
QUANT_OPS = ("BipolarQuant", "Quant")
MAX_EVALUATIONS = 50_000_000


@dataclass(frozen=True)
class QuantLevels:
    """Output levels of a quantizer: value = ``(qmin + step * count) * scale``, count in 0..n."""

    dtype: object
    scale: float
    qmin: int
    step: int
    n: int

    @property
    def mt_out_scale(self) -> float:
        return float(self.step)

    @property
    def mt_out_bias(self) -> float:
        return float(self.qmin)


def _scalar(model, node, index: int, what: str) -> float:
    value = model.get_initializer(node.input[index])
    if value is None or np.size(value) != 1:
        raise UnsupportedGraphError(node, f"has a non-constant or per-channel {what}; the "
                                    "integer stream needs one scalar")
    return float(np.asarray(value).reshape(()))


def quant_levels(model, node) -> QuantLevels:
    """Levels of a ``BipolarQuant`` / ``Quant`` node ending a tail (scalar scale, zero point 0)."""
    scale = _scalar(model, node, 1, "scale")
    if scale <= 0:
        raise UnsupportedGraphError(node, f"has scale {scale}; it must be positive")
    if node.op_type == "BipolarQuant":
        return QuantLevels(DataType["BIPOLAR"], scale, -1, 2, 1)
    if _scalar(model, node, 2, "zero point") != 0:
        raise UnsupportedGraphError(node, "has a non-zero zero point; only symmetric activation "
                                    "quantizers map to integer streams")
    bits = _scalar(model, node, 3, "bit width")
    if bits != int(bits) or bits < 1:
        raise UnsupportedGraphError(node, f"has bit width {bits}; expected a positive integer")
    bits, narrow = int(bits), int(attr(node, "narrow", 0))
    if attr(node, "signed", 1):
        qmin, qmax, kind = -(2 ** (bits - 1)) + narrow, 2 ** (bits - 1) - 1, "INT"
    else:
        qmin, qmax, kind = 0, 2 ** bits - 1 - narrow, "UINT"
    return QuantLevels(DataType[f"{kind}{bits}"], scale, qmin, 1, qmax - qmin)


def is_per_channel(model, node, data_input: str, channels: int, rank: int) -> bool:
    """True when every input of ``node`` other than ``data_input`` is a constant that varies at
    most along the channel axis (axis 1) of a rank-``rank`` tensor."""
    for i, name in enumerate(node.input):
        if name == data_input and i == 0:
            continue
        if name == "":
            continue
        value = model.get_initializer(name)
        if value is None:
            return False
        if node.op_type == "BatchNormalization":
            if np.size(value) not in (1, channels):
                return False
            continue
        shape = (1,) * (rank - np.ndim(value)) + tuple(np.shape(value))
        if len(shape) != rank or any(d != 1 for k, d in enumerate(shape) if k != 1):
            return False
        if shape[1] not in (1, channels):
            return False
    return node.input[0] == data_input


def evaluate_tail(model, nodes: list, input_name: str, values: np.ndarray) -> np.ndarray:
    """Run ``nodes`` (a single-input elementwise chain) on ``values`` with qonnx/onnxruntime."""
    names = {input_name}
    for node in nodes:
        names.update(n for n in node.input if n)
        names.update(node.output)
    infos = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in sorted(names)]
    graph = helper.make_graph([], "tail", [], [], value_info=infos)
    context = {input_name: np.ascontiguousarray(values, dtype=np.float32)}
    for name in names:
        init = model.get_initializer(name)
        if init is not None:
            context[name] = init
    opset = next((int(i.version) for i in model.model.opset_import if i.domain in ("", "ai.onnx")),
                 13)
    current = context[input_name]
    for node in nodes:
        context[node.output[0]] = np.empty_like(current)
        execute_node(node, context, graph, opset)
        current = context[node.output[0]]
    return np.asarray(current, dtype=np.float32)


def _first_at_least(levels: np.ndarray, inputs: np.ndarray, n: int, never: int) -> np.ndarray:
    idx = np.searchsorted(levels, np.arange(1, n + 1), side="left")
    padded = np.append(inputs, never)
    return padded[idx]


def derive_thresholds(node, counts: np.ndarray, domain: np.ndarray, lo: np.ndarray,
                      hi: np.ndarray, n: int):
    """Thresholds ``(C, n)`` and ``neg`` flags ``(C,)`` reproducing ``counts`` exactly.

    Args:
        node: the quantizer node (named in errors).
        counts: ``(D, C)`` output level 0..n of each channel for each input in ``domain``.
        domain: ``(D,)`` ascending consecutive integers covering every ``[lo_c, hi_c]``.
        lo, hi: ``(C,)`` reachable input range per channel.
        n: number of levels minus one.
    """
    channels = counts.shape[1]
    thresholds = np.zeros((channels, n), dtype=np.int64)
    neg = np.zeros(channels, dtype=np.uint8)
    for c in range(channels):
        keep = (domain >= lo[c]) & (domain <= hi[c])
        inputs, levels = domain[keep], counts[keep, c]
        steps = np.diff(levels)
        if np.all(steps >= 0):
            thresholds[c] = _first_at_least(levels, inputs, n, int(hi[c]) + 1)
        elif np.all(steps <= 0):
            neg[c] = 1
            thresholds[c] = _first_at_least(levels[::-1], -inputs[::-1], n, -int(lo[c]) + 1)
        else:
            rise, fall = int(inputs[1:][steps > 0][0]), int(inputs[1:][steps < 0][0])
            raise UnsupportedGraphError(node, f"ends a tail that is not monotone in its integer "
                                        f"input on channel {c} (its level rises at {rise} and "
                                        f"falls at {fall}); only monotone per-channel functions "
                                        "become thresholds")
    return thresholds, neg
