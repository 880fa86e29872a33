# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Bit-plane input stage (Vorabbi, Maltoni, Santi 2023, arXiv 2305.02885) as two HW layers.

The stage binarizes the first layer on the 8-bit pixels themselves. With
:math:`p = \sum_j 2^j \beta_j(p)` and :math:`s_{c,j} = 2\beta_j(p_c) - 1` (see
:mod:`pynq_bnn.nn.bitplane`):

1. :class:`BitPlanes` — byte -> 8 planes: output bit ``8c + j`` is bit ``j`` of ``p_c`` (LSB
   first, colour-major), BIPOLAR. Hardware: pure wiring (``bnn::bit_planes``, CONTRACT.md).
2. :class:`BitPlaneConv` — the rest of the stage, all between integer points:

   * grouped XNOR-popcount: each plane ``g = 8c + j`` has its own ``k`` binary ``K x K`` kernels,
     zero padding (a padded tap adds 0), :math:`a_{g,m} = \sum_t W_{g,m,t}\, s_{g,t}`,
     channel ``g·k + m``;
   * per-channel threshold (BN + sign folded): :math:`u_{g,m} = [\nu ? -a : a \ge T^{(1)}_{g,m}]`;
   * shift-weighted sum per colour: :math:`v_{c,m} = \sum_j w_{c,m,j}\,(2u_{8c+j,m} - 1)` with
     integer weights (``2^j`` or the paper's ``[1,1,2,2,4,4,8,8]``: shifts in hardware);
   * per-channel threshold: output bit ``c·k + m`` is :math:`[\nu ? -v : v \ge T^{(2)}_{c,m}]`.

Hardware mapping of :class:`BitPlaneConv`: a ``K x K`` window over the ``8C`` plane bits with a
tap-valid bit (padding contributes 0), ``PE`` fused output channels per cycle; each PE lane holds
8 popcounts of ``K²`` XNORs (one per plane), 8 comparators, an 8-input shift-add tree and one
comparator. Its HLS template is not part of CONTRACT.md yet (``render_hls`` says so).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import (
    adder_tree, layer_control, memory, popcount_bits, signed_sum_bits, stream_control,
    threshold_compare, xnor_popcount)
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, divisors
from pynq_bnn.compiler.hw.thresholding import apply_thresholds
from pynq_bnn.compiler.kernels import FLOAT32_EXACT, cached

__all__ = ["BitPlanes", "BitPlaneConv", "bit_planes_reference", "BITS"]

BITS = 8


def bit_planes_reference(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels ``(..., C)`` -> bits ``(..., 8C)``, channel ``8c + j`` = bit ``j`` of ``p_c``.

    (``np.unpackbits`` with little bit order: LSB plane first.)
    """
    pixels = np.asarray(pixels).astype(np.uint8)
    bits = np.unpackbits(pixels[..., None], axis=-1, bitorder="little")  # (..., C, 8)
    return bits.reshape(pixels.shape[:-1] + (pixels.shape[-1] * BITS,))


def _check_pixels(name: str, x: np.ndarray) -> None:
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(f"layer {name!r}: input must be uint8 pixels 0..255")


class BitPlanes(HWLayer, kind="BitPlanes"):
    """UINT8 ``(H, W, C)`` -> BIPOLAR ``(H, W, 8C)`` bit planes (no parameters, no folding)."""

    ATTRS = (
        Attr("IFM_DIM", list, None, "image size [H, W]"),
        Attr("IFM_CH", int, None, "colour channels C"),
    )

    def in_shapes(self) -> list:
        return [tuple(self.IFM_DIM) + (self.IFM_CH,)]

    def out_shape(self) -> tuple:
        return tuple(self.IFM_DIM) + (BITS * self.IFM_CH,)

    def in_types(self) -> list:
        return [StreamType("UINT", 8)]

    def out_type(self) -> StreamType:
        return StreamType("BIPOLAR", 1)

    def folding_space(self) -> dict:
        return {}

    def check_folding(self) -> list:
        return []

    def cycles(self) -> int:
        """One pixel (all colours) per cycle: ``H·W``."""
        return int(self.IFM_DIM[0]) * int(self.IFM_DIM[1])

    def resources(self, board=None) -> Resources:
        """Wiring only: a flat streaming process's control and the registered output word."""
        return stream_control(BITS * self.IFM_CH)

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        _check_pixels(self.name, x)
        return bit_planes_reference(x.reshape((x.shape[0],) + self.in_shapes()[0]))

    def render_hls(self) -> HlsSnippet:
        return HlsSnippet(includes=["bnn/input_encode.hpp"],
                          call=(f"bnn::bit_planes<{self.IFM_CH}, {self.cycles()}>"
                                "(${in0}, ${out}, ${reps});"),
                          in_lanes=[self.IFM_CH], out_lanes=BITS * self.IFM_CH)


class BitPlaneConv(HWLayer, kind="BitPlaneConv"):
    """Grouped per-plane XNOR conv -> threshold -> shift-weighted colour sum -> threshold.

    Params (``P = 8·C·k`` plane channels, ``F = C·k`` fused channels):
        ``weights`` ``(P, K·K)`` bits (1 = +1), tap order ``(ky, kx)``, row ``g·k + m``;
        ``plane_thresholds`` ``(P, 1)`` ints, ``plane_neg`` ``(P,)`` direction flags;
        ``fuse_weights`` ``(F, 8)`` ints ``w_{c,m,j}``;
        ``fuse_thresholds`` ``(F, 1)`` ints, ``fuse_neg`` ``(F,)`` direction flags.
    """

    ATTRS = (
        Attr("IFM_DIM", list, None, "image size [H, W]"),
        Attr("IFM_CH", int, None, "colour channels C (the input carries 8C planes)"),
        Attr("PLANE_CH", int, None, "k: binary kernels per plane"),
        Attr("K", int, 3, "square kernel size"),
        Attr("PAD", int, 1, "zero padding on each side (padded taps add 0)"),
        Attr("PE", int, 1, "fused output channels per cycle (divides C·k)"),
    )

    @property
    def planes(self) -> int:
        return BITS * self.IFM_CH

    @property
    def fused(self) -> int:
        return self.IFM_CH * self.PLANE_CH

    def ofm_dim(self) -> tuple:
        return tuple(int(d) + 2 * self.PAD - self.K + 1 for d in self.IFM_DIM)

    def in_shapes(self) -> list:
        return [tuple(self.IFM_DIM) + (self.planes,)]

    def out_shape(self) -> tuple:
        return self.ofm_dim() + (self.fused,)

    def in_types(self) -> list:
        return [StreamType("BIPOLAR", 1)]

    def out_type(self) -> StreamType:
        return StreamType("BIPOLAR", 1)

    # -- folding and estimates -------------------------------------------------------------------
    def folding_space(self) -> dict:
        return {"PE": divisors(self.fused)}

    def check_folding(self) -> list:
        if self.PE < 1 or self.fused % self.PE:
            return [f"PE={self.PE} must divide the fused channels C·k={self.fused}"]
        return []

    def cycles(self) -> int:
        """Cycles per image of ``bnn::bitplane_conv``: it buffers the frame (``H·W`` reads), then per
        output row fills the ``K``-wide window (``K-1``) and emits ``W_out·C·k/PE`` words:
        ``H·W + H_out·(K - 1 + W_out·C·k/PE)``."""
        ho, wo = self.ofm_dim()
        ih, iw = (int(d) for d in self.IFM_DIM)
        return ih * iw + ho * (self.K - 1 + wo * (self.fused // self.PE))

    def _sum_bits(self) -> int:
        weights = np.abs(np.asarray(self.params.get("fuse_weights", [[2 ** (BITS - 1)] * BITS])))
        return signed_sum_bits(int(weights.sum(axis=-1).max()))

    def resources(self, board=None) -> Resources:
        """Per PE lane: 8 popcounts of K² XNORs, 8 plane compares, an 8-operand adder tree of the
        plane weights, one fused compare; memories for weights/thresholds; a (K-1)-row line
        buffer of the 8C plane bits; control."""
        taps, pe, depth = self.K * self.K, self.PE, self.fused // self.PE
        acc_bits = signed_sum_bits(taps)
        sum_bits = self._sum_bits()
        logic = (xnor_popcount(taps, pe=BITS * pe)
                 + threshold_compare(1, acc_bits, pe=BITS * pe)
                 + adder_tree(BITS, sum_bits, copies=pe)
                 + threshold_compare(1, sum_bits, pe=pe))
        store = (memory(depth, BITS * taps, copies=pe)                       # kernel bits
                 + memory(depth, BITS * acc_bits + sum_bits, copies=pe))    # thresholds
        window = memory((self.K - 1) * int(self.IFM_DIM[1]), self.planes)
        return logic + store + window + layer_control(pe + popcount_bits(self.fused))

    # -- semantics -------------------------------------------------------------------------------
    def plane_accumulators(self, x: np.ndarray) -> np.ndarray:
        """Grouped conv accumulators ``(N, Ho, Wo, P)`` (int32, in ``[-K², K²]``)."""
        x = np.asarray(x)
        n, (h, w) = x.shape[0], self.IFM_DIM
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"layer {self.name!r}: BIPOLAR input must hold bits 0/1")
        values = 2 * x.reshape(n, h, w, self.planes).astype(np.int8) - 1
        pad = self.PAD
        values = np.pad(values, ((0, 0), (pad, pad), (pad, pad), (0, 0)))   # padded taps: 0
        weights = 2 * np.asarray(self.params["weights"], dtype=np.int8) - 1
        taps = self.K * self.K
        if weights.shape != (self.planes * self.PLANE_CH, taps):
            raise ValueError(f"layer {self.name!r}: weights must be (8·C·k, K·K) = "
                             f"{(self.planes * self.PLANE_CH, taps)}, got {weights.shape}")
        weights = weights.reshape(self.planes, self.PLANE_CH, taps)
        ho, wo = self.ofm_dim()
        acc = np.zeros((n, ho, wo, self.planes, self.PLANE_CH), dtype=np.int32)
        for t in range(taps):
            ky, kx = divmod(t, self.K)
            tap = values[:, ky:ky + ho, kx:kx + wo, :, None].astype(np.int32)
            acc += tap * weights[None, None, None, :, :, t]
        return acc.reshape(n, ho, wo, self.planes * self.PLANE_CH)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """Output bits (uint8) of a batch: :meth:`_gemm_reference` when it applies (one
        threshold per plane channel and per fused channel), else the integer definition."""
        fast = self._gemm_reference(np.asarray(x))
        if fast is not None:
            return fast
        acc = self.plane_accumulators(x)
        u = apply_thresholds(acc, self.params["plane_thresholds"], self.params.get("plane_neg"))
        n, ho, wo, _ = acc.shape
        signs = (2 * u - 1).reshape(n, ho, wo, self.IFM_CH, BITS, self.PLANE_CH)
        fuse = np.asarray(self.params["fuse_weights"], dtype=np.int64)
        fuse = fuse.reshape(self.IFM_CH, self.PLANE_CH, BITS)                # (c, m, j)
        v = np.einsum("nhwcjm,cmj->nhwcm", signs.astype(np.int64), fuse)
        v = v.reshape(n, ho, wo, self.fused)
        out = apply_thresholds(v, self.params["fuse_thresholds"], self.params.get("fuse_neg"))
        return out.astype(np.uint8)

    def _gemm_operands(self):
        """Per colour ``c``: the block-diagonal plane kernels ``(K²·8, 8·k)`` (rows ``(t, j)``,
        columns ``(j, m)``) and the fuse weights ``(8·k, k)`` (rows ``(j, m)``), float32."""
        def build():
            taps, k = self.K * self.K, self.PLANE_CH
            weights = (2.0 * np.asarray(self.params["weights"], np.float32) - 1).reshape(
                self.IFM_CH, BITS, k, taps)                                   # (c, j, m, t)
            fuse = np.asarray(self.params["fuse_weights"], np.float32).reshape(
                self.IFM_CH, k, BITS)                                         # (c, m, j)
            conv = np.zeros((self.IFM_CH, taps, BITS, BITS, k), np.float32)  # (c, t, j, j', m)
            mix = np.zeros((self.IFM_CH, BITS, k, k), np.float32)            # (c, j, m, m')
            for j in range(BITS):
                conv[:, :, j, j, :] = weights[:, j].transpose(0, 2, 1)
                mix[:, j, np.arange(k), np.arange(k)] = fuse[:, :, j]
            return (conv.reshape(self.IFM_CH, taps * BITS, BITS * k),
                    mix.reshape(self.IFM_CH, BITS * k, k))

        return cached(self, "gemm", [self.params["weights"], self.params["fuse_weights"]],
                      build)

    def _gemm_reference(self, x: np.ndarray):
        """Exact float32 GEMM form of :meth:`reference`, or None where it does not apply.

        Per colour, the grouped XNOR-popcount of its 8 planes is one GEMM of the ``(K², 8)``
        window matrix with block-diagonal ±1 kernels (plane ``j`` only meets its own kernels;
        padded taps are 0), the plane signs ``2u - 1`` times the fuse weights another GEMM.
        All values are small integers (``|a| <= K²``, ``|v| <= sum|w|``), exact in float32; the
        compares use thresholds clipped to ``±2^24``.
        """
        if any(key not in self.params for key in ("weights", "plane_thresholds",
                                                  "fuse_thresholds", "fuse_weights")):
            return None  # the integer path reports what is missing
        plane_t = np.asarray(self.params["plane_thresholds"])
        fuse_t = np.asarray(self.params["fuse_thresholds"])
        fuse_w = np.asarray(self.params["fuse_weights"])
        taps = self.K * self.K
        if plane_t.shape != (self.planes * self.PLANE_CH, 1) or \
                fuse_t.shape != (self.fused, 1) or x.dtype.kind not in "iu" or \
                np.asarray(self.params["weights"]).shape != (self.planes * self.PLANE_CH, taps) \
                or fuse_w.size != self.fused * BITS or \
                int(np.abs(fuse_w).sum(axis=-1).max(initial=0)) >= FLOAT32_EXACT:
            return None
        n, (h, w) = x.shape[0], self.IFM_DIM
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"layer {self.name!r}: BIPOLAR input must hold bits 0/1")
        conv, mix = self._gemm_operands()
        k, p = self.PLANE_CH, self.PAD
        ho, wo = self.ofm_dim()
        values = np.zeros((n, h + 2 * p, w + 2 * p, self.IFM_CH, BITS), np.float32)
        values[:, p:p + h, p:p + w] = np.take(np.array([-1, 1], np.float32),
                                              x.reshape(n, h, w, self.IFM_CH, BITS), mode="clip")
        windows = np.empty((n, ho, wo, self.IFM_CH, taps, BITS), np.float32)
        for t in range(taps):
            ky, kx = divmod(t, self.K)
            windows[:, :, :, :, t] = values[:, ky:ky + ho, kx:kx + wo]

        def signed(neg, size):
            flags = np.zeros(size, bool) if neg is None else np.asarray(neg, bool).reshape(size)
            return np.where(flags, -1, 1).astype(np.float32)

        def limit(thresholds):
            return np.clip(np.asarray(thresholds, np.int64).reshape(-1), -FLOAT32_EXACT,
                           FLOAT32_EXACT).astype(np.float32)

        plane_sign = signed(self.params.get("plane_neg"), self.planes * k)
        plane_thr = limit(plane_t)
        fuse_sign = signed(self.params.get("fuse_neg"), self.fused)
        fuse_thr = limit(fuse_t)
        out = np.empty((n * ho * wo, self.IFM_CH, k), np.uint8)
        group = BITS * k
        for c in range(self.IFM_CH):
            acc = windows[:, :, :, c].reshape(-1, taps * BITS) @ conv[c]     # (pixels, (j, m))
            acc *= plane_sign[c * group:(c + 1) * group]
            bits = acc >= plane_thr[c * group:(c + 1) * group]
            signs = bits.astype(np.float32)
            signs *= 2
            signs -= 1
            v = signs @ mix[c]                                               # (pixels, m)
            v *= fuse_sign[c * k:(c + 1) * k]
            out[:, c] = v >= fuse_thr[c * k:(c + 1) * k]
        return out.reshape(n, ho, wo, self.fused)

    def render_hls(self) -> HlsSnippet:
        """``bnn::bitplane_conv`` (``bnn/bitplane.hpp``, CONTRACT.md section 5).

        Parameters are re-ordered per fused channel ``f = c·k + m = nf·PE + pe``: the eight
        plane kernels of colour ``c`` / index ``m`` form one ``8·K²``-bit weight word (lane ``j``
        = plane ``8c + j``), the plane thresholds a ``Thresholds<8·NF, PE, 1>`` indexed by fold
        ``8·nf + j``, the fuse weights an ``INT`` word of 8 lanes. Thresholds are integer-exact
        (``ceil``, clipped just outside the reachable accumulator range).
        """
        from pynq_bnn.compiler.hls.params import cname, signed_bits, thresholds_cpp, weights_cpp

        def integer_thresholds(thresholds, bound: int) -> np.ndarray:
            # x >= T equals x >= ceil(T) for integers x in [-bound, bound]; clipping to
            # ±(bound + 1) keeps "always"/"never" (also ±inf) and a small C type.
            thr = np.asarray(thresholds, dtype=np.float64).reshape(-1)
            return np.ceil(np.clip(thr, -bound - 1, bound + 1)).astype(np.int64)

        ident, pe, k, taps = cname(self.name), int(self.PE), int(self.PLANE_CH), self.K * self.K
        problems = self.check_folding()
        if problems:
            raise ValueError(f"BitPlaneConv {self.name!r}: " + "; ".join(problems))
        nf = self.fused // pe
        # plane row of (fused channel f, plane j): (8c + j)·k + m with c = f // k, m = f % k
        fused = np.arange(self.fused)
        rows = (((BITS * (fused // k))[:, None] + np.arange(BITS)[None, :]) * k
                + (fused % k)[:, None])                                        # (F, 8)
        bits = np.asarray(self.params["weights"]).reshape(self.planes * k, taps)
        kernels = (2 * bits[rows].astype(np.int64) - 1).reshape(self.fused, BITS * taps)
        # plane activation channel q = (nf·8 + j)·PE + pe
        by_fold = rows.reshape(nf, pe, BITS).transpose(0, 2, 1).reshape(-1)
        plane_thr = integer_thresholds(self.params["plane_thresholds"], taps)[by_fold]
        plane_neg = self.params.get("plane_neg")
        plane_neg = (np.zeros(len(plane_thr), dtype=bool) if plane_neg is None
                     else np.asarray(plane_neg, dtype=bool).reshape(-1)[by_fold])
        fuse_w = np.asarray(self.params["fuse_weights"], dtype=np.int64).reshape(self.fused, BITS)
        fw_bits = signed_bits(fuse_w)
        fuse_thr = integer_thresholds(self.params["fuse_thresholds"],
                                      int(np.abs(fuse_w).sum(axis=1).max()))
        params = (weights_cpp(ident, kernels, pe, BITS * taps)
                  + thresholds_cpp(f"{ident}_plane", plane_thr, pe, neg=plane_neg)
                  + weights_cpp(f"{ident}_fuse", fuse_w, pe, BITS, "INT", fw_bits)
                  + thresholds_cpp(f"{ident}_fuse", fuse_thr, pe,
                                   neg=self.params.get("fuse_neg")))
        (ih, iw), ch = (int(d) for d in self.IFM_DIM), self.IFM_CH
        call = (f"bnn::bitplane_conv<{ih}, {iw}, {ch}, {k}, {self.K}, {self.PAD}, {pe}, {fw_bits}>"
                f"(${{in0}}, ${{out}}, {ident}_w, {ident}_plane_act, {ident}_fuse_w, "
                f"{ident}_fuse_act, ${{reps}});")
        return HlsSnippet(includes=["bnn/bitplane.hpp"], params_header=params, call=call,
                          in_lanes=[self.planes], out_lanes=pe)

