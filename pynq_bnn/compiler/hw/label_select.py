# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LabelSelect: top-k class indices of the final integer scores (FINN LabelSelect).

Output: the ``k`` indices of the largest scores in decreasing order; equal scores keep the lower
index first, as ``torch.argmax`` / ``np.argsort(-x, kind="stable")`` do. This is exact with
respect to the float logits whenever the logits are one strictly increasing function of the
integer accumulators shared by all classes (e.g. a positive output scale), which the streamline
pass checks. Hardware: ``k`` sorted (score, index) registers updated by ``PE`` comparators.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import layer_control, popcount_bits
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType, \
    decode_values, divisors

__all__ = ["LabelSelect"]


class LabelSelect(HWLayer, kind="LabelSelect"):
    """``(labels,)`` integer scores -> ``(k,)`` class indices (``UINT8``, ``UINT16`` above 256)."""

    ATTRS = (
        Attr("labels", int, None, "number of classes"),
        Attr("k", int, 1, "indices emitted per image"),
        Attr("in_type", str, None, "score stream type"),
        Attr("PE", int, 1, "scores read per cycle"),
    )

    def __init__(self, name, inputs, output, params=None, **attrs):
        super().__init__(name, inputs, output, params, **attrs)
        if not 1 <= self.k <= self.labels:
            raise ValueError(f"LabelSelect {name!r}: need 1 <= k <= labels ({self.labels}), "
                             f"got k={self.k}")

    def in_shapes(self) -> list:
        return [(self.labels,)]

    def out_shape(self) -> tuple:
        return (self.k,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_type)]

    def out_type(self) -> StreamType:
        return StreamType("UINT", 8 if self.labels <= 256 else 16)

    def folding_space(self) -> dict:
        return {"PE": divisors(self.labels)}

    def check_folding(self) -> list:
        if self.labels % self.PE:
            return [f"LabelSelect {self.name!r}: labels ({self.labels}) % PE ({self.PE}) != 0"]
        return []

    def cycles(self) -> int:
        """Cycles per image: ``labels / PE`` (FINN)."""
        return self.labels // self.PE

    def resources(self, board=None) -> Resources:
        """``k`` (score, index) registers and ``PE*k`` comparators of the score width."""
        bits = self.in_types()[0].bits
        idx = popcount_bits(self.labels)
        regs = self.k * (bits + idx)
        return Resources(lut=self.PE * self.k * bits + regs, ff=regs) + layer_control(8)

    def reference(self, x: np.ndarray) -> np.ndarray:
        scores = decode_values(np.asarray(x).reshape(-1, self.labels), self.in_types()[0])
        order = np.argsort(-scores, axis=1, kind="stable")[:, : self.k]
        return order.astype(np.uint8 if self.labels <= 256 else np.uint16)

    def render_hls(self) -> HlsSnippet:
        from pynq_bnn.compiler.hw.hls_render import label_select_snippet

        return label_select_snippet(self)
