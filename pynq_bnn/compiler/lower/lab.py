# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Lowering rule: LAB's depthwise difference-kernel conv + sign -> :class:`LABBinarize`.

LAB (Falkena et al., WACV 2023) exports (``pynq_bnn.nn.lab``) as ``Quant(ΔK int8, 2^-f) ->
Conv(group=C, pads=1) -> Add(Δb) -> BipolarQuant``. The streamline step folds the power-of-two
kernel scale and tabulates ``Add(Δb) -> BipolarQuant`` on the integer accumulator, so the
streamlined pattern is::

    x (BIPOLAR or integer, C channels) -> Conv(W_int (C, 1, K, K), group=C) -> [Mul(±1)]
        -> MultiThreshold (1 threshold, BIPOLAR out)

which is exactly ``y_c = [d_c · Σ_t K_int[c, t] x_t >= T_c]``: one :class:`LABBinarize` (the
layer owns its window so that zero padding of a ±1 stream adds 0). Must run before the generic
``ConvRule`` (which only lowers ``group=1``).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.lab import LABBinarize
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.activation import find_activation
from pynq_bnn.compiler.lower.base import LoweringRule

__all__ = ["DepthwiseBinarizerRule"]


def _signed_bits(values: np.ndarray) -> int:
    bound = int(np.abs(values).max(initial=1))
    return max(2, bound.bit_length() + 1)


class DepthwiseBinarizerRule(LoweringRule):
    """Depthwise ``Conv`` (group = channels) followed by a 1-threshold BIPOLAR activation."""

    def match(self, node, ctx) -> bool:
        if node.op_type != "Conv" or ctx.initializer(node.input[1]) is None:
            return False
        weights = ctx.initializer(node.input[1])
        group = attr(node, "group", 1)
        return group > 1 and weights.shape[0] == group and weights.shape[1] == 1

    def apply(self, node, ctx) -> None:
        weights = np.asarray(ctx.initializer(node.input[1]), dtype=np.float64)
        channels, _, kh, kw = weights.shape
        if kh != kw:
            raise UnsupportedGraphError(node, f"has a {kh}x{kw} kernel; LAB needs a square one")
        if len(node.input) > 2 and node.input[2]:
            raise UnsupportedGraphError(node, "still has a bias input; the streamline step "
                                        "must fold Δb into the threshold")
        if not np.all(weights == np.round(weights)):
            raise UnsupportedGraphError(node, "has non-integer kernel values after streamlining; "
                                        "LAB kernels must be quantized at a power-of-two scale")
        strides = list(attr(node, "strides", [1, 1]))
        pads = list(attr(node, "pads", [0, 0, 0, 0]))
        dil = list(attr(node, "dilations", [1, 1]))
        if strides != [1, 1] or dil != [1, 1] or len(set(pads)) != 1:
            raise UnsupportedGraphError(node, f"has strides {strides}, dilations {dil}, pads "
                                        f"{pads}; LAB lowers stride 1, dilation 1, equal pads")
        src = ctx.stream(node.input[0], node)
        if len(src.shape) != 3 or src.shape[2] != channels:
            raise UnsupportedGraphError(node, f"expects {channels} channels, got {src.shape}")
        act = find_activation(ctx, node.output[0], channels)
        if act is None or act.out_type != "BIPOLAR":
            raise UnsupportedGraphError(node, "is a depthwise conv not followed by a sign; only "
                                        "LAB's sign(ΔK ⊛ x + Δb) lowers (LABBinarize)")
        kernel = weights.reshape(channels, kh * kw).astype(np.int64)  # (kh, kw) tap order
        layer = LABBinarize(ctx.unique_layer_name(node.name), [src.stream], act.output,
                            {"kernel": kernel, "thresholds": act.thresholds.reshape(channels),
                             "direction": np.where(act.neg > 0, -1, 1).astype(np.int64)},
                            IFM_DIM=list(src.shape[:2]), CH=channels, K=kh, PAD=int(pads[0]),
                            in_dtype=src.stype.name, W_BITS=_signed_bits(kernel))
        ctx.add_layer(layer, act.output, (channels,) + layer.ofm_dim())
        ctx.consume(node, *act.nodes)
