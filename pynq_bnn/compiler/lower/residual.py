# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Residual adds and shortcut layers on scaled integer streams (:mod:`.scaled`).

* :class:`ResidualAddRule` — ``Add(branch, shortcut) -> [tail] -> Quant``: :class:`AddStreams`
  (shifts aligning scales with a power-of-two ratio, or small integer weights found by
  :func:`integer_alignment` for any two float scales) + :class:`Requantize` tabulated over the
  sum's range (thresholds, or a LUT when RPReLU makes a row non-monotone).
* :class:`DownsampleRule` — ``AveragePool(K, stride K) [-> Gather(channel duplication)]``:
  :class:`SumPool` or :class:`DownsampleShortcut` (the average is the sum at a K²-times finer
  scale); a 1x1 conv after the pool reads the pooled stream through the scaled-stream rules.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.avgpool import DownsampleShortcut, SumPool
from pynq_bnn.compiler.hw.requantize import Requantize, stream_type_for_range
from pynq_bnn.compiler.hw.residual import AddStreams, type_range
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule
from pynq_bnn.compiler.lower.scaled import evaluate_nodes, hw_name, is_pow2, quant_codes, \
    quant_tail, requantize, scaled, set_scaled, tabulate_quant
from pynq_bnn.compiler.passes.tail_eval import quant_levels

__all__ = ["ResidualAddRule", "DownsampleRule", "integer_alignment"]


#: Largest integer weight tried when aligning two streams whose scales have no power-of-two ratio.
MAX_ALIGN_WEIGHT = 4096
#: Largest (sum range x channels) table the requantizer after such an add may need.
MAX_ALIGNED_TABLE = 16_000_000


def _pow2_ratio(sa: float, sb: float) -> bool:
    return is_pow2(sa / sb) and float(sa / sb) == float(np.float64(sa) / np.float64(sb))


def integer_alignment(sa: float, sb: float, na: np.ndarray, nb: np.ndarray, codes: np.ndarray,
                      channels: int, max_weight: int = MAX_ALIGN_WEIGHT):
    r"""Small integer weights ``(A, B)`` such that the requantized sum is a function of
    ``S = A·n_a + B·n_b``.

    The quantizer after the add sees :math:`v = n_a s_a + n_b s_b`; its output ``codes`` (every
    pair of the two integer grids, per channel) changes only at a few values of :math:`v`. Any
    :math:`(A, B)` for which the order of :math:`S` separates every such change (all pairs on
    the lower side have a smaller ``S`` than all pairs on the upper side) gives an exact integer
    datapath: ``codes = F_c(S)`` with ``F_c`` monotone, i.e. thresholds on ``S``. The search
    tries ``B = 1, 2, ...`` with ``A = round(B s_a / s_b)`` (continued-fraction-like
    approximations of the scale ratio; the smallest weights keep the sum narrow).

    Args:
        na, nb: the integer values of the two inputs for every pair (flattened grid).
        codes: ``(pairs, C)`` requantizer outputs, non-decreasing in :math:`v` per channel.

    Returns:
        ``(A, B)`` or None when no weights up to ``max_weight`` separate the changes.
    """
    v = na * np.float64(sa) + nb * np.float64(sb)
    order = np.argsort(v, kind="stable")
    changes = np.nonzero(np.any(np.diff(codes[order], axis=0) != 0, axis=1))[0]
    if changes.size == 0:
        return 1, 1
    na_s, nb_s = na[order], nb[order]
    ratio = float(np.float64(sa) / np.float64(sb))
    for b in range(1, max_weight + 1):
        a = int(round(b * ratio))
        if a < 1 or a > max_weight:
            continue
        total = a * na_s + b * nb_s
        below = np.maximum.accumulate(total)[changes]
        above = np.minimum.accumulate(total[::-1])[::-1][changes + 1]
        if np.all(below < above):
            return a, b
    return None


class ResidualAddRule(LoweringRule):
    """``Add(branch, shortcut)`` of two scaled int streams + tail + Quant -> AddStreams +
    Requantize.

    Scales with a power-of-two ratio align with shifts (:class:`AddStreams`); any other two
    float scales align with small integer weights (:func:`integer_alignment`: each input is
    multiplied by its weight in an exact affine :class:`Requantize`, then added), so the sum the
    requantizer reads is exact integer arithmetic, never a float rounding."""

    def match(self, node, ctx) -> bool:
        return (node.op_type == "Add" and len(node.input) == 2
                and all(scaled(ctx, i) is not None for i in node.input))

    def apply(self, node, ctx) -> None:
        (a, sa), (b, sb) = (scaled(ctx, i) for i in node.input)
        if a.shape != b.shape:
            raise UnsupportedGraphError(node, f"adds streams of shapes {a.shape} and {b.shape}")
        if not _pow2_ratio(sa, sb):
            self._apply_aligned(node, ctx, a, sa, b, sb)
            return
        s = min(sa, sb)
        sha, shb = int(round(np.log2(sa / s))), int(round(np.log2(sb / s)))
        (alo, ahi), (blo, bhi) = type_range(a.stype), type_range(b.stype)
        lo, hi = (alo << sha) + (blo << shb), (ahi << sha) + (bhi << shb)
        add_tensor = self._add(node, ctx, a, b, sha, shb, lo, hi)
        channels = int(a.shape[-1])
        set_scaled(ctx, add_tensor, ctx.streams[add_tensor], s)
        tail = quant_tail(ctx, add_tensor, channels)
        if tail is not None:
            domain = np.arange(lo, hi + 1, dtype=np.int64)
            table, levels = tabulate_quant(ctx, tail[0], tail[1], add_tensor, domain, s, channels)
            out_tensor = tail[1].output[0]
            requantize(ctx, f"{node.name}_requant", ctx.streams[add_tensor], table, domain,
                       levels.dtype.name, out_tensor)
            set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
            ctx.consume(*tail[0])
        ctx.consume(node)

    @staticmethod
    def _add(node, ctx, a, b, sha, shb, lo, hi, add_tensor: str | None = None) -> str:
        add_tensor = add_tensor or node.output[0]
        layer = AddStreams(ctx.unique_layer_name(node.name), [a.stream, b.stream],
                           hw_name(add_tensor), SPATIAL=list(a.shape[:-1]), CH=int(a.shape[-1]),
                           a_dtype=a.stype.name, b_dtype=b.stype.name,
                           out_dtype=stream_type_for_range(lo, hi).name, SHIFT_A=sha,
                           SHIFT_B=shb)
        ctx.add_layer(layer, add_tensor)
        return add_tensor

    def _apply_aligned(self, node, ctx, a, sa, b, sb) -> None:
        channels = int(a.shape[-1])
        rank = len(a.nchw_shape) + 1
        tail = quant_tail(ctx, node.output[0], channels, rank)
        if tail is None:
            raise UnsupportedGraphError(node, f"adds streams at scales {sa:.6g} and {sb:.6g} "
                                        "(no power-of-two ratio) and no quantizer follows; add a "
                                        "QuantIdentity after the add (or use power-of-two scales)")
        nodes, quant = tail
        (alo, ahi), (blo, bhi) = type_range(a.stype), type_range(b.stype)
        na, nb = (g.ravel() for g in np.meshgrid(np.arange(alo, ahi + 1, dtype=np.int64),
                                                  np.arange(blo, bhi + 1, dtype=np.int64),
                                                  indexing="ij"))
        v = na * np.float64(sa) + nb * np.float64(sb)  # exact sums, rounded once to float32
        if v.size * channels > MAX_ALIGNED_TABLE:
            raise UnsupportedGraphError(node, f"adds {a.stype.name} and {b.stype.name} streams "
                                        "at scales with no power-of-two ratio: too many pairs to "
                                        "align; use power-of-two scales on the residual path")
        values = v.astype(np.float32).reshape((-1,) + (1,) * (rank - 1)) * np.ones(
            (1, channels) + (1,) * (rank - 2), np.float32)
        out = evaluate_nodes(ctx.model, nodes, {node.output[0]: values})[quant.output[0]]
        levels = quant_levels(ctx.model, quant)
        codes = quant_codes(quant, np.asarray(out).reshape(v.size, channels), levels)
        order = np.argsort(v, kind="stable")
        steps = np.diff(codes[order], axis=0)
        if not (np.all(steps >= 0, axis=0) | np.all(steps <= 0, axis=0)).all():
            raise UnsupportedGraphError(quant, "is not monotone in the residual sum (a "
                                        "non-monotone activation between the add and the "
                                        "quantizer); use power-of-two residual scales")
        weights = integer_alignment(sa, sb, na, nb, codes, channels)
        if weights is None:
            raise UnsupportedGraphError(node, f"adds streams at scales {sa:.6g} and {sb:.6g}: no "
                                        f"integer weights up to {MAX_ALIGN_WEIGHT} reproduce the "
                                        "requantized sum exactly; use power-of-two scales")
        wa, wb = weights
        a = self._weighted(ctx, node, a, wa, "a")
        b = self._weighted(ctx, node, b, wb, "b")
        (alo, ahi), (blo, bhi) = type_range(a.stype), type_range(b.stype)
        lo, hi = alo + blo, ahi + bhi
        # the weighted sum has no float counterpart in the graph: its own tensor name
        add_tensor = self._add(node, ctx, a, b, 0, 0, lo, hi, f"{node.name}_aligned_sum")
        if levels.dtype.name == "BIPOLAR":  # codes -1/+1 -> stored bits 0/1
            codes = (codes > 0).astype(np.int64)
        out_tensor = quant.output[0]
        self._thresholds_on_sum(ctx, node, ctx.streams[add_tensor], wa * na + wb * nb, codes,
                                (lo, hi), levels.dtype.name, out_tensor)
        set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
        ctx.consume(node, *nodes)

    @staticmethod
    def _thresholds_on_sum(ctx, node, src, total, codes, sum_range, out_dtype, out_tensor):
        """A thresholds :class:`Requantize` of the aligned sum: ``T[c, k]`` = the smallest
        reachable sum whose code reaches level ``bias + k + 1`` (codes are non-decreasing in the
        sum, see :func:`integer_alignment`; unreachable sums never occur)."""
        order = np.argsort(total, kind="stable")
        sums, codes = total[order], codes[order]
        if np.any(np.diff(codes, axis=0) < 0):
            raise UnsupportedGraphError(node, "is followed by a decreasing requantizer; use "
                                        "power-of-two residual scales")
        bias = int(codes.min())
        levels = np.arange(bias + 1, int(codes.max()) + 1)
        never = max(abs(sum_range[0]), abs(sum_range[1])) + 1
        thresholds = np.full((codes.shape[1], max(1, levels.size)), never, dtype=np.int64)
        for c in range(codes.shape[1]):
            idx = np.searchsorted(codes[:, c], levels, side="left")
            reached = idx < sums.size
            thresholds[c, :levels.size][reached] = sums[idx[reached]]
        layer = Requantize(ctx.unique_layer_name(f"{node.name}_requant"), [src.stream],
                           hw_name(out_tensor), {"thresholds": thresholds,
                                                 "direction": np.ones(codes.shape[1], np.int64)},
                           SPATIAL=list(src.shape[:-1]), IN_CH=int(src.shape[-1]),
                           OUT_CH=int(codes.shape[1]), in_dtype=src.stype.name,
                           out_dtype=out_dtype, MODE="thresholds", in_min=int(sum_range[0]),
                           out_bias=bias)
        ctx.add_layer(layer, out_tensor)

    @staticmethod
    def _weighted(ctx, node, src, weight: int, which: str):
        """``src`` times the integer ``weight`` (an exact affine Requantize; itself if 1)."""
        if weight == 1:
            return src
        lo, hi = type_range(src.stype)
        domain = np.arange(lo, hi + 1, dtype=np.int64)
        table = np.repeat((domain * weight)[None, :], int(src.shape[-1]), axis=0)
        out_type = stream_type_for_range(lo * weight, hi * weight)
        tensor = f"{node.name}_{which}_x{weight}"
        requantize(ctx, f"{node.name}_{which}_weight", src, table, domain, out_type.name, tensor,
                   src.nchw_shape, stream=tensor)
        return ctx.streams[tensor]


class DownsampleRule(LoweringRule):
    """``AveragePool(K, stride K) [-> Gather(axis=1, duplication)]`` on a scaled int stream."""

    def match(self, node, ctx) -> bool:
        return node.op_type == "AveragePool" and scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        src, s = scaled(ctx, node.input[0])
        kernel = list(attr(node, "kernel_shape", []))
        stride = list(attr(node, "strides", kernel))
        if len(set(kernel)) != 1 or stride != kernel or any(attr(node, "pads", [0])) or \
                attr(node, "ceil_mode", 0):
            raise UnsupportedGraphError(node, "only K x K, stride K average pooling, no padding")
        k = int(kernel[0])
        if not is_pow2(k * k):  # mean = sum * (s / K^2): exact in float only for K^2 = 2^k
            raise UnsupportedGraphError(node, f"averages {k}x{k} windows; the mean is exact only "
                                        "for power-of-two windows (K = 2, 4, ...)")
        channels = int(src.shape[-1])
        gather = ctx.only_consumer(node.output[0], "Gather")
        dup, order, out_tensor, consumed = 1, "tile", node.output[0], [node]
        concat = ctx.only_consumer(node.output[0], "Concat")
        if concat is not None and attr(concat, "axis", 0) in (1, -3) and \
                set(concat.input) == {node.output[0]}:  # torch.cat([x] * d, dim=1)
            dup, out_tensor = len(concat.input), concat.output[0]
            consumed.append(concat)
        elif gather is not None and attr(gather, "axis", 0) == 1:
            idx = ctx.initializer(gather.input[1])
            if idx is not None and np.size(idx) % channels == 0:
                idx = np.asarray(idx).reshape(-1)
                d = idx.size // channels
                if np.array_equal(idx, np.tile(np.arange(channels), d)):
                    dup, order = d, "tile"
                elif np.array_equal(idx, np.repeat(np.arange(channels), d)):
                    dup, order = d, "interleave"
                else:
                    d = 0
                if d:
                    out_tensor = gather.output[0]
                    consumed.append(gather)
        if dup == 1:
            layer = SumPool(ctx.unique_layer_name(node.name), [src.stream], hw_name(out_tensor),
                            IFM_DIM=list(src.shape[:2]), CH=channels, K=k, STRIDE=k,
                            in_dtype=src.stype.name)
        else:
            layer = DownsampleShortcut(ctx.unique_layer_name(node.name), [src.stream],
                                       hw_name(out_tensor), IFM_DIM=list(src.shape[:2]),
                                       CH=channels, K=k, STRIDE=k, DUP=dup, DUP_ORDER=order,
                                       in_dtype=src.stype.name)
        ctx.add_layer(layer, out_tensor)
        set_scaled(ctx, out_tensor, ctx.streams[out_tensor], s / (k * k))
        ctx.consume(*consumed)


