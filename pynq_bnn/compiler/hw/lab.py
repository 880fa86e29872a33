# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""LABBinarize: the Learnable Activation Binarizer (Falkena et al., WACV 2023) in hardware.

LAB replaces ``sign`` by the argmax of a per-channel pair of 3×3 depthwise convs; at inference it
is one depthwise conv with the difference kernel compared with zero,
:math:`y_c = \operatorname{sign}(\Delta K_c \circledast x_c + \Delta b_c)`. pynq_bnn quantizes
:math:`\Delta K = s K_{int}` to int8 at a power-of-two scale ``s`` (see
:mod:`pynq_bnn.nn.lab`), so with the integer input values ``x`` (±1 bits, or any integer stream)

.. math:: y_c = +1 \iff A_c = \sum_{t} K_{int,c,t}\, x_{c,t} \ge T_c = \lceil -\Delta b_c / s \rceil

(one integer threshold per channel; ``direction = -1`` flips the compare to ``-A_c >= T_c`` for
generality). It cannot fold into the previous layer's thresholds: each output mixes a 3×3
neighbourhood.

Padding: zero padding means a padded tap has the value 0; a BIPOLAR stream cannot carry 0, so the
layer owns its window unit, which widens ±1 bits to INT2 and inserts 0 at padded taps (numpy:
values ``2b-1`` padded with 0). Integer inputs pad with ``PAD_VALUE`` (default 0).

Hardware mapping: widen → sliding window ``K×K`` → depthwise MAC (VVAU: ``K²`` small products per
channel, int8 × INT2 = conditional negation) → per-channel compare → BIPOLAR. Kernel order along
the window: ``(kh, kw)``.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, int_mac, layer_control, memory, threshold_compare
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.hw.frac_mvau import conv_windows, divisors
from pynq_bnn.compiler.hw.requantize import apply_thresholds
from pynq_bnn.compiler.kernels import FLOAT32_EXACT

__all__ = ["LABBinarize", "decode_stream"]


def decode_stream(x: np.ndarray, dtype: str) -> np.ndarray:
    """Stored stream elements -> integer values (BIPOLAR bits 0/1 -> -1/+1; integers as is)."""
    x = np.asarray(x, dtype=np.int64)
    if dtype == "BIPOLAR":
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError("BIPOLAR stream elements must be bits 0/1")
        return 2 * x - 1
    if StreamType.parse(dtype).kind in ("INT", "UINT"):
        return x
    raise ValueError(f"cannot decode a {dtype} stream to integers")


class LABBinarize(HWLayer, kind="LABBinarize"):
    """Depthwise ``K×K`` integer MAC with the LAB difference kernel, compared with ``T_c``."""

    ATTRS = (
        Attr("IFM_DIM", list, None, "input [H, W]"),
        Attr("CH", int, None, "channels (depthwise: in = out)"),
        Attr("K", int, 3, "kernel size"),
        Attr("PAD", int, 1, "zero padding on each side (output keeps H×W for K=3, PAD=1)"),
        Attr("PAD_VALUE", int, 0, "value inserted at padded taps (0 = zero padding)"),
        Attr("in_dtype", str, "BIPOLAR", "input type: BIPOLAR or INTk/UINTk"),
        Attr("W_BITS", int, 8, "bits of the integer difference kernel"),
        Attr("PE", int, 1, "channels per cycle (divides CH)"),
    )

    def ofm_dim(self) -> tuple:
        return tuple(d + 2 * self.PAD - self.K + 1 for d in self.IFM_DIM)

    def in_shapes(self) -> list:
        return [tuple(self.IFM_DIM) + (self.CH,)]

    def out_shape(self) -> tuple:
        return self.ofm_dim() + (self.CH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_dtype)]

    def out_type(self) -> StreamType:
        return StreamType("BIPOLAR", 1)

    def _value_bits(self) -> int:
        t = self.in_types()[0]
        return 2 if t.kind == "BIPOLAR" else t.bits + (t.kind == "UINT")

    def acc_bits(self) -> int:
        """Signed bits of ``A``: ``K²`` products of ``W_BITS × value bits``."""
        return self.W_BITS + self._value_bits() + int(np.ceil(np.log2(self.K * self.K)))

    def folding_space(self) -> dict:
        return {"PE": divisors(self.CH)}

    def check_folding(self) -> list:
        issues = []
        if self.PE < 1 or self.CH % self.PE:
            issues.append(f"{self.name}: PE={self.PE} must divide CH={self.CH}")
        kernel = np.asarray(self.params.get("kernel", np.zeros((self.CH, self.K * self.K))))
        limit = 1 << (self.W_BITS - 1)
        if kernel.size and (kernel.min() < -limit or kernel.max() >= limit):
            issues.append(f"{self.name}: kernel values exceed W_BITS={self.W_BITS}")
        return issues

    def cycles(self) -> int:
        """One output pixel per ``CH/PE`` cycles (all ``K²`` taps of a channel in parallel)."""
        ho, wo = self.ofm_dim()
        return ho * wo * self.CH // self.PE

    def resources(self, board) -> Resources:
        """Model (:mod:`pynq_bnn.compiler.cost`): ``PE`` dot products of ``K²`` products
        ``value_bits × W_BITS``, accumulators, one comparator per PE, kernel and threshold tables,
        the ``(K-1)``-row line buffer of value bits, and layer control."""
        nf, k2 = self.CH // self.PE, self.K * self.K
        acc = self.acc_bits()
        line = memory(depth=(self.K - 1) * self.IFM_DIM[1] * nf, width=self._value_bits() * self.PE)
        return (int_mac(k2, self.PE, self._value_bits(), self.W_BITS)
                + accumulator(acc, self.PE) + threshold_compare(1, acc, self.PE)
                + memory(depth=nf, width=k2 * self.W_BITS + acc, copies=self.PE)
                + line + layer_control(self.PE))

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """Integer depthwise accumulators ``A`` of a batch, ``(N, Ho, Wo, CH)``."""
        n = np.asarray(x).shape[0]
        values = decode_stream(np.asarray(x).reshape((n,) + self.in_shapes()[0]), self.in_dtype)
        kernel = np.asarray(self.params["kernel"], dtype=np.int64)
        if kernel.shape != (self.CH, self.K * self.K):
            raise ValueError(f"{self.name}: kernel must be (CH, K*K) = {(self.CH, self.K ** 2)}, "
                             f"got {kernel.shape}")
        win = conv_windows(values, self.K, 1, self.PAD, self.PAD_VALUE)
        win = win.reshape(win.shape[:3] + (self.K * self.K, self.CH))  # (kh, kw, c) order
        return np.einsum("nhwtc,ct->nhwc", win, kernel)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """BIPOLAR output bits (uint8) of a batch; see :meth:`_float_reference` for the fast
        exact path and :meth:`accumulate` for the integer definition it equals."""
        fast = self._float_reference(np.asarray(x))
        if fast is not None:
            return fast
        acc = self.accumulate(x)
        thresholds = np.asarray(self.params["thresholds"], dtype=np.int64).reshape(self.CH, 1)
        return apply_thresholds(acc, thresholds, self.params.get("direction"))

    def _float_reference(self, x: np.ndarray):
        """The same bits with the depthwise MAC as ``K²`` shifted multiply-adds in float32, or
        None when an accumulator could reach ``2^24`` (then float32 would not be exact).

        Every partial sum is an integer of magnitude at most ``K² max|K_int| max|x|`` < 2^24, so
        float32 sums are exact in any order; the compare ``d·A >= T`` uses ``T`` clipped to
        ``±2^24`` (exact, and no accumulator lies beyond it)."""
        kernel = np.asarray(self.params["kernel"], dtype=np.int64)
        direction = self.params.get("direction")
        if kernel.shape != (self.CH, self.K * self.K) or x.dtype.kind not in "iu" or (
                direction is not None and not np.all(np.abs(np.asarray(direction)) == 1)):
            return None
        n = x.shape[0]
        x = x.reshape((n,) + self.in_shapes()[0])
        if self.in_dtype == "BIPOLAR":
            if x.size and (x.min() < 0 or x.max() > 1):
                raise ValueError("BIPOLAR stream elements must be bits 0/1")
            values = np.take(np.array([-1, 1], np.float32), x, mode="clip")
            top = 1
        else:
            StreamType.parse(self.in_dtype)
            top = max(abs(int(x.min())), abs(int(x.max()))) if x.size else 0
            values = x.astype(np.float32)
        top = max(top, abs(int(self.PAD_VALUE)))
        if self.K * self.K * int(np.abs(kernel).max(initial=0)) * top >= FLOAT32_EXACT:
            return None
        p = self.PAD
        if p:
            values = np.pad(values, ((0, 0), (p, p), (p, p), (0, 0)),
                            constant_values=np.float32(self.PAD_VALUE))
        ho, wo = self.ofm_dim()
        weights = kernel.astype(np.float32)
        acc = np.zeros((n, ho, wo, self.CH), np.float32)
        part = np.empty_like(acc)
        for t in range(self.K * self.K):
            ky, kx = divmod(t, self.K)
            np.multiply(values[:, ky:ky + ho, kx:kx + wo, :], weights[:, t], out=part)
            acc += part
        if direction is not None:
            acc *= np.asarray(direction, dtype=np.float32)
        thresholds = np.asarray(self.params["thresholds"], dtype=np.int64).reshape(self.CH)
        thresholds = np.clip(thresholds, -FLOAT32_EXACT, FLOAT32_EXACT).astype(np.float32)
        return (acc >= thresholds).view(np.uint8)

    def render_hls(self) -> HlsSnippet:
        """``[widen ->] sliding_window -> depthwise_mac`` (CONTRACT.md section 5, LAB).

        BIPOLAR input is widened to INT2 (bit b -> ``2b-1``) so that a padded tap can hold the
        value ``PAD_VALUE`` (0: adds nothing), as :meth:`accumulate` pads the decoded values;
        integer input is windowed as is with ``PAD_VALUE`` as its raw lane code.
        """
        from pynq_bnn.compiler.hls.params import cname, partition_pragmas
        from pynq_bnn.compiler.hw.requantize import _thresholds_act_cpp, const_array_cpp

        issues = self.check_folding()
        if issues:
            raise ValueError("; ".join(issues))
        ident = cname(self.name)
        in_t = self.in_types()[0]
        pe, k, p = self.PE, self.K, self.PAD
        h, w = (int(d) for d in self.IFM_DIM)
        ho, wo = self.ofm_dim()
        lines, decls = [], []
        src = "${in0}"
        if in_t.kind == "BIPOLAR":
            kind, bits = "bnn::INT", 2
            if self.PAD and self.PAD_VALUE not in (-1, 0, 1):
                raise ValueError(f"{self.name}: PAD_VALUE {self.PAD_VALUE} does not fit the INT2 "
                                 "window of a BIPOLAR input")
            decls.append(f"hls::stream<ap_uint<{pe * bits}> > ${{out}}_wide;")
            lines.append(f"bnn::widen<{pe}, 1, {bits}, bnn::BIPOLAR, {h * w * self.CH // pe}>"
                         f"({src}, ${{out}}_wide, ${{reps}});")
            src = "${out}_wide"
        else:
            kind, bits = f"bnn::{in_t.kind}", in_t.bits
            lo = -(1 << (bits - 1)) if in_t.kind == "INT" else 0
            hi = (1 << (bits - 1)) - 1 if in_t.kind == "INT" else (1 << bits) - 1
            if self.PAD and not lo <= self.PAD_VALUE <= hi:
                raise ValueError(f"{self.name}: PAD_VALUE {self.PAD_VALUE} is not a {in_t.name}")
        pad_code = int(self.PAD_VALUE) & ((1 << bits) - 1)
        decls.append(f"hls::stream<ap_uint<{pe * bits}> > ${{out}}_win;")
        lines.append(f"bnn::sliding_window<{k}, {k}, 1, 1, {p}, {p}, {p}, {p}, {h}, {w}, "
                     f"{self.CH}, {pe}, {bits}, {pad_code}>({src}, ${{out}}_win, ${{reps}});")
        kernel = np.asarray(self.params["kernel"], dtype=np.int64).reshape(self.CH, k * k)
        text = const_array_cpp(f"{ident}_w", f"ap_int<{self.W_BITS}>",
                               kernel.reshape(self.CH // pe, pe, k * k).transpose(1, 0, 2),
                               partition_pragmas(f"{ident}_w", (1,)))
        act_text, act = _thresholds_act_cpp(
            ident, np.asarray(self.params["thresholds"]).reshape(self.CH, 1),
            self.params.get("direction"), 0, pe)
        lines.append(f"bnn::depthwise_mac<{k * k}, {self.CH}, {pe}, {ho * wo}, {kind}, {bits}, 1>"
                     f"(${{out}}_win, ${{out}}, {ident}_w, {act}, ${{reps}});")
        return HlsSnippet(includes=["bnn/streams.hpp", "bnn/sliding_window.hpp", "bnn/vvau.hpp"],
                          params_header=text + act_text, decl="\n  ".join(decls),
                          call="\n  ".join(lines), in_lanes=[pe], out_lanes=pe)
