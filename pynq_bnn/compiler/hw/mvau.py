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
code ``out_bias + count``; ``act_mode="affine"`` -> an exact piecewise-affine requantizer
(:mod:`.affine`, e.g. BN -> int8: one multiplier per PE instead of 255 thresholds);
otherwise the raw accumulator (``INT`` stream) for the last layer / label select.

Folding: ``PE`` output channels x ``SIMD`` inputs per cycle; ``MH % PE == 0``, ``MW % SIMD == 0``;
cycles per image ``(MH/PE) * (MW/SIMD) * pixels``.

Numpy reference: one float32 BLAS matmul on the stream codes. It is exact because every
partial sum is an integer below :math:`2^{24}` (checked from the weight and input ranges; float64
is used above that). Measured against bit-packed uint64 XNOR + a byte popcount table (numpy 1.26
has no ``bitwise_count``) on CNV's second conv (6,272 windows x 576 bits x 64 channels): 0.16 s
vs 1.3 s, i.e. BLAS is ~8x faster — it runs near peak while the table lookups are memory bound.

Fast convolution (:meth:`MVAU.conv_reference`, used by :func:`pynq_bnn.compiler.execute` for
every SlidingWindow -> MVAU pair): the window matrix is built per ~2 MB block directly in float
from the decoded input (no uint8 window stream, no 9x-sized dtype conversion), ``neg`` channels
are folded into the weight signs, and where the accumulator range allows two output channels
share one float32 column (``a + 2^k b``, :meth:`MVAU.packing_shift`): CNV 91 -> ~250 img/s.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, int_mac, layer_control, memory, \
    signed_sum_bits, threshold_unit, xnor_popcount
from pynq_bnn.compiler.hw.affine import affine_resources, apply_piecewise_affine
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
        Attr("act_mode", str, "thresholds", "thresholds (num_thresholds > 0, or none) | affine"),
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
        if self.act_mode not in ("thresholds", "affine"):
            raise ValueError(f"MVAU {name!r}: act_mode must be thresholds or affine, "
                             f"got {self.act_mode!r}")
        if self.act_mode == "affine" and self.num_thresholds:
            raise ValueError(f"MVAU {name!r}: act_mode='affine' takes num_thresholds=0")
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

    def binary_macs(self) -> int:
        """``MW * MH * pixels`` for a binary (W1A1) MVAU, else 0."""
        return self.MW * self.MH * self.pixels if self.is_binary() else 0

    def resources(self, board=None) -> Resources:
        """Sum of :mod:`pynq_bnn.compiler.cost` blocks: the MAC array (XNOR-popcount for W1A1,
        conditional negation / MAC otherwise), ``PE`` accumulators, weight memory
        ``PE x [(MH/PE)(MW/SIMD) words of SIMD*w_bits]`` with its read register
        (``PE·SIMD·w_bits`` FFs), the input-vector buffer ``vec[SF]`` of ``SIMD·in_bits`` words
        (a register when ``SF = 1``) with the input register, threshold comparators and memory
        (plus the ``neg`` sign select, ``acc_bits`` LUTs per PE), and the process control."""
        w_bits = self.weight_stream_type().bits
        in_bits = self.in_types()[0].bits
        acc_bits = self.acc_bits()
        if self.is_binary():
            mac = xnor_popcount(self.SIMD, self.PE)
        else:
            mac = int_mac(self.SIMD, self.PE, in_bits, w_bits)
        res = mac + accumulator(acc_bits, self.PE) + layer_control(self.PE * self.out_type().bits)
        sf = self.MW // self.SIMD
        depth = (self.MH // self.PE) * sf
        res = res + memory(depth=depth, width=self.SIMD * w_bits, copies=self.PE)
        res = res + Resources(ff=self.PE * self.SIMD * w_bits + self.SIMD * in_bits)
        if sf > 1:
            res = res + memory(depth=sf, width=self.SIMD * in_bits)
        if self.act_mode == "affine":
            res = res + affine_resources(self.params, acc_bits, self.out_type().bits, self.MH,
                                         self.PE)
        if self.num_thresholds:
            res = res + threshold_unit(self.num_thresholds, acc_bits, self.MH, self.PE)
            res = res + Resources(lut=self.PE * acc_bits)
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

    def acc_dtype(self) -> type:
        """float32 when every partial sum is an exact float32 integer (``|acc| < 2^24``)."""
        return np.float32 if self.acc_bound() < _FLOAT32_EXACT else np.float64

    def signed_weights(self, dtype=np.float32) -> np.ndarray:
        """Weights ``(MH, MW)`` in ``dtype`` with the rows of ``neg`` channels negated.

        The activation compares ``(neg_c ? -a_c : a_c)`` with the thresholds; negating the
        weight row gives exactly ``-a_c`` (integer arithmetic), so the comparison needs no
        per-element select afterwards.
        """
        weights = np.asarray(self.params["weights"], dtype=dtype)
        if self.num_thresholds and np.any(self.params["neg"]):
            sign = np.where(np.asarray(self.params["neg"], bool), -1, 1).astype(dtype)
            weights = weights * sign[:, None]
        return weights

    def activate(self, signed_acc: np.ndarray) -> np.ndarray:
        """Output stream of accumulators already multiplied by the ``neg`` signs (see
        :meth:`signed_weights`): thresholds, or the raw accumulator (int32 / int64).

        Thresholds are compared in the accumulator's float dtype: exact, since ``|acc| < 2^24``
        (float32) and a threshold beyond that rounds to a value still beyond every accumulator.
        """
        if self.act_mode == "affine":
            return apply_piecewise_affine(signed_acc.astype(np.int64), self.params)
        if not self.num_thresholds:
            return signed_acc.astype(np.int64 if signed_acc.dtype == np.float64 else np.int32)
        thresholds = self.params["thresholds"]
        if self.out_type().kind == "BIPOLAR" and self.num_thresholds == 1 and not self.out_bias:
            bits = signed_acc >= np.asarray(thresholds)[:, 0].astype(signed_acc.dtype)
            return bits.view(np.uint8)
        out = apply_thresholds(signed_acc, thresholds, None, self.out_bias)
        return out.astype(np.uint8) if self.out_type().kind == "BIPOLAR" else out

    def packing_shift(self) -> int:
        """``k`` such that two accumulators fit one float32 as ``a + 2^k b`` exactly, else 0.

        Needs ``2^(k-1) > acc_bound`` (so ``b = rint(p / 2^k)`` and ``a = p - 2^k b`` recover both
        from the sum ``p``: ``|a / 2^k| < 1/2``) and ``acc_bound * (2^k + 1) < 2^24`` (so every
        partial sum of ``p`` is an exact float32 integer). Holds for ``MW <= 2047`` on ±1 x ±1,
        e.g. CNV's 576- and 1152-wide binary convolutions: half the BLAS columns.
        """
        bound = self.acc_bound()
        shift = int(bound).bit_length() + 1
        if self.MH >= 2 and bound * (2 ** shift + 1) < _FLOAT32_EXACT:
            return shift
        return 0

    def reference(self, x: np.ndarray) -> np.ndarray:
        """Bit-exact output ``(N, *out_shape)`` for stream codes ``x`` (see :meth:`accumulate`
        for the exactness of the float BLAS product)."""
        x = np.asarray(x).reshape((-1,) + tuple(self.in_shape))
        dtype = self.acc_dtype()
        weights = self.signed_weights(dtype)
        acc = x.reshape(-1, self.MW).astype(dtype, copy=False) @ weights.T
        kind = self.in_types()[0].kind
        if kind in ("BIPOLAR", "FRAC2"):
            acc *= 2
            acc -= (1 if kind == "BIPOLAR" else 3) * weights.sum(axis=1)
        return self.activate(acc).reshape(x.shape[:-1] + (self.MH,))

    def fused_reference(self, producer):
        """:meth:`conv_reference` for the SlidingWindow feeding this MVAU, else None."""
        if producer.kind != "SlidingWindow" or len(self.inputs) != 1 or \
                int(np.prod(producer.out_shape())) != int(np.prod(self.in_shape)):
            return None
        return lambda x: self.conv_reference(producer, x)

    def conv_reference(self, window, x: np.ndarray, block_mb: float = 2.0) -> np.ndarray:
        """``self.reference(window.reference(x))`` without materializing the window stream.

        ``window`` is the :class:`~pynq_bnn.compiler.hw.sliding_window.SlidingWindow` feeding
        this MVAU and ``x`` its input ``(N, H, W, C)`` (stream codes). Images are processed in
        blocks whose float window matrix is about ``block_mb`` (cache-friendly, bounded memory):
        per block the input is decoded and padded once (``window.decoded_input``: ±1 for
        ``BIPOLAR``, ``2q - 3`` for ``FRAC2``), windowed by the same indexing as the reference,
        and multiplied with :meth:`signed_weights` by BLAS.

        Why it is exact: the window elements of the reference decode to precisely these values
        (padding is the value 0 in both), so each accumulator is the same integer sum
        ``sum_i W[c, i] * x[i]``; every partial sum is an integer of magnitude at most
        :meth:`acc_bound`, and the float dtype is chosen (:meth:`acc_dtype`) so that all such
        integers are exactly representable — float addition is then exact in any order, hence
        the BLAS result equals the integer result bit for bit. The activation is then the same
        comparison as :meth:`reference`. When :meth:`packing_shift` allows, channel ``c + MH/2``
        rides in the same float32 column as channel ``c`` (weights ``W_c + 2^k W_{c + MH/2}``)
        and both exact integers are recovered from the exact sum (see there).
        """
        h, w, c = window.in_shapes()[0]
        x = np.asarray(x).reshape(-1, h, w, c)
        n = x.shape[0]
        oh, ow, mw = window.out_shape()
        if mw != self.MW or oh * ow != self.pixels:
            raise ValueError(f"MVAU {self.name!r} cannot consume SlidingWindow {window.name!r}: "
                             f"window {(oh, ow, mw)} vs in_shape {self.in_shape}")
        dtype = self.acc_dtype()
        weights = self.signed_weights(dtype)
        shift = self.packing_shift()
        half = (self.MH + 1) // 2
        if shift:
            high = np.zeros((half, mw), dtype)
            high[: self.MH - half] = weights[half:]
            weights = weights[:half] + np.float32(2 ** shift) * high
        weights_t = np.ascontiguousarray(weights.T)
        row_bytes = oh * ow * mw * np.dtype(dtype).itemsize
        step = max(1, int(block_mb * 2 ** 20 // row_bytes))
        out = None
        for start in range(0, n, step):
            stop = min(n, start + step)
            values = window.windows(window.decoded_input(x[start:stop], dtype))
            acc = values.reshape(-1, mw) @ weights_t
            if shift:
                acc = _unpack(acc, shift, self.MH)
            block = self.activate(acc).reshape(stop - start, oh * ow, self.MH)
            if out is None:
                out = np.empty((n, oh * ow, self.MH), block.dtype)
            out[start:stop] = block
        if out is None:  # no images
            return self.reference(np.zeros((0,) + tuple(self.in_shape), np.uint8))
        return out.reshape((n,) + self.out_shape())

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import mvau_snippet

        return mvau_snippet(self)


def _unpack(packed: np.ndarray, shift: int, channels: int) -> np.ndarray:
    """``(rows, ceil(C/2))`` sums ``a + 2^shift b`` -> ``(rows, C)`` accumulators ``[a | b]``."""
    high = packed * np.float32(2.0 ** -shift)
    np.rint(high, out=high)
    half = packed.shape[1]
    acc = np.empty((packed.shape[0], channels), packed.dtype)
    np.subtract(packed, high * np.float32(2 ** shift), out=acc[:, :half])
    acc[:, half:] = high[:, : channels - half]
    return acc
