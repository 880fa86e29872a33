# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Drop-in binary layers with ``torch.nn`` signatures (thin Brevitas subclasses).

* :class:`BinaryConv2d` / :class:`BinaryLinear` — ±1 weights (``BinaryWeight`` recipe), no bias by
  default. Hardware: the weight bits of an XNOR-popcount MVAU; ``acc = 2·popcount(xnor) − K``.
* :class:`BinaryActivation` — ±1 activations with a selectable surrogate gradient
  (``"ste"`` or ``"approx_sign"``, see :mod:`pynq_bnn.nn.binarizers`). Exports to QONNX
  ``BipolarQuant``; with the preceding BN it lowers to one integer threshold per channel.
* :class:`PixelInputQuant` — the 8-bit pixel input of FINN's CNV: ``x = p/255 -> p`` (integers
  0..255 at scale 1, so the first conv is an exact integer MAC).
* :class:`Uint8InputQuant` — ``x = p/255`` kept at scale 1/255, for compare-only input stages.
* :class:`OutputScale` — one positive learnable scalar on the logits: keeps ``argmax`` equal to
  the argmax of the integer accumulators, so the label-select stage is exact.

Quantizer arguments: every layer accepts Brevitas' ``weight_quant=`` / ``act_quant=`` keywords;
the defaults are the recipes of :mod:`pynq_bnn.nn.recipes`.
"""
import torch
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear

from pynq_bnn.nn.binarizers import get_binarizer
from pynq_bnn.nn.recipes import BinaryAct, BinaryWeight, Uint8Input, Uint8Pixels

__all__ = [
    "BinaryConv2d",
    "BinaryLinear",
    "BinaryActivation",
    "Uint8InputQuant",
    "PixelInputQuant",
    "OutputScale",
]


class BinaryConv2d(QuantConv2d):
    """``torch.nn.Conv2d`` with ±1 weights; same positional signature, ``bias=False`` default."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=False, padding_mode="zeros", device=None, dtype=None, *,
                 weight_quant=BinaryWeight, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode,
                         device=device, dtype=dtype, weight_quant=weight_quant,
                         return_quant_tensor=False, **kwargs)


class BinaryLinear(QuantLinear):
    """``torch.nn.Linear`` with ±1 weights; same positional signature, ``bias=False`` default."""

    def __init__(self, in_features, out_features, bias=False, device=None, dtype=None, *,
                 weight_quant=BinaryWeight, **kwargs):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype,
                         weight_quant=weight_quant, return_quant_tensor=False, **kwargs)


class BinaryActivation(torch.nn.Module):
    """±1 activation (``sign`` with ``sign(0)=+1``) and a chosen surrogate gradient.

    In training mode the input first passes through the value-preserving gradient shaper of the
    chosen binarizer; the Brevitas ``BinaryAct`` quantizer then produces the exported value. In
    eval/export only the quantizer runs, so the graph holds a plain ``BipolarQuant``.

    Args:
        grad: ``"ste"`` (clipped STE) or ``"approx_sign"`` (Bi-Real ApproxSign).
    """

    def __init__(self, grad: str = "ste"):
        super().__init__()
        self.grad = grad
        self._binarizer = get_binarizer(grad)
        self.quant = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)

    def forward(self, x):
        if self.training and self.grad != "ste":
            # value of quant(x) is sign(x); route the gradient through the surrogate only.
            surrogate = self._binarizer(x)
            x = x.detach() + (surrogate - surrogate.detach())
        return self.quant(x)

    def extra_repr(self):
        return f"grad={self.grad!r}"


class Uint8InputQuant(QuantIdentity):
    """8-bit unsigned input quantizer ``x = p/255 -> p/255`` (scale 1/255) for compare-only stages
    (thermometer, bit planes), whose compares with constants are exact."""

    def __init__(self):
        super().__init__(act_quant=Uint8Input, return_quant_tensor=False)


class PixelInputQuant(QuantIdentity):
    """The 8-bit pixel input of FINN's CNV as integers: ``x = p/255 -> p`` (scale 1).

    ``255·x`` is within float32 rounding of ``p``; the scale-1 quantizer rounds it to ``p``
    exactly, so the first conv is an exact integer MAC. Exports as ``Mul(255) -> Quant``.
    """

    def __init__(self):
        super().__init__(act_quant=Uint8Pixels, return_quant_tensor=False)

    def forward(self, x):
        return super().forward(x * 255.0)


class OutputScale(torch.nn.Module):
    """Multiply logits by ``exp(log_scale)`` (a positive scalar): argmax is unchanged."""

    def __init__(self, init: float = 1.0):
        super().__init__()
        self.log_scale = torch.nn.Parameter(torch.tensor(float(init)).log())

    def forward(self, x):
        return x * self.log_scale.exp()
