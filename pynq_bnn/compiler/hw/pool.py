# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""MaxPool on a channels-last stream (FINN StreamingMaxPool).

:math:`y_{o_y,o_x,c} = \max_{k_y,k_x} x_{S o_y + k_y,\, S o_x + k_x,\, c}`, no padding,
``floor`` output size. The max is taken on the stream elements, which is the max of the decoded
values for every encoding (they are order preserving): on ``BIPOLAR`` bits it is an OR — the
hardware of CNV's pooling after the sign. Max-pool commutes with any positive scale and with the
monotone threshold in front, which is why the compiler may keep it on the integer stream.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import layer_control, memory
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, divisors

__all__ = ["MaxPool"]


class MaxPool(HWLayer, kind="MaxPool"):
    """``(H, W, C)`` -> ``(OH, OW, C)`` max over ``kernel`` windows moved by ``stride``."""

    ATTRS = (
        Attr("ifm_dim", list, None, "input feature map [H, W]"),
        Attr("channels", int, None, "channels C"),
        Attr("kernel", list, None, "[Kh, Kw]"),
        Attr("stride", list, None, "[Sh, Sw]"),
        Attr("in_type", str, None, "stream type (unchanged by the layer)"),
        Attr("PE", int, 1, "channels per cycle"),
    )

    @property
    def ofm_dim(self) -> tuple:
        (h, w), (kh, kw), (sh, sw) = self.ifm_dim, self.kernel, self.stride
        return (int(h) - kh) // sh + 1, (int(w) - kw) // sw + 1

    def in_shapes(self) -> list:
        return [(int(self.ifm_dim[0]), int(self.ifm_dim[1]), self.channels)]

    def out_shape(self) -> tuple:
        return self.ofm_dim + (self.channels,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_type)]

    def out_type(self) -> StreamType:
        return StreamType.parse(self.in_type)

    def folding_space(self) -> dict:
        return {"PE": divisors(self.channels)}

    def check_folding(self) -> list:
        issues = []
        if self.channels % self.PE:
            issues.append(f"MaxPool {self.name!r}: channels ({self.channels}) % PE ({self.PE}) "
                          "!= 0")
        if list(self.kernel) != list(self.stride):
            issues.append(f"MaxPool {self.name!r}: the streaming template needs kernel == stride "
                          f"(got kernel {self.kernel}, stride {self.stride})")
        return issues

    def cycles(self) -> int:
        """Cycles per image: every input element once, ``H*W*C/PE``."""
        h, w = self.ifm_dim
        return int(h) * int(w) * self.channels // self.PE

    def resources(self, board=None) -> Resources:
        """One output row of running maxima (``OW*C/PE`` words of ``PE*bits``), ``PE`` comparators
        of ``bits`` LUTs, control."""
        bits = self.out_type().bits
        row = memory(depth=self.ofm_dim[1] * self.channels // self.PE, width=self.PE * bits)
        return row + Resources(lut=self.PE * bits, ff=self.PE * bits) + layer_control(
            self.PE * bits)

    def reference(self, x: np.ndarray) -> np.ndarray:
        h, w, c = self.in_shapes()[0]
        x = np.asarray(x).reshape(-1, h, w, c)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        oh, ow = self.ofm_dim
        if kh == sh and kw == sw:
            cut = x[:, : oh * kh, : ow * kw]
            return cut.reshape(x.shape[0], oh, kh, ow, kw, c).max(axis=(2, 4))
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        return win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw].max(axis=(4, 5))

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import max_pool_snippet

        return max_pool_snippet(self)
