# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rules for integer MatMul / Conv (+ activation) -> [SlidingWindow] + MVAU.

* ``MatMul(x (1, K), W (K, MH))`` -> MVAU with weights ``W.T``; when ``x`` is the NCHW flatten
  of a channels-last feature map the weight columns are permuted to the stream order
  ``(h, w, c)``.
* ``Conv`` (group 1, dilation 1, no bias) -> SlidingWindow (skipped for 1x1 / stride 1 / no pad)
  + MVAU with weights ``(OC, Kh*Kw*IC)`` in ``(ky, kx, c)`` column order; a zero-padded ±1 x ±1
  conv -> one FracMVAU with tap-valid bits (:func:`add_padded_binary_conv`).
* A following ``[Mul(±1)] -> MultiThreshold`` becomes the MVAU's thresholds — or, for outputs
  of more than ``AFFINE_MIN_LEVELS`` levels (e.g. BN -> int8), the exact piecewise-affine form of
  the same function on the accumulator range (:mod:`pynq_bnn.compiler.hw.affine`); otherwise the
  MVAU outputs the raw accumulator.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import signed_sum_bits
from pynq_bnn.compiler.hw.affine import fit_piecewise_affine
from pynq_bnn.compiler.hw.frac_mvau import FracMVAU
from pynq_bnn.compiler.hw.mvau import MVAU, value_range
from pynq_bnn.compiler.hw.requantize import AFFINE_MIN_LEVELS, apply_thresholds
from pynq_bnn.compiler.hw.sliding_window import SlidingWindow
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.activation import find_activation
from pynq_bnn.compiler.lower.base import LoweringRule, StreamInfo

__all__ = ["MatMulRule", "ConvRule", "weight_type_name", "add_mvau", "add_padded_binary_conv"]


def weight_type_name(node, weights: np.ndarray) -> str:
    """``BIPOLAR`` for ±1 weights, else the smallest ``INTk`` holding them."""
    if not np.all(weights == np.round(weights)):
        raise UnsupportedGraphError(node, "has non-integer weights after streamlining")
    if np.all(np.abs(weights) == 1):
        return "BIPOLAR"
    return f"INT{max(2, signed_sum_bits(int(np.abs(weights).max(initial=1))))}"


def _affine_activation(act, bound: int, max_domain: int = 1 << 16):
    """Piecewise-affine parameters equal to ``act``'s thresholds on every accumulator in
    ``[-bound, bound]``, or ``None`` (few output levels, a huge domain, or no exact fit)."""
    if act.thresholds.shape[1] + 1 < AFFINE_MIN_LEVELS or 2 * bound + 1 > max_domain:
        return None
    acc = np.arange(-bound, bound + 1, dtype=np.int64)
    sign = np.where(np.asarray(act.neg, bool), -1, 1)
    table = apply_thresholds(acc[:, None] * sign[None, :], act.thresholds, None, act.out_bias)
    return fit_piecewise_affine(acc, table.T)


def add_mvau(ctx, node, weights: np.ndarray, in_stream: str, in_shape: tuple, in_type) -> None:
    """Create the MVAU for ``node`` (weights ``(MH, MW)``) and absorb its activation."""
    mh, mw = weights.shape
    act = find_activation(ctx, node.output[0], mh)
    attrs = dict(MW=mw, MH=mh, in_shape=list(in_shape), in_type=in_type.name,
                 weight_type=weight_type_name(node, weights))
    params = {"weights": weights.astype(np.int8 if np.abs(weights).max(initial=0) < 128
                                        else np.int32)}
    lo, hi = value_range(in_type)
    bound = mw * max(abs(lo), abs(hi)) * int(np.abs(weights).max(initial=1))
    if act is not None:
        attrs.update(out_type=act.out_type, out_bias=act.out_bias)
        affine = _affine_activation(act, bound)
        if affine is not None:
            attrs.update(act_mode="affine")
            params.update(affine)
        else:
            attrs.update(num_thresholds=int(act.thresholds.shape[1]))
            params.update(thresholds=act.thresholds, neg=act.neg)
        out_tensor = act.output
        ctx.consume(*act.nodes)
    else:
        attrs.update(out_type=f"INT{signed_sum_bits(bound)}")
        out_tensor = node.output[0]
    layer = MVAU(ctx.unique_layer_name(node.name), [in_stream], out_tensor, params, **attrs)
    nchw = (mh,) if len(in_shape) == 1 else (mh,) + tuple(in_shape[:-1])
    ctx.add_layer(layer, out_tensor, nchw)
    ctx.consume(node)


def add_padded_binary_conv(ctx, node, matrix: np.ndarray, src: StreamInfo, k: int, stride: int,
                           pad: int) -> None:
    """A zero-padded ±1 x ±1 conv -> one :class:`~pynq_bnn.compiler.hw.frac_mvau.FracMVAU`
    (``in_dtype="BIPOLAR"``): the window carries a tap-valid bit, so padded taps add 0 to an
    XNOR-popcount, instead of widening every lane to a signed 2-bit value for an add/subtract
    MVAU (e.g. FracBNN's first conv on the 96 thermometer channels). Its activation becomes the
    layer's thresholds (``neg`` -> ``direction``) or, for many output levels, the exact
    piecewise-affine unit."""
    oc, mw = matrix.shape
    act = find_activation(ctx, node.output[0], oc)
    attrs = dict(IFM_DIM=[int(d) for d in src.shape[:2]], IFM_CH=int(src.shape[2]),
                 OFM_CH=int(oc), K=k, STRIDE=stride, PAD=pad, in_dtype="BIPOLAR")
    params = {"weights": matrix.astype(np.int8)}
    out_tensor = node.output[0]
    if act is not None:
        affine = _affine_activation(act, mw)
        if affine is not None:
            params.update(affine)
            attrs.update(OUT_MODE="affine", out_dtype=act.out_type)
        else:
            params.update(thresholds=act.thresholds,
                          direction=np.where(np.asarray(act.neg, bool), -1, 1))
            attrs.update(OUT_MODE="thresholds", out_dtype=act.out_type, out_bias=act.out_bias)
        out_tensor = act.output
        ctx.consume(*act.nodes)
    layer = FracMVAU(ctx.unique_layer_name(node.name), [src.stream], out_tensor, params, **attrs)
    ctx.add_layer(layer, out_tensor, (oc,) + layer.ofm_dim())
    ctx.consume(node)


def _integer_weights(ctx, node, index: int = 1) -> np.ndarray:
    weights = ctx.initializer(node.input[index])
    if weights is None:
        raise UnsupportedGraphError(node, "has non-constant weights; only constant weights lower "
                                    "to an MVAU")
    return np.asarray(weights, dtype=np.float64)


class MatMulRule(LoweringRule):
    """``MatMul`` with constant integer weights -> MVAU."""

    def match(self, node, ctx) -> bool:
        return node.op_type == "MatMul" and ctx.initializer(node.input[1]) is not None

    def apply(self, node, ctx) -> None:
        src = ctx.stream(node.input[0], node)
        weights = _integer_weights(ctx, node).T  # (MH, K)
        k = weights.shape[1]
        if int(np.prod(src.shape)) != k:
            raise UnsupportedGraphError(node, f"multiplies a {src.nchw_shape} tensor by a "
                                        f"{weights.shape[::-1]} matrix")
        if src.flattened_from is not None:
            c, h, w = src.flattened_from
            order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
            weights = weights[:, order]
        add_mvau(ctx, node, weights, src.stream, (k,), src.stype)


class ConvRule(LoweringRule):
    """``Conv`` with constant integer weights -> SlidingWindow + MVAU."""

    def match(self, node, ctx) -> bool:
        return node.op_type == "Conv" and ctx.initializer(node.input[1]) is not None

    def apply(self, node, ctx) -> None:
        if len(node.input) > 2 and node.input[2]:
            raise UnsupportedGraphError(node, "has a bias input; the streamline passes must fold "
                                        "it into the thresholds first")
        weights = _integer_weights(ctx, node)
        if weights.ndim != 4:
            raise UnsupportedGraphError(node, f"has {weights.ndim - 2}-D kernels; only 2-D "
                                        "convolutions are supported")
        group = attr(node, "group", 1)
        if group != 1:
            raise UnsupportedGraphError(node, f"has group={group}; only group=1 lowers to an MVAU")
        dil = list(attr(node, "dilations", [1, 1]))
        if dil != [1, 1]:
            raise UnsupportedGraphError(node, f"has dilation {dil[0] if dil[0] == dil[1] else dil}"
                                        "; only dilation 1 is supported")
        if attr(node, "auto_pad", "NOTSET") not in ("NOTSET", ""):
            raise UnsupportedGraphError(node, "uses auto_pad; export with explicit pads")
        oc, ic, kh, kw = weights.shape
        src = ctx.stream(node.input[0], node)
        if len(src.shape) != 3 or src.shape[2] != ic:
            raise UnsupportedGraphError(node, f"expects {ic} input channels, got stream "
                                        f"{src.shape}")
        stride = list(attr(node, "strides", [1, 1]))
        pads = list(attr(node, "pads", [0, 0, 0, 0]))  # ONNX: [top, left, bottom, right]
        matrix = weights.transpose(0, 2, 3, 1).reshape(oc, kh * kw * ic)
        if (kh, kw) == (1, 1) and stride == [1, 1] and not any(pads):
            add_mvau(ctx, node, matrix, src.stream, src.shape, src.stype)
            return
        if src.stype.kind == "BIPOLAR" and any(pads) and kh == kw and len(set(stride)) == 1 \
                and len(set(pads)) == 1 and np.all(np.abs(matrix) == 1):
            add_padded_binary_conv(ctx, node, matrix, src, int(kh), int(stride[0]), int(pads[0]))
            return
        swu = SlidingWindow(ctx.unique_layer_name(f"{node.name}_swu"), [src.stream],
                            f"{node.output[0]}_window", ifm_dim=list(src.shape[:2]), channels=ic,
                            kernel=[kh, kw], stride=stride, pad=pads, in_type=src.stype.name)
        ctx.add_layer(swu)
        window = swu.out_shape()
        ctx.streams[swu.output] = StreamInfo(swu.output, window, swu.out_type(), (window[-1],)
                                             + window[:2])
        add_mvau(ctx, node, matrix, swu.output, window, swu.out_type())
