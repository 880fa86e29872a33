# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The small closed set of Brevitas quantizer recipes used by every pynq_bnn model.

Users never touch Brevitas' dependency injection: they pick one of these names.

* :class:`BinaryWeight` — weights ``w -> +1 if w >= 0 else -1`` (scale fixed to 1).
  Exports to QONNX ``BipolarQuant``; lowers to weight bits of an XNOR-popcount MVAU.
* :class:`BinaryAct` — activations ``a -> +1 if a >= 0 else -1`` with a clipped STE.
  Exports to ``BipolarQuant``; lowers (with the preceding BN) to one integer threshold.
* :class:`Uint8Input` — pixels ``x = p/255`` at the fixed scale 1/255 (compare-only input
  stages). Exports to ``Quant``.
* :class:`Uint8Pixels` — the integer pixels ``p`` at scale 1 (applied to ``255·x``), in front of
  an integer MAC. Exports to ``Mul(255) -> Quant``; lowers to the 8-bit input stream.
* :class:`Int8Weight` — signed 8-bit per-tensor weights (final FC layers that stay "wide").

Traps (see DESIGN.md): ``QuantIdentity(bit_width=1)`` is {-s, 0} in torch but exports as
``BipolarQuant`` (±s), and ``QuantConv2d(weight_bit_width=1)`` without a binary recipe gives NaN
weights. Always use the recipes below; ``tests/nn/test_brevitas_traps.py`` guards both.

Example:
    >>> import torch
    >>> from brevitas.nn import QuantIdentity
    >>> q = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)
    >>> q(torch.tensor([-0.3, 0.0, 2.0])).tolist()
    [-1.0, 1.0, 1.0]
"""
from brevitas.core.scaling import ScalingImplType
from brevitas.quant import (
    Int8WeightPerTensorFloat,
    SignedBinaryActPerTensorConst,
    SignedBinaryWeightPerTensorConst,
    Uint8ActPerTensorFloat,
)

__all__ = ["BinaryWeight", "BinaryAct", "Uint8Input", "Uint8Pixels", "Int8Weight"]


class BinaryWeight(SignedBinaryWeightPerTensorConst):
    """±1 weights, constant scale 1 (``BipolarQuant`` in QONNX).

    Brevitas' parent recipe has the constant scale 0.1; with it every product is a multiple of
    0.1f and float32 sums of them carry rounding noise, so torch, QONNX and the integer hardware
    could disagree near a threshold. With scale 1 every accumulator is an exact integer.
    """

    scaling_const = 1.0


class BinaryAct(SignedBinaryActPerTensorConst):
    """±1 activations, constant scale 1, clipped straight-through gradient."""


class Uint8Input(Uint8ActPerTensorFloat):
    """Unsigned 8-bit input with the fixed scale 1/255: ``x = p/255`` is quantized to ``p/255``.

    For compare-only input stages (thermometer, bit planes): a compare of ``p/255`` with a
    constant is exact. Never feed it into a MAC: float sums of ``p/255`` are inexact.
    """

    scaling_impl_type = ScalingImplType.CONST
    scaling_const = 1.0
    max_val = 1.0


class Uint8Pixels(Uint8ActPerTensorFloat):
    """Unsigned 8-bit integers 0..255 at the fixed scale 1: the pixels ``p`` themselves.

    Used on ``255·x`` (within float32 rounding of ``p``, rounded back to ``p`` exactly) in front
    of an integer MAC: with scale 1 every accumulator of the first conv is an exact integer, so
    torch, QONNX and the hardware agree on every BN+sign threshold.
    """

    scaling_impl_type = ScalingImplType.CONST
    scaling_const = 255.0
    max_val = 255.0


class Int8Weight(Int8WeightPerTensorFloat):
    """Signed 8-bit per-tensor weights with a learned float scale (final FC layers)."""
