# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rule: the bit-plane input stage -> HW :class:`BitPlanes` (+ :class:`BitPlaneConv`).

Pattern (``docs/export_patterns.md``; streamlined form)::

    p (UINT8) -> [Mul]* -> Gather(axis=1, [c]*8) -> Add -> Mod -> Sub -> BipolarQuant   (planes)
      -> Conv(K x K, pad, group = 8C, W ±1)   -> [Mul(±1)] -> MultiThreshold (BIPOLAR)
      -> Conv(1 x 1, group = C, W integer)    -> [Mul(±1)] -> MultiThreshold (BIPOLAR)

1. The pixel chain is evaluated on all 256 values (:func:`~.thermometer.encoding_bits`); it is
   the bit-plane split when encoded channel ``8c + j`` equals bit ``j`` of ``p_c`` for every ``p``.
2. When the grouped convs follow, they become one :class:`BitPlaneConv`: the first conv must give
   each plane its own ``k`` kernels (``group = 8C``, weights ``(8C·k, 1, K, K)`` ±1, stride 1,
   symmetric padding), the second must be the per-colour re-weighting
   ``W[c·k+m, j·k+m'] = w[c·k+m, j]·[m = m']`` (``group = C``, 1×1) — anything else keeps just
   the :class:`BitPlanes` layer and leaves the convs to the other rules.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.bitplane import BITS, BitPlaneConv, BitPlanes
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.activation import find_activation
from pynq_bnn.compiler.lower.base import LoweringRule
from pynq_bnn.compiler.lower.thermometer import (
    PIXELS, colour_major_repeats, encoding_bits, find_encoding_chain)

__all__ = ["BitPlaneRule"]


def _is_bit_planes(chain, ctx) -> bool:
    channels = int(ctx.streams[chain.source].shape[-1])
    if colour_major_repeats(chain, channels) != BITS:
        return False
    planes = (PIXELS[None, :] >> (np.arange(chain.channels_out) % BITS)[:, None]) & 1
    return bool(np.array_equal(encoding_bits(chain, ctx), planes))


def _conv_geometry(conv):
    """``(K, PAD)`` of a square, stride-1, dilation-1, symmetric-padding conv, else None."""
    kernel = list(attr(conv, "kernel_shape", []))
    pads = list(attr(conv, "pads", [0, 0, 0, 0]))
    if (len(kernel) != 2 or kernel[0] != kernel[1] or list(attr(conv, "strides", [1, 1])) != [1, 1]
            or list(attr(conv, "dilations", [1, 1])) != [1, 1] or len(set(pads)) != 1
            or attr(conv, "auto_pad", "NOTSET") not in ("NOTSET", "")
            or (len(conv.input) > 2 and conv.input[2])):
        return None
    return int(kernel[0]), int(pads[0])


def _match_plane_convs(ctx, planes_tensor: str, colours: int):
    """Params and nodes of the grouped plane conv + re-weighting, or None if not that pattern."""
    plane_ch = BITS * colours
    conv_a = ctx.only_consumer(planes_tensor, "Conv")
    if conv_a is None or attr(conv_a, "group", 1) != plane_ch or _conv_geometry(conv_a) is None:
        return None
    k_size, pad = _conv_geometry(conv_a)
    w_a = ctx.initializer(conv_a.input[1])
    if w_a is None or w_a.ndim != 4 or w_a.shape[1] != 1 or w_a.shape[0] % plane_ch:
        return None
    if not np.all(np.abs(w_a) == 1):
        return None
    k = w_a.shape[0] // plane_ch
    act_a = find_activation(ctx, conv_a.output[0], w_a.shape[0])
    if act_a is None or act_a.out_type != "BIPOLAR":
        return None
    conv_b = ctx.only_consumer(act_a.output, "Conv")
    if conv_b is None or attr(conv_b, "group", 1) != colours or _conv_geometry(conv_b) != (1, 0):
        return None
    w_b = ctx.initializer(conv_b.input[1])
    if w_b is None or w_b.shape != (colours * k, BITS * k, 1, 1) or np.any(w_b != np.round(w_b)):
        return None
    w_b = np.asarray(w_b, dtype=np.int64).reshape(colours * k, BITS, k)
    rows = np.arange(colours * k)
    fuse_weights = w_b[rows, :, rows % k].copy()
    w_b[rows, :, rows % k] = 0
    if np.any(w_b):
        return None  # not the per-colour re-weighting: other rules lower it
    act_b = find_activation(ctx, conv_b.output[0], colours * k)
    if act_b is None or act_b.out_type != "BIPOLAR":
        return None
    params = {"weights": (np.asarray(w_a).reshape(w_a.shape[0], -1) > 0).astype(np.uint8),
              "plane_thresholds": act_a.thresholds, "plane_neg": act_a.neg,
              "fuse_weights": fuse_weights, "fuse_thresholds": act_b.thresholds,
              "fuse_neg": act_b.neg}
    nodes = [conv_a, *act_a.nodes, conv_b, *act_b.nodes]
    return params, nodes, act_b.output, k, k_size, pad


class BitPlaneRule(LoweringRule):
    """Pixel chain = bit planes -> :class:`BitPlanes` (+ the fused plane convs when present)."""

    def match(self, node, ctx) -> bool:
        chain = find_encoding_chain(node, ctx)
        return chain is not None and _is_bit_planes(chain, ctx)

    def apply(self, node, ctx) -> None:
        chain = find_encoding_chain(node, ctx)
        src = ctx.streams[chain.source]
        colours, dims = int(src.shape[-1]), [int(d) for d in src.shape[:2]]
        split = BitPlanes(ctx.unique_layer_name(chain.gather.name or "BitPlanes"), [src.stream],
                          chain.output, IFM_DIM=dims, IFM_CH=colours)
        ctx.add_layer(split, chain.output)
        ctx.consume(*chain.nodes)
        fused = _match_plane_convs(ctx, chain.output, colours)
        if fused is None:
            return
        params, nodes, output, k, k_size, pad = fused
        if np.shape(params["plane_thresholds"]) != (BITS * colours * k, 1):
            raise UnsupportedGraphError(nodes[0], "plane activation must have one threshold per "
                                        "channel")
        conv = BitPlaneConv(ctx.unique_layer_name(nodes[0].name or "BitPlaneConv"), [split.output],
                            output, params, IFM_DIM=dims, IFM_CH=colours, PLANE_CH=k, K=k_size,
                            PAD=pad, PE=1)
        ctx.add_layer(conv, output)
        ctx.consume(*nodes)
