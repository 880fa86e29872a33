# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""LAB: Learnable Activation Binarizer (Falkena, Jamali-Rad, van Gemert, WACV 2023).

LAB replaces ``sign`` as the input binarizer of a binary conv by a per-layer 3×3 depthwise conv
with two kernels :math:`K^0_c, K^1_c` and biases :math:`b^0_c, b^1_c` per channel, scaled by a
learnable per-layer :math:`\beta > 0`; the output is the argmax over each pair, mapped to ±1:

.. math:: z^k_c = \beta\,(K^k_c \circledast x_c + b^k_c), \qquad
   y_c = \begin{cases} +1 & z^1_c \ge z^0_c \\ -1 & \text{otherwise}\end{cases}
   = \operatorname{sign}(\Delta K_c \circledast x_c + \Delta b_c)

with :math:`\Delta K = K^1 - K^0`, :math:`\Delta b = b^1 - b^0` (ties go to +1 as in ``sign``).
Backward: the gradient of the soft-argmax difference
:math:`p_1 - p_0 = \tanh((z^1 - z^0)/2) = \tanh(\beta\,d/2)`, :math:`d = \Delta K
\circledast x + \Delta b`, i.e. :math:`\partial y/\partial d = \tfrac{\beta}{2}(1 - \tanh^2(\beta
d/2))`, which also trains :math:`\beta`.

Integer-point choice (what makes the decision exactly computable in hardware):

* LAB's input ``x`` is the previous layer's ±1 activation map (after its BN + sign and any
  max-pool), zero-padded by 1 (so border taps see 0): ``x ∈ {-1, 0, +1}``.
* :math:`\Delta K` is quantized to signed 8-bit integers at a power-of-two scale
  :math:`s = 2^{-f}` (Brevitas ``Int8WeightPerTensorFixedPoint``, straight-through):
  :math:`\Delta K = s\,K_{int}`. Then :math:`d = s\,A + \Delta b` with the integer accumulator
  :math:`A = K_{int} \circledast x` (exact in float32), and
  :math:`y = +1 \iff A \ge T_c = \lceil -\Delta b_c / s \rceil`: one integer threshold per
  channel. :math:`\Delta b` itself stays float; it only moves the threshold.

Hardware mapping: BIPOLAR stream → widen to INT2 (±1, zero padding) → sliding window 3×3 →
depthwise MAC with the int8 difference kernel (VVAU) → compare with ``T_c`` → BIPOLAR. It does
not fold into the previous layer's thresholds (the 3×3 spatial mix). Exports as
``Quant(const ΔK, scale=2^-f, zp=0, bits=8, narrow) → Conv(group=C, pads=1, no bias) →
Add(const Δb[1,C,1,1]) → BipolarQuant``.

Example:
    >>> import torch
    >>> lab = LearnableActivationBinarizer(4).eval()   # initialized to re-binarize x itself
    >>> x = torch.tensor([1.0, -1.0]).repeat(8)[:16].view(1, 4, 2, 2)
    >>> bool((lab(x) == x).all())
    True
"""
import math

import torch
import torch.nn.functional as F
from brevitas.nn import QuantConv2d, QuantIdentity
from brevitas.quant import Int8WeightPerTensorFixedPoint

from pynq_bnn.nn.binarizers import binary_sign
from pynq_bnn.nn.recipes import BinaryAct

__all__ = ["LabKernelQuant", "DifferenceKernelConv", "LearnableActivationBinarizer",
           "soft_argmax_sign"]


class LabKernelQuant(Int8WeightPerTensorFixedPoint):
    """Signed narrow 8-bit weights at a power-of-two scale (LAB difference kernel)."""


class _SoftArgmaxSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, d, beta):
        ctx.save_for_backward(d, beta)
        return binary_sign(d)

    @staticmethod
    def backward(ctx, grad_out):
        d, beta = ctx.saved_tensors
        t = torch.tanh(beta * d / 2)
        grad_d = grad_out * (beta / 2) * (1 - t * t)
        grad_beta = (grad_out * (d / 2) * (1 - t * t)).sum().reshape(beta.shape)
        return grad_d, grad_beta


def soft_argmax_sign(d: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``sign(d)`` forward, gradient of ``tanh(beta * d / 2)`` backward (w.r.t. d and beta)."""
    return _SoftArgmaxSign.apply(d, beta)


class DifferenceKernelConv(QuantConv2d):
    """Depthwise conv of the two LAB kernels' difference, quantized to int8 at scale 2^-f.

    ``weight``/``bias`` hold :math:`K^1, b^1`; ``weight_neg``/``bias_neg`` hold :math:`K^0, b^0`.
    Only :math:`\\Delta K` is quantized (and exported); :math:`\\Delta b` stays float.
    """

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__(channels, channels, kernel_size, padding=kernel_size // 2,
                         groups=channels, bias=True, weight_quant=LabKernelQuant,
                         return_quant_tensor=False)
        self.weight_neg = torch.nn.Parameter(torch.zeros_like(self.weight))
        self.bias_neg = torch.nn.Parameter(torch.zeros_like(self.bias))
        self._init_as_identity()

    def _init_as_identity(self):
        """Start as ``sign(x)``: ΔK = centre tap 1 plus small noise, Δb = 0."""
        k = self.kernel_size[0]
        with torch.no_grad():
            for param, centre in ((self.weight, 0.5), (self.weight_neg, -0.5)):
                param.normal_(0.0, 0.02 / math.sqrt(k * k))
                param[:, :, k // 2, k // 2] += centre
            self.bias.zero_()
            self.bias_neg.zero_()

    def difference_kernel(self) -> torch.Tensor:
        """Float :math:`\\Delta K = K^1 - K^0`, shape (C, 1, k, k)."""
        return self.weight - self.weight_neg

    def difference_bias(self) -> torch.Tensor:
        """Float :math:`\\Delta b = b^1 - b^0`, shape (C,)."""
        return self.bias - self.bias_neg

    def quant_weight(self, quant_input=None, subtensor_slice_list=None):
        if subtensor_slice_list is not None:
            raise NotImplementedError("LAB does not support sub-tensor quantization")
        return self.weight_quant(self.difference_kernel())

    def quantized_kernel(self) -> torch.Tensor:
        """The deployed kernel :math:`s K_{int}` as a float tensor."""
        w = self.quant_weight()
        return w.value if hasattr(w, "value") else w

    def kernel_scale(self) -> float:
        """The power-of-two scale ``s`` of the quantized difference kernel."""
        return float(self.quant_weight().scale)

    def forward(self, x):
        # Bias added after the conv: the integer-valued sum is exact in float32 in any order,
        # so exactly one rounding happens and sign(d) equals the exact integer compare.
        acc = F.conv2d(x, self.quantized_kernel(), None, padding=self.padding, groups=self.groups)
        return acc + self.difference_bias().view(1, -1, 1, 1)


class LearnableActivationBinarizer(torch.nn.Module):
    """LAB module: ``sign(ΔK ⊛ x + Δb)`` with the soft-argmax gradient.

    Args:
        channels: channels of the ±1 input map (N, C, H, W); the output has the same shape.
        kernel_size: depthwise kernel size (3 in the paper).
        beta_init: initial per-layer scale :math:`\\beta` (kept positive as ``exp(log_beta)``).
    """

    def __init__(self, channels: int, kernel_size: int = 3, beta_init: float = 1.0):
        super().__init__()
        if beta_init <= 0:
            raise ValueError(f"beta_init must be > 0, got {beta_init}")
        self.conv = DifferenceKernelConv(channels, kernel_size)
        self.log_beta = torch.nn.Parameter(torch.tensor(float(beta_init)).log())
        self.out_quant = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)

    @property
    def beta(self) -> torch.Tensor:
        return self.log_beta.exp()

    def forward(self, x):
        d = self.conv(x)
        if self.training:
            return soft_argmax_sign(d, self.beta)
        return self.out_quant(d)  # BipolarQuant in the exported graph; same values as above

    def integer_form(self):
        """Deployed integers: ``(K_int (C,1,k,k) int64, thresholds T (C,) int64, scale s)``.

        ``y_c = +1  iff  sum(K_int[c] * x_window) >= T[c]``.
        """
        with torch.no_grad():
            scale = self.conv.kernel_scale()
            k_int = torch.round(self.conv.quantized_kernel() / scale).to(torch.int64)
            thresholds = torch.ceil(-self.conv.difference_bias().double() / scale).to(torch.int64)
        return k_int, thresholds, scale
