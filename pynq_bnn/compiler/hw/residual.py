# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Residual-stream HW layer: the saturating add of two integer streams (with its shortcut FIFO).

FracBNN's CIFAR-10 network is ResNet-20-like: every block adds a shortcut to the output of a
fractional binary conv + BN + RPReLU. In a streaming accelerator the shortcut is an integer
stream (e.g. int8 at a power-of-two scale ``s``):

* the fork of the block input into branch and shortcut is inserted by the HLS assembler wherever
  a tensor has two consumers (``bnn::duplicate``, templates/CONTRACT.md), so it is no graph layer;
* the shortcut must wait while the branch computes: :class:`AddStreams` owns that FIFO
  (``FIFO_DEPTH`` words on input ``b``, set by the lowering rule from the branch's window latency;
  functionally the identity, a too-shallow FIFO deadlocks the dataflow pipeline);
* :class:`AddStreams` adds two integer streams that the lowering rule has brought to a common
  power-of-two grid: ``out = sat((a << SHIFT_A) + (b << SHIFT_B))``. The shifts exist because
  an average-pooled shortcut lives on a finer grid (``s/4`` after a 2×2 sum) than an ``s``-scaled
  branch; left-shifting the coarser one is exact. Saturation clips to ``out_dtype``'s range (the
  float model cannot overflow, so a lowering rule picks ``out_dtype`` wide enough and saturation
  only guards the hardware).

The per-channel affine/requantize that follows an add (BN, RPReLU, the next quantizer) is a
:class:`~pynq_bnn.compiler.hw.requantize.Requantize` (thresholds or LUT).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, stream_control
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.kernels import sum_dtype

__all__ = ["AddStreams", "type_range"]


def type_range(stream_type: StreamType) -> tuple:
    """Integer range ``(lo, hi)`` of a stream type as stored (BIPOLAR bits are 0/1)."""
    if stream_type.kind == "INT":
        return -(1 << (stream_type.bits - 1)), (1 << (stream_type.bits - 1)) - 1
    return 0, (1 << stream_type.bits) - 1


class AddStreams(HWLayer, kind="AddStreams"):
    """``out = sat((a << SHIFT_A) + (b << SHIFT_B))`` on two same-shape integer streams."""

    ATTRS = (
        Attr("SPATIAL", list, None, "leading (spatial) dims, e.g. [H, W]; [] for a vector"),
        Attr("CH", int, None, "channels"),
        Attr("a_dtype", str, None, "type of input a (the branch)"),
        Attr("b_dtype", str, None, "type of input b (the shortcut)"),
        Attr("out_dtype", str, None, "output type; the sum saturates to its range"),
        Attr("SHIFT_A", int, 0, "left shift of a (aligns a coarser grid)"),
        Attr("SHIFT_B", int, 0, "left shift of b"),
        Attr("FIFO_DEPTH", int, 2, "depth in words of the FIFO on input b (the shortcut)"),
        Attr("PE", int, 1, "channels per cycle (divides CH)"),
    )

    def _elements(self) -> int:
        return int(np.prod(self.SPATIAL, dtype=np.int64)) * self.CH

    def in_shapes(self) -> list:
        return [self.out_shape(), self.out_shape()]

    def out_shape(self) -> tuple:
        return tuple(self.SPATIAL) + (self.CH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.a_dtype), StreamType.parse(self.b_dtype)]

    def out_type(self) -> StreamType:
        return StreamType.parse(self.out_dtype)

    def folding_space(self) -> dict:
        return {"PE": [d for d in range(1, self.CH + 1) if self.CH % d == 0]}

    def check_folding(self) -> list:
        issues = []
        if self.PE < 1 or self.CH % self.PE:
            issues.append(f"{self.name}: PE={self.PE} must divide CH={self.CH}")
        if min(self.SHIFT_A, self.SHIFT_B) < 0:
            issues.append(f"{self.name}: shifts must be >= 0")
        return issues

    def cycles(self) -> int:
        """One word of ``PE`` channels per cycle: ``H·W·C/PE``."""
        return self._elements() // self.PE

    def resources(self, board) -> Resources:
        """Model: one ``out_bits+1`` adder with saturation per PE and a flat process's control
        (:func:`~pynq_bnn.compiler.cost.stream_control`). The
        shortcut FIFO on input ``b`` is a stream of the top level: the estimate prices it at its
        declared depth with every other FIFO (:mod:`pynq_bnn.compiler.stream_cost`)."""
        bits = self.out_type().bits + 1
        return (accumulator(bits, self.PE) + Resources(lut=self.PE * bits)
                + stream_control(self.PE * self.out_type().bits))

    def reference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``sat((a << SHIFT_A) + (b << SHIFT_B))``, computed in the narrowest integer dtype
        that is exact for any values of the inputs' dtypes (:func:`~pynq_bnn.compiler.kernels.
        sum_dtype`: int16 for two int8 streams), saturating only where the sum can leave the
        output range."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise ValueError(f"{self.name}: input shapes differ: {a.shape} vs {b.shape}")
        if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
            a, b = a.astype(np.int64), b.astype(np.int64)
        dtype = sum_dtype([(a, self.SHIFT_A), (b, self.SHIFT_B)])
        out = a.astype(dtype)
        if self.SHIFT_A:
            out <<= self.SHIFT_A
        out += (b.astype(dtype) << self.SHIFT_B) if self.SHIFT_B else b
        lo, hi = type_range(self.out_type())
        info = np.iinfo(dtype)
        if info.min < lo:
            np.maximum(out, max(lo, int(info.min)), out=out)
        if info.max > hi:
            np.minimum(out, min(hi, int(info.max)), out=out)
        return out

    def render_hls(self) -> HlsSnippet:
        """``bnn::add_streams`` (shifts, saturation to ``out_dtype``'s range) and the shortcut
        FIFO as a STREAM pragma on input ``b`` (``${in1}``). Lanes are read as stored values, as
        :meth:`reference` does."""
        issues = self.check_folding()
        if issues:
            raise ValueError("; ".join(issues))
        ta, tb = self.in_types()
        out_t = self.out_type()

        def kind(t: StreamType) -> str:
            return "bnn::INT" if t.kind == "INT" else "bnn::UINT"

        pixels = int(np.prod(self.SPATIAL, dtype=np.int64))
        call = (f"bnn::add_streams<{self.CH}, {self.PE}, {pixels}, {kind(ta)}, {ta.bits}, "
                f"{kind(tb)}, {tb.bits}, {out_t.bits}, {self.SHIFT_A}, {self.SHIFT_B}, "
                f"{kind(out_t)}>(${{in0}}, ${{in1}}, ${{out}}, ${{reps}});")
        pragma = f"#pragma HLS STREAM variable = ${{in1}} depth = {max(int(self.FIFO_DEPTH), 2)}"
        return HlsSnippet(includes=["bnn/elementwise.hpp"], call=call, pragmas=[pragma],
                          in_lanes=[self.PE, self.PE], out_lanes=self.PE)
