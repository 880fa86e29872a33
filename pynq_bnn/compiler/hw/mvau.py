# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""MVAU: Matrix-Vector-Activation Unit (FINN, Umuroglu et al., FPGA 2017).

For each of ``pixels`` input vectors :math:`x \in \mathbb{Z}^{MW}` (one per output pixel of a
convolution after the sliding window, or one per image for a fully-connected layer) the layer
computes the exact integer dot products with the weight matrix :math:`W \in \mathbb{Z}^{MH \times
MW}` and an activation:

.. math:: a_c = \sum_{i} W_{c,i}\, x_i, \qquad y_c = \text{act}_c(a_c)

Modes (all the same arithmetic on decoded values, :func:`decode_values`):

* binary W1A1 — ``BIPOLAR`` weights and inputs: :math:`a = 2\,\text{popcount}(\overline{x \oplus
  w}) - MW` (XNOR-popcount; bit 1 = +1);
* binary weights on multi-bit inputs (CNV's 8-bit first layer): add/subtract of the input;
* integer weights (e.g. an ``INT8`` final FC): multiply-accumulate.

Activation: ``num_thresholds > 0`` -> multi-threshold (:mod:`.thresholding`, with the per-channel
``neg`` flag for decreasing tails): one threshold gives a ``BIPOLAR`` bit, ``n`` thresholds a
code ``out_bias + count``; ``num_thresholds == 0`` -> the raw accumulator (``INT`` stream) for
the last layer / label select.

Folding: ``PE`` output channels x ``SIMD`` inputs per cycle; ``MH % PE == 0``, ``MW % SIMD == 0``;
cycles per image ``(MH/PE) * (MW/SIMD) * pixels``.

Numpy reference: one float32 BLAS matmul on the stream codes. It is exact because every
partial sum is an integer below :math:`2^{24}` (checked from the weight and input ranges; float64
is used above that). Measured against bit-packed uint64 XNOR + a byte popcount table (numpy 1.26
has no ``bitwise_count``) on CNV's second conv (6,272 windows x 576 bits x 64 channels): 0.16 s
vs 1.3 s, i.e. BLAS is ~8x faster — it runs near peak while the table lookups are memory bound.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, int_mac, layer_control, memory, \
    signed_sum_bits, threshold_compare, xnor_popcount
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, \
    divisors
from pynq_bnn.compiler.hw.thresholding import apply_thresholds, check_thresholds

__all__ = ["MVAU", "value_range"]

_FLOAT32_EXACT = 2 ** 24


def value_range(stype: StreamType) -> tuple:
    """Smallest and largest decoded integer of a stream type."""
    if stype.kind == "BIPOLAR":
        return -1, 1
    if stype.kind == "FRAC2":
        return -3, 3
    if stype.kind == "UINT":
        return 0, 2 ** stype.bits - 1
    return -(2 ** (stype.bits - 1)), 2 ** (stype.bits - 1) - 1


class MVAU(HWLayer, kind="MVAU"):
    """Matrix-vector-activation unit. Params: ``weights`` ``(MH, MW)`` int8 (decoded values,
    column order = stream order, e.g. ``(ky, kx, c)`` for a conv), and when thresholded
    ``thresholds`` ``(MH, n)`` int64 ascending and ``neg`` ``(MH,)`` uint8."""

    ATTRS = (
        Attr("MW", int, None, "input vector length (kernel*kernel*in_channels for a conv)"),
        Attr("MH", int, None, "output channels"),
        Attr("in_shape", list, None, "per-image channels-last input shape, last axis = MW"),
        Attr("in_type", str, None, "input stream type (BIPOLAR, UINTk, INTk)"),
        Attr("weight_type", str, None, "weight type (BIPOLAR or INTk)"),
        Attr("out_type", str, None, "output stream type (accumulator INTk when no thresholds)"),
        Attr("num_thresholds", int, 0, "thresholds per channel; 0 = raw accumulator output"),
        Attr("out_bias", int, 0, "output value of threshold count 0"),
        Attr("PE", int, 1, "output channels computed in parallel"),
        Attr("SIMD", int, 1, "input elements consumed in parallel"),
    )
    REQUIRED_PARAMS = ("weights",)

    def __init__(self, name, inputs, output, params=None, **attrs):
        super().__init__(name, inputs, output, params, **attrs)
        if int(self.in_shape[-1]) != self.MW:
            raise ValueError(f"MVAU {name!r}: in_shape {self.in_shape} must end with MW={self.MW}")
        if "weights" in self.params and self.params["weights"].shape != (self.MH, self.MW):
            raise ValueError(f"MVAU {name!r}: weights have shape {self.params['weights'].shape}, "
                             f"expected (MH, MW) = ({self.MH}, {self.MW})")
        if self.num_thresholds:
            self.params.setdefault("neg", np.zeros(self.MH, dtype=np.uint8))
            if "thresholds" in self.params:
                check_thresholds(name, self.params["thresholds"], self.MH, self.num_thresholds)

    # -- shapes and types ------------------------------------------------------------------------
    @property
    def pixels(self) -> int:
        return int(np.prod(self.in_shape[:-1], dtype=np.int64))

    def in_shapes(self) -> list:
        return [tuple(self.in_shape)]

    def out_shape(self) -> tuple:
        return tuple(self.in_shape[:-1]) + (self.MH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_type)]

    def out_type(self) -> StreamType:
        return StreamType.parse(self.attrs["out_type"])

    def weight_stream_type(self) -> StreamType:
        return StreamType.parse(self.weight_type)

    def is_binary(self) -> bool:
        return self.in_type == "BIPOLAR" and self.weight_type == "BIPOLAR"

    def acc_bound(self) -> int:
        """Largest possible ``|acc|`` from the input and weight value ranges."""
        lo, hi = value_range(self.in_types()[0])
        wlo, whi = value_range(self.weight_stream_type())
        return self.MW * max(abs(lo), abs(hi)) * max(abs(wlo), abs(whi))

    def acc_bits(self) -> int:
        return signed_sum_bits(self.acc_bound())

    # -- folding and estimates -------------------------------------------------------------------
    def folding_space(self) -> dict:
        return {"PE": divisors(self.MH), "SIMD": divisors(self.MW)}

    def check_folding(self) -> list:
        issues = []
        if self.MH % self.PE:
            issues.append(f"MVAU {self.name!r}: MH ({self.MH}) % PE ({self.PE}) != 0")
        if self.MW % self.SIMD:
            issues.append(f"MVAU {self.name!r}: MW ({self.MW}) % SIMD ({self.SIMD}) != 0")
        return issues

    def cycles(self) -> int:
        """Cycles per image: ``(MH/PE) * (MW/SIMD) * pixels`` (FINN)."""
        return (self.MH // self.PE) * (self.MW // self.SIMD) * self.pixels

    def resources(self, board=None) -> Resources:
        """Sum of :mod:`pynq_bnn.compiler.cost` blocks: the MAC array (XNOR-popcount for W1A1,
        conditional negation / MAC otherwise), ``PE`` accumulators, weight memory
        ``PE x [(MH/PE)(MW/SIMD) words of SIMD*w_bits]``, threshold comparators and memory."""
        w_bits = self.weight_stream_type().bits
        in_bits = self.in_types()[0].bits
        acc_bits = self.acc_bits()
        if self.is_binary():
            mac = xnor_popcount(self.SIMD, self.PE)
        else:
            mac = int_mac(self.SIMD, self.PE, in_bits, w_bits)
        res = mac + accumulator(acc_bits, self.PE) + layer_control(self.PE * self.out_type().bits)
        depth = (self.MH // self.PE) * (self.MW // self.SIMD)
        res = res + memory(depth=depth, width=self.SIMD * w_bits, copies=self.PE)
        if self.num_thresholds:
            res = res + threshold_compare(self.num_thresholds, acc_bits, self.PE)
            res = res + memory(depth=self.MH // self.PE, width=self.num_thresholds * acc_bits,
                               copies=self.PE)
        return res

    # -- semantics -------------------------------------------------------------------------------
    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """Integer accumulators ``(N, *in_shape[:-1], MH)`` (integer-valued float array).

        ``BIPOLAR`` / ``FRAC2`` inputs are not decoded element by element: with codes ``b`` and
        values ``2b - 1`` (``2q - 3``), ``acc = 2 (b W^T) - 1 (3) * rowsum(W)`` — exact, and one
        pass over the (large) window stream fewer.
        """
        dtype = np.float32 if self.acc_bound() < _FLOAT32_EXACT else np.float64
        weights = np.asarray(self.params["weights"], dtype=dtype)
        flat = np.asarray(x).reshape(-1, self.MW).astype(dtype, copy=False)
        acc = flat @ weights.T
        kind = self.in_types()[0].kind
        if kind in ("BIPOLAR", "FRAC2"):
            acc *= 2
            acc -= (1 if kind == "BIPOLAR" else 3) * weights.sum(axis=1)
        return acc.reshape(x.shape[:-1] + (self.MH,))

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x).reshape((-1,) + tuple(self.in_shape))
        acc = self.accumulate(x)
        if not self.num_thresholds:
            return acc.astype(np.int64 if acc.dtype == np.float64 else np.int32)
        out = apply_thresholds(acc, self.params["thresholds"], self.params["neg"], self.out_bias)
        return out.astype(np.uint8) if self.out_type().kind == "BIPOLAR" else out

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import mvau_snippet

        return mvau_snippet(self)
