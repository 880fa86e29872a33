# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Multi-threshold activation: the hardware form of every "BN / scale / bias / PReLU + quantizer"
tail between two integer points, and the standalone :class:`Thresholding` layer.

Math: for integer input :math:`a` of channel :math:`c` with ascending thresholds
:math:`T_{c,1} \le \dots \le T_{c,n}` and direction flag :math:`\nu_c`,

.. math:: y = b + \sum_{k=1}^{n} [\, (\nu_c ? -a : a) \ge T_{c,k} \,]

with :math:`b` the output bias (the value of code 0). A non-decreasing per-channel function of
the input followed by an :math:`n+1`-level quantizer is exactly such a count (FINN's
MultiThreshold, Umuroglu et al., FPGA 2017); a non-increasing one (negative BN gamma) sets
:math:`\nu_c`. The compiler derives :math:`T` by evaluating the float32 tail on every integer
of the input range (see :mod:`pynq_bnn.compiler.passes.absorb_thresholds`).

Stream values: the output element is ``b + count`` (for a ``BIPOLAR`` output ``b = 0`` and the
element is the bit, 1 = +1). Hardware: ``n`` comparators per PE lane, thresholds in LUTRAM/BRAM
(``bnn::Thresholds`` of ``bnn/activations.hpp``). Example: LFC's input binarization ``p >= 128``.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import signed_sum_bits, stream_control, threshold_unit
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, \
    decode_values, divisors

__all__ = ["Thresholding", "apply_thresholds", "check_thresholds"]


def apply_thresholds(acc: np.ndarray, thresholds: np.ndarray, neg: np.ndarray | None = None,
                     out_bias: int = 0) -> np.ndarray:
    """``out_bias + #{k : (neg_c ? -acc : acc) >= T[c, k]}`` over the last axis (channels).

    Args:
        acc: integer (or integer-valued float) array ``(..., C)``.
        thresholds: ``(C, n)`` ascending per row.
        neg: ``(C,)`` booleans (None = all False).
        out_bias: integer added to the count.

    Returns:
        int32 array of ``acc``'s shape.
    """
    thresholds = np.asarray(thresholds)
    values = acc if neg is None or not np.any(neg) else np.where(np.asarray(neg, bool), -acc, acc)
    n = thresholds.shape[1]
    if n <= 16:
        count = np.zeros(values.shape, dtype=np.int32)
        for k in range(n):
            count += values >= thresholds[:, k].astype(values.dtype)
    else:
        flat = values.reshape(-1, values.shape[-1])
        count = np.empty(flat.shape, dtype=np.int32)
        for c in range(flat.shape[1]):
            count[:, c] = np.searchsorted(thresholds[c], flat[:, c], side="right")
        count = count.reshape(values.shape)
    if out_bias:
        count += np.int32(out_bias)
    return count


def check_thresholds(layer_name: str, thresholds: np.ndarray, channels: int, n: int) -> None:
    """Raise ValueError unless ``thresholds`` is ``(channels, n)`` and ascending per channel."""
    thresholds = np.asarray(thresholds)
    if thresholds.shape != (channels, n):
        raise ValueError(f"layer {layer_name!r}: thresholds have shape {thresholds.shape}, "
                         f"expected ({channels}, {n})")
    if n > 1 and np.any(np.diff(thresholds, axis=1) < 0):
        raise ValueError(f"layer {layer_name!r}: thresholds must be ascending per channel")


class Thresholding(HWLayer, kind="Thresholding"):
    """Standalone per-channel multi-threshold on a stream (no MAC in front).

    Params: ``thresholds`` ``(C, n)`` int64 ascending, ``neg`` ``(C,)`` uint8 direction flags.
    """

    ATTRS = (
        Attr("shape", list, None, "per-image channels-last shape; the last axis is the channel"),
        Attr("in_type", str, None, "input stream type"),
        Attr("out_type", str, None, "output stream type"),
        Attr("num_thresholds", int, None, "thresholds per channel (n)"),
        Attr("out_bias", int, 0, "output value of code 0"),
        Attr("PE", int, 1, "channels processed per cycle"),
    )
    REQUIRED_PARAMS = ("thresholds", "neg")

    def __init__(self, name, inputs, output, params=None, **attrs):
        super().__init__(name, inputs, output, params, **attrs)
        channels = int(self.shape[-1])
        self.params.setdefault("neg", np.zeros(channels, dtype=np.uint8))
        if "thresholds" in self.params:
            check_thresholds(name, self.params["thresholds"], channels, self.num_thresholds)

    @property
    def channels(self) -> int:
        return int(self.shape[-1])

    def in_shapes(self) -> list:
        return [tuple(self.shape)]

    def out_shape(self) -> tuple:
        return tuple(self.shape)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_type)]

    def out_type(self) -> StreamType:
        return StreamType.parse(self.attrs["out_type"])

    def folding_space(self) -> dict:
        return {"PE": divisors(self.channels)}

    def check_folding(self) -> list:
        if self.channels % self.PE:
            return [f"{self.kind} {self.name!r}: channels ({self.channels}) % PE ({self.PE}) != 0"]
        return []

    def cycles(self) -> int:
        """Cycles per image: ``pixels * C / PE``."""
        return int(np.prod(self.shape)) // self.PE

    def threshold_bits(self) -> int:
        return signed_sum_bits(int(np.abs(self.params["thresholds"]).max(initial=1)))

    def resources(self, board=None) -> Resources:
        """``PE`` threshold lanes with their storage (:func:`threshold_unit`) + a flat streaming
        process's control (:func:`~pynq_bnn.compiler.cost.stream_control`)."""
        return (threshold_unit(self.num_thresholds, self.threshold_bits(), self.channels, self.PE)
                + stream_control(self.PE * self.out_type().bits))

    def reference(self, x: np.ndarray) -> np.ndarray:
        values = decode_values(x, self.in_types()[0])
        out = apply_thresholds(values, self.params["thresholds"], self.params["neg"],
                               self.out_bias)
        return out.astype(np.uint8) if self.out_type().kind == "BIPOLAR" else out

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import threshold_snippet

        return threshold_snippet(self)
