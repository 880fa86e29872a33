# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""FracMVAU: the FracBNN fractional-activation matrix-vector unit with the LSB gate.

FracBNN (Zhang et al., FPGA 2021) carries 2-bit activations :math:`q \in \{-1,-\tfrac13,
\tfrac13,1\} = \tfrac23 s_M + \tfrac13 s_L` with bit planes :math:`s_M, s_L \in \{\pm1\}`. A binary
conv of :math:`q` with ±1 weights :math:`W` is two XNOR-popcounts:

.. math::
    acc_M = \sum_i W_i s_{M,i}, \qquad acc_L = \sum_i W_i s_{L,i}, \qquad
    conv(q, W) = \tfrac13 (2\,acc_M + acc_L).

The gate skips the LSB plane where the MSB result is small: with the learned per-channel
:math:`\delta_c`, ``mask = [(2/3)·s_w·acc_M > δ_c]``, which the lowering rule turns into one
integer per channel, ``mask = [acc_M >= G_c]``. The integer point leaving this layer is

.. math:: acc = 2\,acc_M + mask \cdot acc_L \qquad (\text{value} = acc \cdot s_w / 3),

which is either streamed out raw (``OUT_MODE="acc"``, an ``INT`` stream for a following
:class:`~pynq_bnn.compiler.hw.requantize.Requantize`, residual add or ASD stage) or compared
with per-channel multi-thresholds (``OUT_MODE="thresholds"``: 3 thresholds give the next layer's
FRAC2 code, 1 threshold a BIPOLAR bit), BN and the 2-bit quantizer folded in, or requantized by
an exact piecewise-affine unit (``OUT_MODE="affine"``: BN -> int8 residual branch, one
multiplier per PE, :mod:`pynq_bnn.compiler.hw.affine`).

Zero padding: a padded tap has the value 0, which neither a FRAC2 code nor a ±1 bit can carry;
the layer owns its sliding window and the window unit emits a valid bit per tap, so padded taps
add nothing to ``acc_M`` or ``acc_L`` (numpy: planes take the value 0 there). With
``in_dtype="BIPOLAR"`` the layer is a plain padded XNOR-popcount conv (``acc = acc_M``, no LSB
plane, no gate), e.g. FracBNN's thermometer-input first conv (96 binary channels, 3×3, pad 1).

Hardware mapping: one SWU with a tap-valid bit, PE×SIMD XNOR lanes per plane (both planes in
parallel, so cycles equal a binary MVAU's), a per-channel gate comparator, the ``2·acc_M`` shift
and a conditional add, then the optional threshold compare. Weights: ``params['weights']``
``(MH, MW)`` decoded ±1 values (as C1's MVAU; the HLS packing stores bit 1 for +1).
Weight order along MW: ``(kh, kw, c)``, channels last (the window order).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import (accumulator, layer_control, memory, threshold_compare,
                                    xnor_popcount)
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.kernels import FLOAT32_EXACT, ChannelTable, cached, conv_gemm, pair_shift, split_pairs
from pynq_bnn.compiler.hw.requantize import channel_function_cpp, channel_function_reference, \
    channel_function_resources, stream_type_for_range

__all__ = ["FracMVAU", "frac2_planes", "conv_windows", "divisors"]

_ACT_MODES = ("thresholds", "affine")  # fused output functions (see requantize.py)
_CHUNK_PIXELS = 1 << 17  # rows of the im2col matrix processed at once (memory bound)


def divisors(n: int) -> list:
    """All positive divisors of ``n`` in ascending order."""
    return [d for d in range(1, int(n) + 1) if n % d == 0]


def frac2_planes(codes: np.ndarray) -> tuple:
    """FRAC2 codes ``0..3`` -> (MSB, LSB) planes as ±1 int8 arrays (code = 2·[s_M>0] + [s_L>0])."""
    codes = np.asarray(codes)
    if codes.size and (codes.min() < 0 or codes.max() > 3):
        raise ValueError("FRAC2 codes must lie in 0..3")
    msb = (2 * (codes >> 1) - 1).astype(np.int8)
    lsb = (2 * (codes & 1) - 1).astype(np.int8)
    return msb, lsb


def conv_windows(x: np.ndarray, k: int, stride: int, pad: int, pad_value=0) -> np.ndarray:
    """Sliding windows of an NHWC batch: ``(N, Ho, Wo, k*k*C)`` in ``(kh, kw, c)`` order."""
    x = np.asarray(x)
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    win = win[:, ::stride, ::stride]  # (N, Ho, Wo, C, kh, kw)
    n, ho, wo, c = win.shape[:4]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n, ho, wo, k * k * c)


def _bipolar_matmul(planes: np.ndarray, weights_pm1: np.ndarray) -> np.ndarray:
    """Exact integer ``planes @ weights.T`` via float32 BLAS (|acc| < 2**24 is exact)."""
    flat = planes.reshape(-1, planes.shape[-1])
    wt = weights_pm1.T.astype(np.float32)
    out = np.empty((flat.shape[0], weights_pm1.shape[0]), dtype=np.int64)
    for start in range(0, flat.shape[0], _CHUNK_PIXELS):
        out[start:start + _CHUNK_PIXELS] = flat[start:start + _CHUNK_PIXELS].astype(np.float32) @ wt
    return out.reshape(planes.shape[:-1] + (weights_pm1.shape[0],))


class FracMVAU(HWLayer, kind="FracMVAU"):
    """Padded binary conv / FC over FRAC2 (two planes, gated LSB) or BIPOLAR input streams."""

    ATTRS = (
        Attr("IFM_DIM", list, None, "input feature map [H, W] ([1, 1] for a fully connected)"),
        Attr("IFM_CH", int, None, "input channels C"),
        Attr("OFM_CH", int, None, "output channels MH"),
        Attr("K", int, 1, "square kernel size"),
        Attr("STRIDE", int, 1, "stride"),
        Attr("PAD", int, 0, "zero padding on each side (padded taps contribute 0)"),
        Attr("in_dtype", str, "FRAC2", "FRAC2 (gated two-plane) or BIPOLAR (one plane)"),
        Attr("OUT_MODE", str, "acc", "acc (raw INT accumulator) | thresholds | affine"),
        Attr("out_dtype", str, "", "thresholds/affine mode: output type (FRAC2, BIPOLAR, INTk)"),
        Attr("out_bias", int, 0, "thresholds mode: added to the threshold count"),
        Attr("PE", int, 1, "output channels in parallel (divides OFM_CH)"),
        Attr("SIMD", int, 1, "input lanes in parallel (divides K*K*IFM_CH)"),
    )

    # -- shapes and types ------------------------------------------------------------------------
    @property
    def mw(self) -> int:
        return self.K * self.K * self.IFM_CH

    def ofm_dim(self) -> tuple:
        h, w = self.IFM_DIM
        return tuple((d + 2 * self.PAD - self.K) // self.STRIDE + 1 for d in (h, w))

    def _is_vector(self) -> bool:
        return list(self.IFM_DIM) == [1, 1] and self.K == 1 and self.PAD == 0

    def in_shapes(self) -> list:
        return [(self.IFM_CH,)] if self._is_vector() else [tuple(self.IFM_DIM) + (self.IFM_CH,)]

    def out_shape(self) -> tuple:
        return (self.OFM_CH,) if self._is_vector() else self.ofm_dim() + (self.OFM_CH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_dtype)]

    def acc_range(self) -> tuple:
        """Integer range of ``acc`` (``±3·MW`` for FRAC2, ``±MW`` for BIPOLAR)."""
        bound = self.mw * (3 if self.in_dtype == "FRAC2" else 1)
        return -bound, bound

    def out_type(self) -> StreamType:
        if self.OUT_MODE in _ACT_MODES:
            return StreamType.parse(self.out_dtype)
        return stream_type_for_range(*self.acc_range())

    # -- folding and estimates -------------------------------------------------------------------
    def folding_space(self) -> dict:
        return {"PE": divisors(self.OFM_CH), "SIMD": divisors(self.mw)}

    def check_folding(self) -> list:
        issues = []
        if self.PE < 1 or self.OFM_CH % self.PE:
            issues.append(f"{self.name}: PE={self.PE} must divide OFM_CH={self.OFM_CH}")
        if self.SIMD < 1 or self.mw % self.SIMD:
            issues.append(f"{self.name}: SIMD={self.SIMD} must divide MW=K*K*IFM_CH={self.mw}")
        if self.in_dtype not in ("FRAC2", "BIPOLAR"):
            issues.append(f"{self.name}: in_dtype must be FRAC2 or BIPOLAR, got {self.in_dtype}")
        return issues

    def _has_window(self) -> bool:
        """Whether the layer runs its own window unit (see :meth:`render_hls`)."""
        return not (self.K == 1 and self.STRIDE == 1 and self.PAD == 0)

    def _window_shape(self) -> tuple:
        """(lanes, bits per lane, words per image into the window) of the window unit."""
        planes = 2 if self.in_dtype == "FRAC2" else 1
        lanes = self._window_lanes()
        h, w = (int(d) for d in self.IFM_DIM)
        return lanes, planes + (1 if self.PAD > 0 else 0), h * w * self.IFM_CH // lanes

    def cycles(self) -> int:
        """Cycles per image of the slowest of the layer's processes (each a DATAFLOW stage):
        the MVAU, ``(MH/PE)·(MW/SIMD)·pixels`` (both planes in parallel lanes), and, with a
        window unit, the frame-buffered window ``IH·IW·CF + OH·OW·K²·CF`` (``CF = IFM_CH /
        lanes``, as :class:`~pynq_bnn.compiler.hw.sliding_window.SlidingWindow`) and the
        ``resize`` to SIMD lanes (one word per cycle on its wider side)."""
        ho, wo = self.ofm_dim()
        mvau = (self.OFM_CH // self.PE) * (self.mw // self.SIMD) * ho * wo
        if not self._has_window():
            return mvau
        lanes, _, words = self._window_shape()
        window_words = ho * wo * self.mw // lanes
        return max(mvau, words + window_words)

    def binary_macs(self) -> int:
        """``planes * MW * MH * pixels``: each FRAC2 plane (or the BIPOLAR input) is one
        XNOR-popcount MAC array (the gate skips none of the work in numpy or hardware)."""
        ho, wo = self.ofm_dim()
        planes = 2 if self.in_dtype == "FRAC2" else 1
        return planes * self.mw * self.OFM_CH * ho * wo

    def resources(self, board) -> Resources:
        """Model (:mod:`pynq_bnn.compiler.cost`): per plane ``PE`` XNOR-popcounts of ``SIMD`` lanes
        and accumulators; for FRAC2 the gate comparator and the ``2·m + l`` adder per PE; the
        optional output thresholds; weights ``(MH/PE)·(MW/SIMD)`` words of ``SIMD`` bits per PE,
        gates and thresholds as per-PE tables; the weight read register (``PE·SIMD`` FFs) and
        the buffered input planes ``vec[SF]`` (``SIMD·(planes + 1)`` bits a word); layer
        control. With a window unit (``K > 1``, stride or padding) also its frame buffer of
        ``IH·IW·IFM_CH / lanes`` words of ``lanes·(planes + valid)`` bits and its process
        control (the ``add_valid``/``resize`` helpers are priced with the top level's plumbing,
        :mod:`pynq_bnn.compiler.stream_cost`)."""
        planes = 2 if self.in_dtype == "FRAC2" else 1
        acc_bits = stream_type_for_range(*self.acc_range()).bits
        res = Resources()
        for _ in range(planes):
            res = res + xnor_popcount(self.SIMD, self.PE) + accumulator(acc_bits, self.PE)
        nf = self.OFM_CH // self.PE
        sf = self.mw // self.SIMD
        res = res + memory(depth=nf * sf, width=self.SIMD, copies=self.PE)
        res = res + Resources(ff=self.PE * self.SIMD + self.SIMD * (planes + 1))
        if sf > 1:
            res = res + memory(depth=sf, width=self.SIMD * (planes + 1))
        if self._has_window():
            lanes, lane_bits, words = self._window_shape()
            res = res + memory(depth=words, width=lanes * lane_bits)
            res = res + layer_control(lanes * lane_bits)
        if planes == 2:
            res = res + threshold_compare(1, acc_bits, self.PE) + accumulator(acc_bits, self.PE)
            res = res + memory(depth=nf, width=acc_bits, copies=self.PE)
        if self.OUT_MODE in _ACT_MODES:
            res = res + channel_function_resources(self.OUT_MODE, self.params, acc_bits + 1,
                                                   self.out_type().bits, self.OFM_CH, self.PE)
        return res + layer_control(self.PE * self.out_type().bits)

    # -- reference -------------------------------------------------------------------------------
    def _planes(self, x: np.ndarray) -> tuple:
        """Padded windows of each ±1 plane (0 at padded taps), ``(N, Ho, Wo, MW)`` int8."""
        n = x.shape[0]
        x = x.reshape((n,) + tuple(self.IFM_DIM) + (self.IFM_CH,))
        if self.in_dtype == "FRAC2":
            planes = frac2_planes(x)
        elif self.in_dtype == "BIPOLAR":
            if x.size and (x.min() < 0 or x.max() > 1):
                raise ValueError(f"{self.name}: BIPOLAR input must hold bits 0/1")
            planes = ((2 * x - 1).astype(np.int8),)
        else:
            raise ValueError(f"{self.name}: unsupported in_dtype {self.in_dtype!r}")
        return tuple(conv_windows(p, self.K, self.STRIDE, self.PAD, 0) for p in planes)

    def _decoded_weights(self) -> np.ndarray:
        """The ``(OFM_CH, K*K*IFM_CH)`` int64 weights, checked to be decoded -1/+1 values."""
        weights = np.asarray(self.params["weights"], dtype=np.int64)
        if weights.shape != (self.OFM_CH, self.mw):
            raise ValueError(f"{self.name}: weights must be (OFM_CH, K*K*IFM_CH) = "
                             f"{(self.OFM_CH, self.mw)}, got {weights.shape}")
        if not np.all(np.abs(weights) == 1):
            raise ValueError(f"{self.name}: weights must be the decoded values -1/+1")
        return weights

    def accumulate(self, x: np.ndarray) -> tuple:
        """``(acc_M, acc_L, mask, acc)`` for a batch; ``acc_L``/``mask`` are None for BIPOLAR."""
        weights = self._decoded_weights()
        planes = self._planes(np.asarray(x, dtype=np.int64))
        acc_m = _bipolar_matmul(planes[0], weights)
        if len(planes) == 1:
            return acc_m, None, None, acc_m
        acc_l = _bipolar_matmul(planes[1], weights)
        gate = self.params.get("gate")
        mask = np.ones_like(acc_m, dtype=bool) if gate is None else acc_m >= np.asarray(gate)
        return acc_m, acc_l, mask, 2 * acc_m + mask * acc_l

    def reference(self, x: np.ndarray, block_mb: float = 3.0) -> np.ndarray:
        """Bit-exact output ``(N, *out_shape)`` of a batch of stream codes.

        Same integers as :meth:`accumulate` followed by the output function, computed per
        block of images of about ``block_mb`` of window matrix (cache-resident):

        * the input is encoded once per pixel (not per tap) as a float32: FRAC2 code ``q`` ->
          ``m + 2^k l`` (its two ±1 planes, :func:`~pynq_bnn.compiler.kernels.pair_shift`),
          BIPOLAR bit -> ±1; padded taps are 0, as in :meth:`accumulate`;
        * one float32 GEMM of the windows with the ±1 weights gives ``acc_M + 2^k acc_L`` per
          channel (FRAC2), or two channels ``acc_c + 2^k acc_{c+MH/2}`` per column (BIPOLAR):
          exact, every partial sum being an integer below ``2^24``;
          :func:`~pynq_bnn.compiler.kernels.split_pairs` recovers both integers;
        * gate and ``2 acc_M + [acc_M >= G] acc_L`` in float32 (exact integers), then the
          output function as a per-channel table over ``[-3 MW, 3 MW]``
          (:class:`~pynq_bnn.compiler.kernels.ChannelTable`, built from
          :func:`channel_function_reference` itself).

        Falls back to :meth:`accumulate` where the packing does not fit float32 (``MW`` above
        ~2,000).
        """
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            x = x.astype(np.int64)
        n = x.shape[0]
        if self.OUT_MODE not in _ACT_MODES and self.OUT_MODE != "acc":
            raise ValueError(f"{self.name}: OUT_MODE must be acc, thresholds or affine")
        shift = pair_shift(self.mw)
        if not shift or (self.in_dtype == "BIPOLAR" and self.OFM_CH < 2):
            acc = self.accumulate(x)[3]
            if self.OUT_MODE in _ACT_MODES:
                acc = channel_function_reference(self.OUT_MODE, self.params, acc,
                                                 self.out_bias, where=self.name)
            return acc.reshape((n,) + self.out_shape())
        codes = x.reshape((n,) + tuple(self.IFM_DIM) + (self.IFM_CH,))
        _, encode = self._packed_operands(shift)
        top = len(encode) - 1
        if codes.size and (codes.min() < 0 or codes.max() > top):
            raise ValueError(f"{self.name}: {self.in_dtype} input must hold codes 0..{top}"
                             if self.in_dtype == "FRAC2" else
                             f"{self.name}: BIPOLAR input must hold bits 0/1")
        return self._from_values(lambda a, b: np.take(encode, codes[a:b], mode="clip"), n,
                                 shift, block_mb)

    def fused_reference(self, producer):
        """With a FRAC2/BIPOLAR input made by a :class:`Requantize`: that layer's table mapped
        through this layer's code -> float32 encoding (:meth:`Requantize.mapped_reference`)
        gives the encoded input in one gather, with no code stream in between. Falls back to
        the two references whenever the mapping is unavailable (no table, an input outside
        it, or codes outside ``0..3``)."""
        shift = pair_shift(self.mw)
        if producer.kind != "Requantize" or not shift or producer.out_type().kind != \
                self.in_dtype or (self.in_dtype == "BIPOLAR" and self.OFM_CH < 2) or \
                self.OUT_MODE not in _ACT_MODES + ("acc",):
            return None

        def run(x, block_mb: float = 3.0):
            x = np.asarray(x)
            _, encode = self._packed_operands(shift)
            rows = producer.mapped_reference(x, encode)
            if rows is None:
                return self.reference(producer.reference(x), block_mb)
            shape = tuple(self.IFM_DIM) + (self.IFM_CH,)
            return self._from_values(lambda a, b: rows(a, b).reshape((-1,) + shape),
                                     x.shape[0], shift, block_mb)

        return run

    def _from_values(self, values, n: int, shift: int, block_mb: float) -> np.ndarray:
        """Output of ``n`` images whose encoded float32 inputs ``values(start, stop)`` gives
        per block (see :meth:`reference`)."""
        weights_t, _ = self._packed_operands(shift)
        table = self._output_table()
        ho, wo = self.ofm_dim()
        step = max(1, int(block_mb * 2 ** 20 // (ho * wo * self.mw * 4)))
        out = None
        for start in range(0, n, step):
            stop = min(n, start + step)
            block = self._block_acc(values(start, stop), weights_t, shift)
            if table is not None:
                block = table.lookup_float(block)
            elif self.OUT_MODE in _ACT_MODES:  # accumulator range too wide for a table
                block = channel_function_reference(self.OUT_MODE, self.params,
                                                   block.astype(np.int64), self.out_bias,
                                                   where=self.name)
            else:
                block = block.astype(np.int64)
            if out is None:
                out = np.empty((n,) + block.shape[1:], block.dtype)
            out[start:stop] = block
        if out is None:
            out = np.zeros((0,) + self.ofm_dim() + (self.OFM_CH,),
                           table.dtype if table is not None else np.int64)
        return out.reshape((n,) + self.out_shape())

    def _packed_operands(self, shift: int) -> tuple:
        """``(weights_t (MW, cols) float32, code -> float32 value table)`` of the GEMM."""
        def build():
            weights = self._decoded_weights()
            weights = weights.astype(np.float32)
            scale = np.float32(2 ** shift)
            if self.in_dtype == "FRAC2":  # code q: MSB plane 2(q>>1)-1, LSB plane 2(q&1)-1
                encode = np.array([-1 - scale, -1 + scale, 1 - scale, 1 + scale], np.float32)
            elif self.in_dtype == "BIPOLAR":
                encode = np.array([-1, 1], np.float32)
                half = (self.OFM_CH + 1) // 2
                high = np.zeros((half, self.mw), np.float32)
                high[: self.OFM_CH - half] = weights[half:]
                weights = weights[:half] + scale * high
            else:
                raise ValueError(f"{self.name}: unsupported in_dtype {self.in_dtype!r}")
            return np.ascontiguousarray(weights.T), encode

        return cached(self, "packed_operands", [self.params["weights"],
                                                np.array([shift, self.IFM_CH])], build)

    def _output_table(self):
        """Per-channel table of the output function over the accumulator range, or None."""
        lo, hi = self.acc_range()
        if self.OUT_MODE not in _ACT_MODES or not ChannelTable.fits(lo, hi, self.OFM_CH):
            return None
        keys = [np.asarray(v) for _, v in sorted(self.params.items()) if _ != "weights"]

        def build():
            return ChannelTable(
                lambda grid: channel_function_reference(self.OUT_MODE, self.params, grid,
                                                        self.out_bias, where=self.name),
                lo, hi, self.OFM_CH)

        return cached(self, "output_table", keys + [np.array([lo, hi, self.out_bias])], build)

    def _block_acc(self, values: np.ndarray, weights_t: np.ndarray, shift: int) -> np.ndarray:
        """``acc`` (float32 integers) ``(n, Ho, Wo, OFM_CH)`` of a block of encoded inputs."""
        n, h, w, c = values.shape
        p = self.PAD
        padded = np.empty((n, h + 2 * p, w + 2 * p, c), np.float32)
        if p:
            padded[:, :p] = padded[:, -p:] = padded[:, :, :p] = padded[:, :, -p:] = 0
        padded[:, p:p + h, p:p + w] = values
        ho, wo = self.ofm_dim()
        packed = conv_gemm(padded, weights_t, self.K, self.STRIDE, (ho, wo))
        low, high = split_pairs(packed, shift)
        if self.in_dtype == "FRAC2":  # low = acc_M, high = acc_L
            gate = self.params.get("gate")
            if gate is not None:  # integer acc_M >= g  <=>  acc_M >= ceil(g): exact in float32
                gate = np.ceil(np.asarray(gate, dtype=np.float64))
                gate = np.clip(gate, -FLOAT32_EXACT, FLOAT32_EXACT).astype(np.float32)
                high *= low >= np.broadcast_to(gate, (self.OFM_CH,))
            low *= 2
            low += high
            acc = low
        else:  # low = channels [0, half), high = channels [half, MH)
            acc = np.concatenate([low, high[:, : self.OFM_CH - low.shape[1]]], axis=1)
        return acc.reshape(n, ho, wo, self.OFM_CH)

    def lsb_fraction(self, x: np.ndarray) -> float:
        """Fraction of outputs whose gate opens (FracBNN's W/A = 1/(1 + fraction))."""
        mask = self.accumulate(x)[2]
        return 1.0 if mask is None else float(mask.mean())

    def _window_lanes(self) -> int:
        """Lanes of the window unit: it needs ``IFM_CH % lanes == 0`` while the MVAU needs
        ``MW % SIMD == 0``; when SIMD does not divide IFM_CH the window runs with
        ``gcd(SIMD, IFM_CH)`` lanes and a ``resize`` feeds the MVAU."""
        return int(np.gcd(self.SIMD, self.IFM_CH))

    def render_hls(self) -> HlsSnippet:
        """``[add_valid ->] sliding_window (PAD_VALUE 0) [-> resize] -> frac_mvau``.

        Padded taps: with ``PAD > 0`` every lane gets a tap-valid bit on top of its plane bits
        (``bnn::add_valid``); the window inserts all-zero lanes at padded taps, so the valid
        bit is 0 there and ``frac_mvau`` counts neither plane (= numpy's 0 value). A 1×1,
        stride-1, unpadded conv and the vector case need no window unit.
        """
        from pynq_bnn.compiler.hls.params import cname, partition_pragmas, weights_cpp
        from pynq_bnn.compiler.hw.requantize import const_array_cpp

        issues = self.check_folding()
        if issues:
            raise ValueError("; ".join(issues))
        ident = cname(self.name)
        planes = 2 if self.in_dtype == "FRAC2" else 1
        has_valid = 1 if self.PAD > 0 else 0
        lane_bits = planes + has_valid
        nf = self.OFM_CH // self.PE
        weights = np.asarray(self.params["weights"], dtype=np.int64)
        text = weights_cpp(ident, weights, self.PE, self.SIMD, "BIPOLAR", 1)
        gate = self.params.get("gate") if planes == 2 else None
        if gate is None:  # always open (FRAC2 without gate) or unused (BIPOLAR)
            gate = np.full(self.OFM_CH, -self.mw, dtype=np.int64)
        gate = np.broadcast_to(np.asarray(gate, dtype=np.int64), (self.OFM_CH,))
        text += const_array_cpp(f"{ident}_gate", "int", gate.reshape(nf, self.PE).T,
                                partition_pragmas(f"{ident}_gate", (1,)))
        if self.OUT_MODE in _ACT_MODES:
            act_text, act = channel_function_cpp(ident, self.OUT_MODE, self.params,
                                                 self.out_type(), self.PE, self.out_bias)
            text += act_text
        elif self.OUT_MODE == "acc":
            act = "bnn::PassThrough()"
        else:
            raise ValueError(f"{self.name}: OUT_MODE must be acc, thresholds or affine")
        out_bits = self.out_type().bits
        acc_bits = stream_type_for_range(*self.acc_range()).bits
        ho, wo = self.ofm_dim()
        pixels = ho * wo
        h, w = (int(d) for d in self.IFM_DIM)
        lines, decls = [], []
        src = "${in0}"
        direct = self.K == 1 and self.STRIDE == 1 and self.PAD == 0
        in_lanes = self.SIMD if direct else self._window_lanes()
        if not direct:
            lanes = in_lanes
            if has_valid:
                words = h * w * self.IFM_CH // lanes
                decls.append(f"hls::stream<ap_uint<{lanes * lane_bits}> > ${{out}}_valid;")
                lines.append(f"bnn::add_valid<{lanes}, {planes}, {words}>({src}, ${{out}}_valid, "
                             "${reps});")
                src = "${out}_valid"
            decls.append(f"hls::stream<ap_uint<{lanes * lane_bits}> > ${{out}}_win;")
            p, k, st = self.PAD, self.K, self.STRIDE
            lines.append(f"bnn::sliding_window<{k}, {k}, {st}, {st}, {p}, {p}, {p}, {p}, {h}, {w}, "
                         f"{self.IFM_CH}, {lanes}, {lane_bits}, 0>({src}, ${{out}}_win, ${{reps}});")
            src = "${out}_win"
            if lanes != self.SIMD:
                in_words = pixels * self.mw // lanes
                out_words = pixels * self.mw // self.SIMD
                decls.append(f"hls::stream<ap_uint<{self.SIMD * lane_bits}> > ${{out}}_simd;")
                lines.append(f"bnn::resize<{lanes * lane_bits}, {self.SIMD * lane_bits}, "
                             f"{in_words}, {out_words}>({src}, ${{out}}_simd, ${{reps}});")
                src = "${out}_simd"
        lines.append(f"bnn::frac_mvau<{self.mw}, {self.OFM_CH}, {self.SIMD}, {self.PE}, {pixels}, "
                     f"{planes}, {has_valid}, ap_int<{acc_bits}>, {out_bits}>({src}, ${{out}}, "
                     f"{ident}_w, {ident}_gate, {act}, ${{reps}});")
        return HlsSnippet(includes=["bnn/frac_mvau.hpp", "bnn/sliding_window.hpp",
                                    "bnn/streams.hpp"],
                          params_header=text, decl="\n  ".join(decls),
                          call="\n  ".join(lines), in_lanes=[in_lanes], out_lanes=self.PE)
