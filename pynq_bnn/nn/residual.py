# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Fixed-scale integer residual streams and FracBNN's parameter-free downsampling shortcut.

A BNN with shortcuts (FracBNN's ResNet-20-like CIFAR-10 net, after ReActNet/Bi-Real) carries a
real-valued residual stream. To keep it an integer point (DESIGN.md), it is quantized to a
**fixed power-of-two scale** :math:`s = 2^{e}` (default :math:`2^{-4}`), signed ``bits`` wide:

.. math:: Q_s(x) = s \cdot \operatorname{clamp}(\operatorname{round}(x / s),\ -2^{b-1},\ 2^{b-1}-1)

(``round`` half-to-even). Any two tensors on the grids :math:`2^{e_1}\mathbb{Z}` and
:math:`2^{e_2}\mathbb{Z}` add exactly in float32 (as long as the result needs < 24 significant
bits), so ``branch + shortcut`` in PyTorch equals the integer add of the hardware after a shift.

* :class:`ResidualQuant` — a Brevitas ``QuantIdentity`` with the constant scale :math:`2^e`.
  Exports to ``Quant(x, scale=2^e, zeropt=0, bitwidth=bits, signed=1, narrow=0, ROUND)``.
  Hardware: the integer point; with the per-channel chain before it, a multi-threshold
  (``2^bits − 1`` thresholds) or a lookup table producing ``INT<bits>``.
* :class:`DownsampleShortcut` — 2×2 average pool (stride 2) then channel duplication
  ``[x, x]`` (output channel ``c`` and ``c + C`` are equal). On an :math:`s`-grid input the
  2×2 average is exactly the integer 4-sum on the grid :math:`s/4` (no rounding). Exports to
  ``AveragePool(kernel 2, stride 2) -> Gather(axis=1, indices=[0..C-1, 0..C-1])`` (a channel
  gather like the input stages'; not ``Concat`` of one tensor twice, which qonnx's tensor
  renaming breaks, nor ``repeat``, which exports as ``Expand`` + ``Tile``); hardware: a 2×2
  sum pool writing each sum twice (``DownsampleShortcut`` HW layer, mode ``"tile"``).
* :class:`Int8WeightPow2` — signed 8-bit per-tensor weights whose learned scale is a power of two
  (``Int8WeightPerTensorFixedPoint``). With inputs on a power-of-two grid, every product and
  partial sum of a small dot product is exact in float32, so the logits are exactly
  ``2^k · (integer dot product)`` and their argmax is the integer argmax of the hardware.

Example:
    >>> import torch
    >>> rq = ResidualQuant(scale_exp=-4)
    >>> (rq(torch.tensor([0.03125, 0.09375, 100.0])) * 16).tolist()   # ties go to even
    [0.0, 2.0, 127.0]
"""
import torch
from brevitas.core.scaling import ScalingImplType
from brevitas.nn import QuantIdentity
from brevitas.quant import Int8ActPerTensorFloat, Int8WeightPerTensorFixedPoint

__all__ = ["ResidualQuant", "DownsampleShortcut", "Int8WeightPow2", "residual_quant_reference"]


class Int8WeightPow2(Int8WeightPerTensorFixedPoint):
    """Signed 8-bit weights, one learned power-of-two scale per tensor (exact float products)."""


def residual_quant_reference(x, scale_exp: int = -4, bits: int = 8):
    """Numpy oracle of :class:`ResidualQuant`: integer codes ``clamp(round(x·2^-e))``."""
    import numpy as np

    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 2.0 ** (-scale_exp)), lo, hi)


def _fixed_scale_quant(scale_exp: int, bits: int) -> type:
    threshold = float(2 ** (bits - 1)) * 2.0 ** scale_exp  # Brevitas: scale = threshold / 2^(b-1)
    return type(f"Int{bits}ActConstScale2pow{scale_exp}".replace("-", "m"),
                (Int8ActPerTensorFloat,),
                {"bit_width": bits, "scaling_impl_type": ScalingImplType.CONST,
                 "scaling_const": threshold, "min_val": -threshold, "max_val": threshold})


class ResidualQuant(QuantIdentity):
    """Quantize to the fixed grid ``2^scale_exp`` with ``bits``-bit signed saturation.

    Args:
        scale_exp: exponent ``e`` of the scale ``2^e`` (FracBNN preset: ``-4``).
        bits: signed bit width (default 8: codes ``-128..127``).
    """

    def __init__(self, scale_exp: int = -4, bits: int = 8):
        if not isinstance(scale_exp, int) or not -16 <= scale_exp <= 8:
            raise ValueError(f"scale_exp must be an int in -16..8, got {scale_exp!r}")
        if not isinstance(bits, int) or not 2 <= bits <= 16:
            raise ValueError(f"bits must be an int in 2..16, got {bits!r}")
        super().__init__(act_quant=_fixed_scale_quant(scale_exp, bits), return_quant_tensor=False)
        self.scale_exp, self.bits = scale_exp, bits

    @property
    def scale(self) -> float:
        """The constant scale ``2^scale_exp``."""
        return 2.0 ** self.scale_exp

    def extra_repr(self) -> str:
        return f"scale=2^{self.scale_exp}, bits={self.bits}"


class DownsampleShortcut(torch.nn.Module):
    """Parameter-free shortcut: 2×2 average pool, stride 2, then ``duplicate`` copies of channels.

    Args:
        duplicate: channel multiplier (2 when a ResNet stage doubles its width).
    """

    def __init__(self, duplicate: int = 2):
        super().__init__()
        if not isinstance(duplicate, int) or duplicate < 1:
            raise ValueError(f"duplicate must be a positive int, got {duplicate!r}")
        self.duplicate = duplicate
        self.pool = torch.nn.AvgPool2d(2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2 or x.shape[-2] % 2:
            raise ValueError(f"DownsampleShortcut needs even H and W, got {tuple(x.shape)}")
        pooled = self.pool(x)
        if self.duplicate == 1:
            return pooled
        index = torch.arange(x.shape[1], device=x.device).repeat(self.duplicate)
        return torch.index_select(pooled, 1, index)

    def extra_repr(self) -> str:
        return f"duplicate={self.duplicate}"
