# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Average pooling on integer streams, and FracBNN's parameter-free downsampling shortcut.

An average of integers at scale ``s`` is the integer **sum** at scale ``s / K²``: the hardware
only adds (exact, no divider) and the ``1/K²`` joins the scale that the next per-channel function
(:class:`~pynq_bnn.compiler.hw.requantize.Requantize` thresholds, a residual add with a shift, or
the final FC's float scale) absorbs. With ``K²`` a power of two (2×2 pooling) the average is also
exact in float32, so the Brevitas model and the hardware agree bit for bit.

* :class:`SumPool` — ``K×K`` window, stride ``STRIDE``, no padding; ``GLOBAL=1`` sums the whole
  frame (global average pooling before the classifier) and emits a ``(C,)`` vector.
  Hardware: a line buffer of ``(K-1)`` rows plus an adder tree per PE (FINN's pool unit with sum
  instead of max); global: one accumulator per channel.
* :class:`DownsampleShortcut` — FracBNN/ResNet "option A"-style shortcut without parameters:
  2×2 sum pooling (stride 2) then channel duplication ``C -> DUP·C``: ``"tile"`` repeats the whole
  channel vector (``torch.cat([x] * DUP, dim=1)``), ``"interleave"`` repeats each channel
  (``repeat_interleave``). Hardware: the pool unit writing each sum ``DUP`` times.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, adder_tree, layer_control, memory
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.hw.requantize import stream_type_for_range
from pynq_bnn.compiler.hw.residual import type_range

__all__ = ["SumPool", "DownsampleShortcut", "sum_pool"]


def sum_pool(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Exact integer ``K×K`` window sums of an NHWC batch (no padding, floor output size)."""
    x = np.asarray(x, dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    return win.sum(axis=(-2, -1))


class _PoolBase(HWLayer):
    def ofm_dim(self) -> tuple:
        return tuple((d - self.K) // self.STRIDE + 1 for d in self.IFM_DIM)

    def in_shapes(self) -> list:
        return [tuple(self.IFM_DIM) + (self.CH,)]

    def in_types(self) -> list:
        return [StreamType.parse(self.in_dtype)]

    def _sum_type(self) -> StreamType:
        lo, hi = type_range(self.in_types()[0])
        n = self.K * self.K
        return stream_type_for_range(lo * n, hi * n)

    def folding_space(self) -> dict:
        return {"PE": [d for d in range(1, self.CH + 1) if self.CH % d == 0]}

    def check_folding(self) -> list:
        issues = []
        if self.PE < 1 or self.CH % self.PE:
            issues.append(f"{self.name}: PE={self.PE} must divide CH={self.CH}")
        if self.in_types()[0].kind not in ("INT", "UINT"):
            issues.append(f"{self.name}: sum pooling needs an INT/UINT stream, got {self.in_dtype}")
        return issues

    def cycles(self) -> int:
        """The input is read once: ``H·W·C/PE`` (output words are fewer)."""
        h, w = self.IFM_DIM
        return h * w * self.CH // self.PE

    def resources(self, board) -> Resources:
        """Model (:mod:`pynq_bnn.compiler.cost`): a line buffer of ``(K-1)`` rows (none when
        global: one accumulator per channel instead), a ``K²``-operand adder tree of ``in_bits``
        per PE, and layer control."""
        in_bits = self.in_types()[0].bits
        sum_bits = self._sum_type().bits
        if getattr(self, "GLOBAL", 0):
            return (accumulator(sum_bits, self.PE)
                    + memory(depth=self.CH // self.PE, width=sum_bits, copies=self.PE)
                    + layer_control(self.PE * sum_bits))
        line = memory(depth=(self.K - 1) * self.IFM_DIM[1] * self.CH // self.PE,
                      width=in_bits * self.PE)
        return (line + adder_tree(self.K * self.K, in_bits, copies=self.PE)
                + layer_control(self.PE * sum_bits))

    def _sum_pool_call(self, src: str, dst: str) -> str:
        """``bnn::sum_pool`` (stride = kernel, floor mode) reading lanes as stored values."""
        issues = self.check_folding()
        if issues:
            raise ValueError("; ".join(issues))
        if self.STRIDE != self.K:
            raise NotImplementedError(f"{self.kind}.render_hls: bnn::sum_pool needs STRIDE == K, "
                                      f"got K={self.K}, STRIDE={self.STRIDE}")
        from pynq_bnn.compiler.hw.requantize import raw_kind_cpp

        in_t, sum_t = self.in_types()[0], self._sum_type()
        h, w = (int(d) for d in self.IFM_DIM)
        return (f"bnn::sum_pool<{self.K}, {self.K}, {h}, {w}, {self.CH}, {self.PE}, "
                f"{raw_kind_cpp(in_t)}, {in_t.bits}, {sum_t.bits}>({src}, {dst}, ${{reps}});")


class SumPool(_PoolBase, kind="SumPool"):
    """``K×K`` (or global) window sums of an integer stream; the average's ``1/K²`` is a scale."""

    ATTRS = (
        Attr("IFM_DIM", list, None, "input [H, W]"),
        Attr("CH", int, None, "channels"),
        Attr("K", int, 2, "window size (ignored when GLOBAL)"),
        Attr("STRIDE", int, 2, "stride (ignored when GLOBAL)"),
        Attr("GLOBAL", int, 0, "1: sum the whole H×W frame, output (C,)"),
        Attr("in_dtype", str, None, "input type, INTk/UINTk"),
        Attr("PE", int, 1, "channels per cycle"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.GLOBAL and self.IFM_DIM[0] != self.IFM_DIM[1]:
            raise ValueError(f"{self.name}: global sum pooling expects a square frame")
        if self.GLOBAL:
            self.attrs["K"] = self.attrs["STRIDE"] = int(self.IFM_DIM[0])

    def out_shape(self) -> tuple:
        return (self.CH,) if self.GLOBAL else self.ofm_dim() + (self.CH,)

    def out_type(self) -> StreamType:
        return self._sum_type()

    def render_hls(self) -> HlsSnippet:
        """``bnn::sum_pool`` (``K = IH`` for global pooling)."""
        return HlsSnippet(includes=["bnn/pool.hpp"], call=self._sum_pool_call("${in0}", "${out}"),
                          in_lanes=[self.PE], out_lanes=self.PE)

    def reference(self, x: np.ndarray) -> np.ndarray:
        n = np.asarray(x).shape[0]
        out = sum_pool(np.asarray(x).reshape((n,) + self.in_shapes()[0]), self.K, self.STRIDE)
        return out.reshape((n,) + self.out_shape())


class DownsampleShortcut(_PoolBase, kind="DownsampleShortcut"):
    """2×2 sum pooling (stride 2) + channel duplication ``C -> DUP·C`` (no parameters)."""

    ATTRS = (
        Attr("IFM_DIM", list, None, "input [H, W]"),
        Attr("CH", int, None, "input channels"),
        Attr("K", int, 2, "pool window"),
        Attr("STRIDE", int, 2, "pool stride"),
        Attr("DUP", int, 2, "channel duplication factor"),
        Attr("DUP_ORDER", str, "tile", "tile (cat([x]*DUP)) | interleave (repeat_interleave)"),
        Attr("in_dtype", str, None, "input type, INTk/UINTk"),
        Attr("PE", int, 1, "channels per cycle"),
    )

    def out_shape(self) -> tuple:
        return self.ofm_dim() + (self.CH * self.DUP,)

    def out_type(self) -> StreamType:
        return self._sum_type()

    def check_folding(self) -> list:
        issues = super().check_folding()
        if self.DUP_ORDER not in ("tile", "interleave"):
            issues.append(f"{self.name}: DUP_ORDER must be tile or interleave")
        return issues

    def cycles(self) -> int:
        """Read ``H·W·C/PE`` words; write ``Ho·Wo·DUP·C/PE`` (the larger of the two)."""
        ho, wo = self.ofm_dim()
        return max(super().cycles(), ho * wo * self.CH * self.DUP // self.PE)

    def render_hls(self) -> HlsSnippet:
        """``bnn::sum_pool`` into an internal stream, then ``bnn::channel_map_activate`` with
        ``PassThrough`` writes each sum ``DUP`` times (``src[c] = c % CH`` for tile,
        ``c // DUP`` for interleave)."""
        from pynq_bnn.compiler.hls.params import cname, partition_pragmas
        from pynq_bnn.compiler.hw.requantize import const_array_cpp, raw_kind_cpp

        ident = cname(self.name)
        sum_t = self._sum_type()
        out_ch = self.CH * self.DUP
        channels = np.arange(out_ch)
        src = channels % self.CH if self.DUP_ORDER == "tile" else channels // self.DUP
        ho, wo = self.ofm_dim()
        pool = self._sum_pool_call("${in0}", "${out}_pool")
        dup = (f"bnn::channel_map_activate<{self.CH}, {self.PE}, {out_ch}, {self.PE}, {ho * wo}, "
               f"{raw_kind_cpp(sum_t)}, {sum_t.bits}, {sum_t.bits}>(${{out}}_pool, ${{out}}, "
               f"{ident}_src, bnn::PassThrough(), ${{reps}});")
        return HlsSnippet(includes=["bnn/pool.hpp", "bnn/activations.hpp"],
                          params_header=const_array_cpp(
                              f"{ident}_src", "ap_uint<16>", src,
                              partition_pragmas(f"{ident}_src", (1,), "cyclic", self.PE)
                              if self.PE > 1 else ""),
                          decl=f"hls::stream<ap_uint<{self.PE * sum_t.bits}> > ${{out}}_pool;",
                          call=pool + "\n  " + dup, in_lanes=[self.PE], out_lanes=self.PE)

    def reference(self, x: np.ndarray) -> np.ndarray:
        n = np.asarray(x).shape[0]
        pooled = sum_pool(np.asarray(x).reshape((n,) + self.in_shapes()[0]), self.K, self.STRIDE)
        if self.DUP_ORDER == "tile":
            return np.concatenate([pooled] * self.DUP, axis=-1)
        return np.repeat(pooled, self.DUP, axis=-1)
