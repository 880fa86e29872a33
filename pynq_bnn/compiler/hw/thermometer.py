# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Thermometer input stage of FracBNN (Zhang et al., FPGA 2021): pixels -> unary binary channels.

FracBNN encodes each 8-bit pixel :math:`p` of colour channel :math:`c` as ``NT`` unary bits
(level :math:`L = \operatorname{round}(p/8)`, bit :math:`b_i = [i < L]`, 32 bits per colour). Since
:math:`L` is non-decreasing in :math:`p`, every bit is a single integer compare with a constant:

.. math:: b_{c \cdot NT + i} = [\, p_c \ge t_{c,i} \,], \qquad i = 0..NT-1

(for resolution 8: :math:`t = 5, 12, 21, 28, \dots, 252`, ties of the half-to-even rounding
included; see :mod:`pynq_bnn.nn.thermometer`). The output is colour-major (all ``NT`` bits of R,
then G, then B), BIPOLAR (bit 1 = +1), and feeds a pure XNOR-popcount first conv over
``CH·NT`` (96) binary channels. The lowering rule derives :math:`t` from the exported graph by
evaluating it on all 256 pixel values, so this layer never re-implements the rounding.

Hardware mapping (``bnn::thermometer`` in ``bnn/input_encode.hpp``, CONTRACT.md): one pixel per
cycle, ``CH`` uint8 lanes in, ``CH·NT`` bit lanes out; ``CH·NT`` comparators against constants
(``thr`` is a constant array, so synthesis turns each compare into ~2 LUTs and stores nothing).
There is no folding axis: at one pixel per cycle the stage is never the bottleneck of the conv
behind it (which needs ``MW/SIMD ≥ 1`` cycles per output pixel and channel group).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import constant_compare, stream_control
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType

__all__ = ["Thermometer", "thermometer_reference", "uint8_table_cpp"]


def thermometer_reference(pixels: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``out[..., c*NT + i] = [pixels[..., c] >= thresholds[c, i]]`` as uint8 bits.

    Args:
        pixels: integer array ``(..., CH)`` (channels last).
        thresholds: ``(CH, NT)`` integers.
    """
    pixels = np.asarray(pixels)
    thresholds = np.asarray(thresholds, dtype=np.int64)
    # a per-channel lookup table over 0..255 is faster than broadcasting compares
    table = (np.arange(256)[None, :, None] >= thresholds[:, None, :]).astype(np.uint8)
    channels, nt = thresholds.shape
    out = np.empty(pixels.shape[:-1] + (channels, nt), dtype=np.uint8)
    for c in range(channels):
        out[..., c, :] = table[c][pixels[..., c]]
    return out.reshape(pixels.shape[:-1] + (channels * nt,))


def uint8_table_cpp(ident: str, suffix: str, table: np.ndarray) -> str:
    """``static const ap_uint<8> <ident>_<suffix>[R][C]`` for a 2-D table of 0..255 integers."""
    table = np.asarray(table, dtype=np.int64)
    if table.ndim != 2 or table.size == 0 or table.min() < 0 or table.max() > 255:
        raise ValueError("uint8_table_cpp needs a non-empty 2-D table of integers in 0..255")
    rows = ", ".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in table)
    return (f"static const ap_uint<8> {ident}_{suffix}[{table.shape[0]}][{table.shape[1]}] = "
            f"{{{rows}}};\n#pragma HLS ARRAY_PARTITION variable = {ident}_{suffix} complete "
            "dim = 0\n")


class Thermometer(HWLayer, kind="Thermometer"):
    """UINT8 pixels ``(H, W, CH)`` -> BIPOLAR thermometer bits ``(H, W, CH·NT)``.

    Params: ``thresholds`` ``(CH, NT)`` integers in ``0..255`` (bit ``c·NT+i`` is
    ``[p_c >= thresholds[c, i]]``).
    """

    ATTRS = (
        Attr("IFM_DIM", list, None, "image size [H, W]"),
        Attr("IFM_CH", int, None, "colour channels CH"),
        Attr("NT", int, None, "thermometer bits per colour channel"),
    )

    def __init__(self, name, inputs, output, params=None, **attrs):
        super().__init__(name, inputs, output, params, **attrs)
        if "thresholds" in self.params:
            self._check_thresholds(self.params["thresholds"])

    def _check_thresholds(self, thresholds) -> None:
        thresholds = np.asarray(thresholds)
        if thresholds.shape != (self.IFM_CH, self.NT):
            raise ValueError(f"Thermometer {self.name!r}: thresholds have shape "
                             f"{thresholds.shape}, expected (IFM_CH, NT) = "
                             f"{(self.IFM_CH, self.NT)}")
        if thresholds.size and (thresholds.min() < 0 or thresholds.max() > 255):
            raise ValueError(f"Thermometer {self.name!r}: thresholds must lie in 0..255 (an 8-bit "
                             f"compare), got [{thresholds.min()}, {thresholds.max()}]")

    # -- shapes and types ------------------------------------------------------------------------
    def in_shapes(self) -> list:
        return [tuple(self.IFM_DIM) + (self.IFM_CH,)]

    def out_shape(self) -> tuple:
        return tuple(self.IFM_DIM) + (self.IFM_CH * self.NT,)

    def in_types(self) -> list:
        return [StreamType("UINT", 8)]

    def out_type(self) -> StreamType:
        return StreamType("BIPOLAR", 1)

    # -- folding and estimates -------------------------------------------------------------------
    def folding_space(self) -> dict:
        return {}

    def check_folding(self) -> list:
        return []

    def cycles(self) -> int:
        """One pixel (all colour channels) per cycle: ``H·W``."""
        return int(self.IFM_DIM[0]) * int(self.IFM_DIM[1])

    def resources(self, board=None) -> Resources:
        """``CH·NT`` 8-bit compares with constants + a flat streaming process's control (no
        threshold memory)."""
        bits_out = self.IFM_CH * self.NT
        return constant_compare(8, bits_out) + stream_control(bits_out)

    # -- semantics -------------------------------------------------------------------------------
    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        n = x.shape[0]
        pixels = x.reshape((n,) + self.in_shapes()[0])
        if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
            raise ValueError(f"Thermometer {self.name!r}: input must be uint8 pixels 0..255")
        thresholds = np.asarray(self.params["thresholds"])
        self._check_thresholds(thresholds)
        return thermometer_reference(pixels.astype(np.int64), thresholds)

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hls.params import cname

        ident = cname(self.name)
        pixels = self.cycles()
        return HlsSnippet(
            includes=["bnn/input_encode.hpp"],
            params_header=uint8_table_cpp(ident, "thr", self.params["thresholds"]),
            call=(f"bnn::thermometer<{self.IFM_CH}, {self.NT}, {pixels}>"
                  f"(${{in0}}, ${{out}}, {ident}_thr, ${{reps}});"),
            in_lanes=[self.IFM_CH],
            out_lanes=self.IFM_CH * self.NT,
        )
