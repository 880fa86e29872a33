# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""RepConv (RepBNN) support: fold the channel tiling into the weights, then share accumulators.

RepConv computes ``P/β`` conv channels and tiles them ``β²`` times (``β`` for a non-widened
input), each copy with its own BN/sign (:mod:`pynq_bnn.nn.repconv`); it exports as
``MAC -> Expand(all-ones, a no-op) -> Tile(repeats=[1, r, 1, 1]) -> BN -> BipolarQuant``.

Two steps, both exact:

1. :class:`FoldChannelTile` (a streamline pass, to run before ``AbsorbThresholds``): since
   ``tile(W ⊛ x) = tile(W) ⊛ x`` (repeating output channels = repeating weight rows), the
   ``Expand``/``Tile`` pair is removed and the MAC's weight rows are repeated ``r`` times. The
   segment is then an ordinary ``MAC -> BN -> quantizer`` and ``AbsorbThresholds`` tabulates each
   copy's own BN + sign into its own threshold row.
2. :class:`RepConvRule` (lowering, before the generic Conv/MatMul rules): a MAC whose weight rows
   repeat with period ``p < MH`` (``W[j] = W[j mod p]``) gets an MVAU of only ``p`` rows emitting
   the raw accumulator, followed by a :class:`~pynq_bnn.compiler.hw.requantize.Requantize` with
   ``src[j] = j mod p``: one accumulator feeds ``r`` thresholds, i.e. ``r`` output bits per
   accumulator — RepBNN's hardware reading, with the binary weights and XNOR work of the
   baseline. Deduplicating identical rows is exact for any model, so the rule needs no marker.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.requantize import Requantize
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr, producer
from pynq_bnn.compiler.lower.activation import find_activation
from pynq_bnn.compiler.lower.base import LoweringRule
from pynq_bnn.compiler.lower.mac import ConvRule, MatMulRule
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["FoldChannelTile", "RepConvRule", "row_period"]


def _tile_factor(model, node) -> int | None:
    """``r`` of a ``Tile`` that repeats only the channel axis (None otherwise)."""
    reps = model.get_initializer(node.input[1])
    if reps is None:
        return None
    reps = [int(v) for v in np.asarray(reps).reshape(-1)]
    if len(reps) < 2 or any(v != 1 for k, v in enumerate(reps) if k != 1) or reps[1] < 2:
        return None
    return reps[1]


def _noop_expand(model, node) -> bool:
    shape = model.get_initializer(node.input[1]) if len(node.input) > 1 else None
    return node.op_type == "Expand" and shape is not None and np.all(np.asarray(shape) == 1)


def _tile_array(value: np.ndarray, reps: int, axis: int) -> np.ndarray:
    return np.concatenate([value] * reps, axis=axis)


class FoldChannelTile(Pass):
    """``MAC -> [Expand(no-op)] -> Tile(channels × r)`` becomes ``MAC(weight rows × r)``."""

    def apply(self, model):
        for tile in [n for n in model.graph.node if n.op_type == "Tile"]:
            reps = _tile_factor(model, tile)
            if reps is None:
                continue
            chain = [tile]
            src = producer(model, tile.input[0])
            if src is not None and _noop_expand(model, src):
                chain.insert(0, src)
                src = producer(model, src.input[0])
            if src is None or src.op_type not in ("Conv", "MatMul"):
                continue
            if any(len([c for c in model.graph.node if n.input[0] in c.input]) != 1 for n in chain):
                continue
            self._tile_weights(model, src, reps)
            out = tile.output[0]
            for node in chain:
                model.graph.node.remove(node)
            old = src.output[0]
            src.output[0] = out
            for vi in list(model.graph.value_info):
                if vi.name == old:
                    model.graph.value_info.remove(vi)
            return model, True
        return model, False

    @staticmethod
    def _tile_weights(model, mac, reps: int) -> None:
        axis = 0 if mac.op_type == "Conv" else 1  # Conv (OC, IC, kh, kw); MatMul (K, N)
        name = mac.input[1]
        value = model.get_initializer(name)
        if value is not None:
            model.set_initializer(name, _tile_array(np.asarray(value), reps, axis))
            return
        mul = producer(model, name)
        if mul is None or mul.op_type != "Mul":
            raise UnsupportedGraphError(mac, "has weights that are neither a constant nor "
                                        "Mul(constant, scale); cannot fold the RepConv tile")
        ndim = 4 if mac.op_type == "Conv" else 2
        for operand in mul.input:
            arr = model.get_initializer(operand)
            if arr is None:
                raise UnsupportedGraphError(mul, "scales weights by a non-constant")
            arr = np.asarray(arr)
            full = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape) if arr.ndim else arr
            if full.ndim and full.shape[axis] > 1:
                model.set_initializer(operand, _tile_array(full, reps, axis))
        shape = model.get_tensor_shape(name)
        if shape is not None:
            shape = list(shape)
            shape[axis] *= reps
            model.set_tensor_shape(name, shape)


def row_period(weights: np.ndarray) -> int:
    """Smallest ``p`` dividing ``MH`` with ``W[j] == W[j mod p]`` for all rows (``MH`` if none)."""
    mh = weights.shape[0]
    for p in range(1, mh):
        if mh % p == 0 and np.array_equal(weights, np.tile(weights[:p], (mh // p, 1))):
            return p
    return mh


class RepConvRule(LoweringRule):
    """A Conv/MatMul with periodic weight rows + activation -> MVAU(p rows) + Requantize."""

    def __init__(self):
        self._conv, self._matmul = ConvRule(), MatMulRule()

    def _matrix(self, node, ctx):
        if node.op_type not in ("Conv", "MatMul") or ctx.initializer(node.input[1]) is None:
            return None
        w = np.asarray(ctx.initializer(node.input[1]), dtype=np.float64)
        return w.reshape(w.shape[0], -1) if node.op_type == "Conv" else w.T

    def match(self, node, ctx) -> bool:
        matrix = self._matrix(node, ctx)
        if matrix is None or matrix.shape[0] < 2 or row_period(matrix) == matrix.shape[0]:
            return False
        if node.op_type == "Conv" and attr(node, "group", 1) != 1:
            return False
        return find_activation(ctx, node.output[0], matrix.shape[0]) is not None

    def apply(self, node, ctx) -> None:
        matrix = self._matrix(node, ctx)
        mh = matrix.shape[0]
        period = row_period(matrix)
        act = find_activation(ctx, node.output[0], mh)
        # lower the MAC with only the first `period` rows and no activation (raw accumulator)
        weights = ctx.initializer(node.input[1])
        reduced = weights[:period] if node.op_type == "Conv" else weights[:, :period]
        acc_tensor = f"{node.output[0]}_shared_acc"
        shared = type(node)()
        shared.CopyFrom(node)
        shared.output[0] = acc_tensor
        reduced_name = f"{node.input[1]}_rows{period}"
        ctx.model.set_initializer(reduced_name, np.asarray(reduced, dtype=np.float32))
        shared.input[1] = reduced_name
        (self._conv if node.op_type == "Conv" else self._matmul).apply(shared, ctx)
        ctx.consume(node)
        acc = ctx.stream(acc_tensor, node)
        src = np.arange(mh) % period
        layer = Requantize(ctx.unique_layer_name(f"{node.name}_rep_thresholds"), [acc.stream],
                           act.output, {"thresholds": act.thresholds,
                                        "direction": np.where(act.neg > 0, -1, 1), "src": src},
                           SPATIAL=list(acc.shape[:-1]), IN_CH=period, OUT_CH=mh,
                           in_dtype=acc.stype.name, out_dtype=act.out_type, MODE="thresholds",
                           out_bias=act.out_bias)
        ctx.add_layer(layer, act.output, (mh,) + tuple(acc.nchw_shape[1:]))
        ctx.consume(*act.nodes)
