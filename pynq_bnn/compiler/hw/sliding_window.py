# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""SlidingWindow: the im2col stream generator in front of a convolution's MVAU.

FINN's ConvolutionInputGenerator semantics, channels last: for every output pixel
:math:`(o_y, o_x)` (row-major) it emits the :math:`K_h K_w C` input elements of its window in
the order :math:`(k_y, k_x, c)` with the channel fastest, i.e. the MVAU column order. Output
size :math:`O = \lfloor (I + p_{lo} + p_{hi} - K) / S \rfloor + 1` per axis; dilation is 1.

Zero padding must add 0 to the accumulator, exactly like the float convolution. ``UINT``/``INT``
streams pad with the element 0. ``BIPOLAR`` (±1) and ``FRAC2`` streams have no code for 0, so a
padded window stream carries the decoded values as ``INT2`` (−1, 0, +1) or ``INT3`` (−3..3)
elements: one extra bit per element in the window stream, and the MVAU treats them as signed
inputs (hardware: ``bnn::widen`` in front of the window). Hardware: ``bnn::sliding_window``,
which buffers the frame and then reads every window out.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import layer_control, memory
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, \
    decode_values, divisors

__all__ = ["SlidingWindow", "window_out_type"]


def window_out_type(in_type: str, padded: bool) -> str:
    """Element type of the window stream (see the module docstring for padded ±1 streams)."""
    if padded and in_type == "BIPOLAR":
        return "INT2"
    if padded and in_type == "FRAC2":
        return "INT3"
    return in_type


class SlidingWindow(HWLayer, kind="SlidingWindow"):
    """im2col stream: ``(H, W, C)`` -> ``(OH, OW, Kh*Kw*C)``."""

    ATTRS = (
        Attr("ifm_dim", list, None, "input feature map [H, W]"),
        Attr("channels", int, None, "input channels C"),
        Attr("kernel", list, None, "[Kh, Kw]"),
        Attr("stride", list, [1, 1], "[Sh, Sw]"),
        Attr("pad", list, [0, 0, 0, 0], "[top, left, bottom, right] zero padding"),
        Attr("in_type", str, None, "input stream type"),
        Attr("SIMD", int, 1, "channels moved per cycle"),
    )

    @property
    def padded(self) -> bool:
        return any(int(p) for p in self.pad)

    @property
    def padded_dim(self) -> tuple:
        top, left, bottom, right = (int(p) for p in self.pad)
        return int(self.ifm_dim[0]) + top + bottom, int(self.ifm_dim[1]) + left + right

    @property
    def ofm_dim(self) -> tuple:
        hp, wp = self.padded_dim
        kh, kw = self.kernel
        sh, sw = self.stride
        oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"SlidingWindow {self.name!r}: kernel {self.kernel} larger than the "
                             f"padded input {self.padded_dim}")
        return oh, ow

    def in_shapes(self) -> list:
        return [(int(self.ifm_dim[0]), int(self.ifm_dim[1]), self.channels)]

    def out_shape(self) -> tuple:
        kh, kw = self.kernel
        return self.ofm_dim + (int(kh) * int(kw) * self.channels,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_type)]

    def out_type(self) -> StreamType:
        return StreamType.parse(window_out_type(self.in_type, self.padded))

    def folding_space(self) -> dict:
        return {"SIMD": divisors(self.channels)}

    def check_folding(self) -> list:
        if self.channels % self.SIMD:
            return [f"SlidingWindow {self.name!r}: channels ({self.channels}) % SIMD "
                    f"({self.SIMD}) != 0"]
        return []

    def cycles(self) -> int:
        """Cycles per image of the frame-buffered template (CONTRACT.md):
        ``IH*IW*C/SIMD`` (write) + ``OH*OW*Kh*Kw*C/SIMD`` (read out every window)."""
        (ih, iw), (kh, kw) = self.ifm_dim, self.kernel
        oh, ow = self.ofm_dim
        folds = self.channels // self.SIMD
        return int(ih) * int(iw) * folds + oh * ow * int(kh) * int(kw) * folds

    def resources(self, board=None) -> Resources:
        """Frame buffer ``IH*IW*C/SIMD`` words of ``SIMD*bits`` (window elements) + control."""
        bits = self.out_type().bits
        depth = int(self.ifm_dim[0]) * int(self.ifm_dim[1]) * (self.channels // self.SIMD)
        return memory(depth=depth, width=self.SIMD * bits) + layer_control(self.SIMD * bits)

    def reference(self, x: np.ndarray) -> np.ndarray:
        h, w, c = self.in_shapes()[0]
        x = np.asarray(x).reshape(-1, h, w, c)
        if self.padded:
            top, left, bottom, right = (int(p) for p in self.pad)
            values = decode_values(x, self.in_types()[0])
            values = values.astype(np.int16 if self.in_types()[0].bits < 16 else np.int64)
            x = np.pad(values, ((0, 0), (top, bottom), (left, right), (0, 0)))
        return self.windows(x)

    def windows(self, padded: np.ndarray) -> np.ndarray:
        """Window tensor ``(N, OH, OW, Kh*Kw*C)`` of an already padded ``(N, Hp, Wp, C)`` array.

        The one place the window indexing lives: :meth:`reference` (stream codes) and the fused
        execution path (:meth:`decoded_input` values, see ``MVAU.conv_reference``) share it.
        """
        (kh, kw), (sh, sw) = self.kernel, self.stride
        oh, ow = self.ofm_dim
        c = padded.shape[-1]
        win = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
        win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]  # (N, OH, OW, C, Kh, Kw)
        return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(
            padded.shape[0], oh, ow, kh * kw * c)

    def decoded_input(self, x: np.ndarray, dtype=np.float32) -> np.ndarray:
        """The values the window stream stands for, before windowing: ``(N, Hp, Wp, C)``.

        Stream codes decoded (:func:`decode_values`: ``BIPOLAR`` bits -> ±1, ``FRAC2`` codes ->
        ``2q - 3``, integers unchanged) into ``dtype`` and zero padded. Windowing this array gives
        exactly the values of :meth:`reference`'s elements as the MVAU decodes them (padded
        ±1 streams are already decoded there; unpadded ones are decoded by the MVAU), in one
        conversion pass over the (small) input instead of the (Kh*Kw times larger) window.
        """
        h, w, c = self.in_shapes()[0]
        x = np.asarray(x).reshape(-1, h, w, c)
        top, left, bottom, right = (int(p) for p in self.pad)
        out = np.zeros((x.shape[0], h + top + bottom, w + left + right, c), dtype)
        inner = out[:, top:top + h, left:left + w]
        inner[...] = x
        kind = self.in_types()[0].kind
        if kind in ("BIPOLAR", "FRAC2"):
            inner *= 2
            inner -= 1 if kind == "BIPOLAR" else 3
        return out

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import sliding_window_snippet

        return sliding_window_snippet(self)
