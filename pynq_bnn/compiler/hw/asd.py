# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""ASDDynamic: SD-BNN's dynamic activation self-distribution as a per-image threshold stage.

SD-BNN (Xue et al., 2022) shifts the sign input :math:`a` (a BN output) by a per-image,
per-channel squeeze-excitation term before binarizing:

.. math:: y = \operatorname{sign}\big(a + \sigma(W_2\,\operatorname{ReLU}(W_1\,
   \operatorname{GAP}(a)))\big).

The static variant :math:`a + \sigma(\beta_c)` folds into ordinary thresholds (no layer needed);
the dynamic one needs a whole-frame statistic before any output bit can be decided.

Integer form: ``a`` is a per-channel function of the integer accumulator ``x`` of the preceding
conv (BN, bias), given here as the exhaustive float32 table ``act_table[c, x - in_min]`` that the
lowering rule evaluates on the exported graph, so ``a`` matches the float model bit for bit. Per
image the stage

1. buffers the frame of ``x`` (ping-pong frame buffer) while accumulating
   ``GAP_c = mean_{h,w} a_c(x)`` (a sum of table entries);
2. runs the tiny MLP (``HIDDEN = C/16`` on CIFAR) to get ``s_c = σ(W_2 ReLU(W_1 GAP))``;
3. updates one threshold per channel, ``T_c = min{x : a_c(x) + s_c ≥ 0}`` (``a_c`` is monotone
   increasing for a positive BN scale; the reference compares ``a + s ≥ 0`` in float32 directly,
   which is the same decision), and streams the buffered frame through ``[x ≥ T_c]``.

What stays float: the statistic and the MLP. The reference evaluates them in float32 like torch,
but with a different summation order for the mean; the output bit can only differ where
``a + s`` is within a few float32 ulps of 0. This is the one place in the seed presets where
"bit-exact" means "identical up to float ties" (DESIGN.md: a float tolerance only where a float
genuinely remains).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, int_mac, layer_control, memory, threshold_compare
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.hw.frac_mvau import divisors

__all__ = ["ASDDynamic"]


class ASDDynamic(HWLayer, kind="ASDDynamic"):
    """Frame buffer + per-image SE statistic + threshold update; BIPOLAR output."""

    ATTRS = (
        Attr("SPATIAL", list, None, "leading dims [H, W] ([] for a vector: GAP is the identity)"),
        Attr("CH", int, None, "channels"),
        Attr("HIDDEN", int, None, "SE bottleneck width"),
        Attr("in_dtype", str, None, "accumulator stream type, e.g. INT12"),
        Attr("in_min", int, None, "input value of act_table column 0"),
        Attr("PE", int, 1, "channels per cycle (divides CH)"),
    )

    def _pixels(self) -> int:
        return int(np.prod(self.SPATIAL)) if self.SPATIAL else 1

    def in_shapes(self) -> list:
        return [tuple(self.SPATIAL) + (self.CH,)]

    def out_shape(self) -> tuple:
        return tuple(self.SPATIAL) + (self.CH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_dtype)]

    def out_type(self) -> StreamType:
        return StreamType("BIPOLAR", 1)

    def folding_space(self) -> dict:
        return {"PE": divisors(self.CH)}

    def check_folding(self) -> list:
        if self.PE < 1 or self.CH % self.PE:
            return [f"{self.name}: PE={self.PE} must divide CH={self.CH}"]
        return []

    def cycles(self) -> int:
        """Ping-pong frame buffer: writing one frame overlaps reading the previous one, so the
        initiation interval is ``H·W·C/PE`` plus the MLP (``2·C·HIDDEN/PE`` MACs) and the
        threshold update (``C/PE``)."""
        return (self._pixels() * self.CH + 2 * self.CH * self.HIDDEN + self.CH) // self.PE

    def resources(self, board) -> Resources:
        """Model (:mod:`pynq_bnn.compiler.cost`): two frame buffers of ``H·W·C`` input words,
        ``PE`` statistic accumulators (32 bit), the MLP on ``PE`` 16-bit MACs (DSPs), the
        activation table used by the statistic and the threshold search, one comparator per PE."""
        bits = self.in_types()[0].bits
        frame = memory(depth=self._pixels() * self.CH // self.PE, width=bits * self.PE, copies=2)
        table = np.asarray(self.params["act_table"]).shape[1]
        return (frame + accumulator(32, self.PE) + int_mac(1, self.PE, 16, 16)
                + memory(depth=self.CH * self.HIDDEN * 2 // self.PE, width=16, copies=self.PE)
                + memory(depth=self.CH // self.PE * table, width=32, copies=self.PE)
                + threshold_compare(1, bits, self.PE) + layer_control(self.PE))

    def _activations(self, x: np.ndarray) -> np.ndarray:
        table = np.asarray(self.params["act_table"], dtype=np.float32)
        idx = np.asarray(x, dtype=np.int64) - self.in_min
        if idx.min(initial=0) < 0 or idx.max(initial=0) >= table.shape[1]:
            raise ValueError(f"{self.name}: input outside the table range")
        return table[np.arange(self.CH), idx]

    def shifts(self, x: np.ndarray) -> np.ndarray:
        """Per-image SE shifts ``s`` (N, C) in float32."""
        n = np.asarray(x).shape[0]
        a = self._activations(np.asarray(x).reshape((n, -1, self.CH)))
        gap = a.astype(np.float64).mean(axis=1).astype(np.float32)
        w1 = np.asarray(self.params["w1"], dtype=np.float32)
        w2 = np.asarray(self.params["w2"], dtype=np.float32)
        hidden = np.maximum(gap @ w1.T, np.float32(0))
        z = (hidden @ w2.T).astype(np.float32)
        return (np.float32(1) / (np.float32(1) + np.exp(-z))).astype(np.float32)

    def thresholds(self, x: np.ndarray) -> np.ndarray:
        """The per-image integer thresholds ``T`` (N, C) the hardware computes (monotone ``a``)."""
        s = self.shifts(x)
        table = np.asarray(self.params["act_table"], dtype=np.float32)
        passed = (table[None] + s[:, :, None]).astype(np.float32) >= 0  # (N, C, R)
        first = np.argmax(passed, axis=2)
        never = self.in_min + table.shape[1]
        return np.where(passed.any(axis=2), self.in_min + first, never)

    def reference(self, x: np.ndarray) -> np.ndarray:
        n = np.asarray(x).shape[0]
        flat = np.asarray(x).reshape((n, -1, self.CH))
        a = self._activations(flat)
        s = self.shifts(x)
        bits = ((a + s[:, None, :]).astype(np.float32) >= 0).astype(np.int64)
        return bits.reshape((n,) + self.out_shape())

    def render_hls(self) -> HlsSnippet:
        raise NotImplementedError(
            "ASDDynamic.render_hls: templates/CONTRACT.md has no dynamic-ASD template yet "
            "(engineer D); the layer is verified with its numpy reference only")
