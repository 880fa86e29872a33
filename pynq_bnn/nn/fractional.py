# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Fractional activations and the gated binary conv of FracBNN (Zhang et al., FPGA 2021).

**2-bit activation** (:class:`FracActivation`), with :math:`\Delta = 2/3`:

.. math:: q = \operatorname{round}\!\big((\operatorname{clamp}(x,-1,1)+1)/\Delta\big)\,\Delta - 1
          \in \{-1, -\tfrac13, \tfrac13, 1\} = \tfrac23 s_M + \tfrac13 s_L,\quad
          s_M, s_L \in\{\pm1\}.

The code ``round(1.5·clamp(x,-1,1) + 1.5) ∈ {0..3}`` is the ``FRAC2`` stream element of the
hardware (MSB plane = code >> 1, LSB plane = code & 1); ``round`` is half-to-even (ties at
``x = -2/3, 0, 2/3`` go to codes 0, 2, 2). Backward: clipped straight-through,
:math:`\partial q/\partial x = 1[|x| \le 1]`.

**Gated conv** (:class:`FracBinaryConv2d`, ±1 weights :math:`W`, integer accumulators):

.. math::
    acc_M = \mathrm{conv}(s_M, W),\quad acc_L = \mathrm{conv}(s_L, W),\quad
    out_{msb} = \tfrac23 acc_M,\quad m = [\,out_{msb} > \delta_c\,],\quad
    y = \tfrac13\,(2\,acc_M + m \cdot acc_L).

Where the gate is open (:math:`m = 1`) :math:`y = \mathrm{conv}(q, W)` exactly; where it is closed
only the MSB plane is computed (:math:`y = out_{msb}`), which is what the hardware skips.
:math:`\delta_c` is learnable per output channel (init ``-1``), in the units of
:math:`out_{msb}` (i.e. of ``conv(q, W)`` with ±1 weights); the gate-target loss
``gate_weight · ½ Σ_c (δ_c − g)²`` (FracBNN: ``1e-5``, ``g = 3``) pulls it up so that more outputs
skip the LSB conv. Zero padding: padded taps are 0 in both planes (they add nothing).

Backward (documented choice, all exact derivatives of the formula above except the two marked):

* :math:`\partial y / \partial acc_M = 2/3` everywhere (MSB path always on);
* :math:`\partial y / \partial acc_L = m/3`: **the LSB path passes gradient only where the gate is
  open** (sparse gradient, zero where the LSB conv is skipped);
* planes -> ``q`` (straight-through): :math:`\partial s_M/\partial q = \partial s_L/\partial q = 1`,
  so :math:`\partial L/\partial q = \mathrm{conv}^T(g\,(2 + m)/3)` — the full 2-bit conv
  gradient where the gate is open, the MSB-only one where it is closed;
* gate (straight-through): :math:`\partial m/\partial \delta_c = -1`, no gradient from the gate
  into :math:`out_{msb}`; so :math:`\partial L/\partial\delta_c = -\sum g \cdot acc_L/3` over the
  channel's outputs (plus the gate-target term);
* weights: Brevitas' binary-weight straight-through estimator, through both convs.

Exported QONNX pattern (``docs/export_patterns.md``)::

    q = Sub(Mul(Round(Add(Mul(Clip(x, -1, 1), 1.5), 1.5)), 2/3), 1)        # FracActivation
    s_M = BipolarQuant(q);  s_L = BipolarQuant(Sub(Mul(q, 3), Mul(s_M, 2)))
    acc_M = Conv(s_M, BipolarQuant(W));  acc_L = Conv(s_L, BipolarQuant(W))   # same W, pads
    m = Cast(Greater(Mul(acc_M, 2/3), delta[1,C,1,1]), float)
    y = Mul(Add(Mul(acc_M, 2), Mul(m, acc_L)), 1/3)

Hardware mapping: FracMVAU — two XNOR-popcount lanes over the FRAC2 planes, the gate compare
``acc_M > G_c`` with an integer ``G_c`` (the largest integer ``a`` with ``fl(a·(2/3)) <= δ_c``),
``acc = 2·acc_M + m·acc_L``; the ``1/3`` joins the next per-channel function (BN -> thresholds).

Example:
    >>> import torch
    >>> act = FracActivation()
    >>> act(torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.4, 0.9])).mul(3).round().tolist()
    [-3.0, -1.0, -1.0, 1.0, 1.0, 3.0]
"""
import torch
from brevitas.nn import QuantIdentity

from pynq_bnn.nn.binarizers import binary_sign
from pynq_bnn.nn.layers import BinaryConv2d
from pynq_bnn.nn.recipes import BinaryAct, BinaryWeight

__all__ = ["FracActivation", "FracBinaryConv2d", "frac_quantize",
           "frac_codes", "frac_planes", "gate_target_loss"]

STEP = 2.0 / 3.0


def frac_codes(x: torch.Tensor) -> torch.Tensor:
    """FRAC2 codes ``round(1.5·clamp(x,-1,1) + 1.5)`` in {0,1,2,3} (float tensor)."""
    return torch.round(torch.clamp(x, -1.0, 1.0) * 1.5 + 1.5)


def _frac_value(x: torch.Tensor) -> torch.Tensor:
    return frac_codes(x) * STEP - 1.0


class _FracQuantSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _frac_value(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


def frac_quantize(x: torch.Tensor) -> torch.Tensor:
    """2-bit FracBNN quantizer with the clipped straight-through gradient."""
    return _FracQuantSTE.apply(x)


class _SplitPlanes(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q):
        msb = binary_sign(q)
        return msb, binary_sign(3.0 * q - 2.0 * msb)

    @staticmethod
    def backward(ctx, grad_msb, grad_lsb):
        return grad_msb + grad_lsb


def frac_planes(q: torch.Tensor) -> tuple:
    """``(s_M, s_L)`` of ``q = (2/3)s_M + (1/3)s_L``; straight-through to ``q`` for both."""
    return _SplitPlanes.apply(q)


class _Gate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, out_msb, delta):
        return (out_msb > delta).to(out_msb.dtype)

    @staticmethod
    def backward(ctx, grad):
        return None, -grad.sum(dim=(0, 2, 3), keepdim=True)


def gate_target_loss(delta: torch.Tensor, target: float, weight: float) -> torch.Tensor:
    """FracBNN's gate-target regularizer ``weight · ½ Σ (δ − target)²``."""
    return weight * 0.5 * (delta - target).pow(2).sum()


def _exporting() -> bool:
    return bool(torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting()
                or torch.compiler.is_compiling() or torch.jit.is_tracing())


class FracActivation(torch.nn.Module):
    """FracBNN 2-bit activation ``q ∈ {-1, -1/3, 1/3, 1}`` (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return frac_quantize(x) if self.training else _frac_value(x)


class FracBinaryConv2d(BinaryConv2d):
    """Binary-weight conv over FracBNN 2-bit inputs with the per-channel LSB gate.

    Same positional signature as ``torch.nn.Conv2d`` (``bias=False``). The input must already be
    2-bit (the output of :class:`FracActivation`).

    Args:
        gate_init: initial :math:`\\delta_c` (FracBNN: ``-1``: every gate open at the start).
        gate_target: ``g`` of the gate-target loss (FracBNN: ``3``), units of ``(2/3)·acc_M``.
        gate_weight: weight of the gate-target loss (FracBNN: ``1e-5``).

    Attributes:
        delta: the learnable thresholds, shape ``(out_channels,)``.
        last_gate_counts: ``(skipped, total)`` output counts of the last forward pass (tensors).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=False, padding_mode="zeros", device=None, dtype=None, *,
                 gate_init: float = -1.0, gate_target: float = 3.0, gate_weight: float = 1e-5,
                 weight_quant=BinaryWeight, **kwargs):
        if padding_mode != "zeros":
            raise ValueError("FracBinaryConv2d supports zero padding only (padded taps add 0)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, weight_quant=weight_quant,
                         **kwargs)
        # 1-D so that "decay only dim > 1" optimizers leave it alone (decay would pull δ to 0)
        self.delta = torch.nn.Parameter(torch.full((out_channels,), float(gate_init)))
        self.gate_target, self.gate_weight = float(gate_target), float(gate_weight)
        self.msb_quant = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)
        self.lsb_quant = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)
        self.last_gate_counts = None

    def planes(self, q: torch.Tensor) -> tuple:
        """MSB/LSB ±1 planes of the 2-bit input (exported as two ``BipolarQuant``)."""
        if self.training:
            return frac_planes(q)
        msb = self.msb_quant(q)
        return msb, self.lsb_quant(q * 3.0 - msb * 2.0)

    def gate(self, out_msb: torch.Tensor) -> torch.Tensor:
        """The LSB mask ``[out_msb > δ_c]`` as 0/1 floats."""
        delta = self.delta.view(1, -1, 1, 1)
        if self.training:
            return _Gate.apply(out_msb, delta)
        return (out_msb > delta).to(out_msb.dtype)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        msb, lsb = self.planes(q)
        acc_msb = super().forward(msb)
        acc_lsb = super().forward(lsb)
        mask = self.gate(acc_msb * STEP)
        if not _exporting():
            self.last_gate_counts = ((mask == 0).sum().detach(), torch.tensor(mask.numel()))
        return (acc_msb * 2.0 + mask * acc_lsb) * (1.0 / 3.0)

    def gate_loss(self) -> torch.Tensor:
        """``gate_weight · ½ Σ_c (δ_c − gate_target)²``."""
        return gate_target_loss(self.delta, self.gate_target, self.gate_weight)

    def skip_fraction(self) -> float:
        """Fraction of outputs of the last forward pass whose LSB conv was skipped (gate closed)."""
        if self.last_gate_counts is None:
            raise RuntimeError("skip_fraction() needs a forward pass first")
        skipped, total = self.last_gate_counts
        return float(skipped) / max(int(total), 1)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", gate_target={self.gate_target}, "
                f"gate_weight={self.gate_weight}")
