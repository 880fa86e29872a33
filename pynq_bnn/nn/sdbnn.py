# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""SD-BNN: weight and activation self-distribution (Xue et al., 2022).

Weight self-distribution (WSD), per output channel :math:`o` with a learnable :math:`\alpha_o`:

.. math:: W'_o = W_o + \sigma(\alpha_o)\cdot 0.01\cdot\operatorname{mean}(W_o),
   \qquad W^b_o = \operatorname{sign}(W'_o)

Activation self-distribution (ASD), a shift of the sign input :math:`a` (the BN output):

* static: :math:`a'_c = a_c + \sigma(\beta_c)` (learnable :math:`\beta_c` per channel);
* dynamic: :math:`a' = a + \operatorname{SE}(a)` with
  :math:`\operatorname{SE}(a) = \sigma(W_2\,\operatorname{ReLU}(W_1\,\operatorname{GAP}(a)))`,
  two bias-free linear layers with reduction 16 (CIFAR), one shift per channel and image.

Gradients: WSD passes the binary weight's straight-through gradient to :math:`W` and
:math:`\alpha`; ASD is differentiable and the following sign uses its usual surrogate.

Hardware mapping:

* WSD is free: export folds the shift into the weight constant, the graph holds only
  ``BipolarQuant(const)`` weights (±1 bits of an XNOR-popcount MVAU).
* ASD static exports as ``Add(BN_out, const[1,C,1,1])`` before ``BipolarQuant``; BN + Add + sign
  fold into one integer threshold per channel (a threshold shift).
* ASD dynamic needs a whole-frame statistic per layer (GAP over the frame, then a tiny FP MLP):
  a frame buffer plus a per-image threshold update. Exports as
  ``GlobalAveragePool``/``ReduceMean → MatMul → Relu → MatMul → Sigmoid → Add``; the pynq_bnn
  compiler does not lower it (``check_deployable`` reports it). Training-only for now.

References:
    Xue et al., "Self-Distribution Binary Neural Networks", Applied Intelligence 2022;
    code: github.com/pingxue-hfut/SD-BNN.

Example:
    >>> import torch
    >>> asd = ASDStatic(2)
    >>> asd(torch.zeros(1, 2, 1, 1)).flatten().tolist()  # sigmoid(0) = 0.5
    [0.5, 0.5]
"""
import torch

from pynq_bnn.nn.layers import BinaryConv2d, BinaryLinear

__all__ = ["wsd_shift", "WSDConv2d", "WSDLinear", "ASDStatic", "ASDDynamic", "make_asd",
           "ASD_KINDS"]

WSD_GAIN = 0.01
ASD_KINDS = ("none", "static", "dynamic")


def wsd_shift(weight: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Return ``W + sigmoid(alpha_o) * 0.01 * mean(W_o)`` (mean over all but dim 0)."""
    if alpha.shape != weight.shape[:1]:
        raise ValueError(f"alpha must have shape ({weight.shape[0]},), got {tuple(alpha.shape)}")
    reduce_dims = tuple(range(1, weight.dim()))
    shift = torch.sigmoid(alpha) * WSD_GAIN * weight.mean(dim=reduce_dims)
    return weight + shift.view(-1, *([1] * (weight.dim() - 1)))


class _WSDMixin:
    """Quantize the self-distributed latent weight instead of the raw one."""

    def _init_wsd(self):
        self.wsd_alpha = torch.nn.Parameter(torch.zeros(self.weight.shape[0]))

    def quant_weight(self, quant_input=None, subtensor_slice_list=None):
        if subtensor_slice_list is not None:
            raise NotImplementedError("WSD layers do not support sub-tensor quantization")
        return self.weight_quant(wsd_shift(self.weight, self.wsd_alpha))


class WSDConv2d(_WSDMixin, BinaryConv2d):
    """:class:`~pynq_bnn.nn.layers.BinaryConv2d` with SD-BNN weight self-distribution.

    Same signature as ``torch.nn.Conv2d``; adds the per-output-channel parameter ``wsd_alpha``
    (initialized to 0, i.e. a shift of ``0.005·mean(W_o)``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_wsd()


class WSDLinear(_WSDMixin, BinaryLinear):
    """:class:`~pynq_bnn.nn.layers.BinaryLinear` with SD-BNN weight self-distribution."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_wsd()


class ASDStatic(torch.nn.Module):
    """Static activation self-distribution ``a + sigmoid(beta_c)`` (folds into thresholds)."""

    def __init__(self, channels: int):
        super().__init__()
        self.beta = torch.nn.Parameter(torch.zeros(channels))

    def forward(self, a):
        shape = (1, -1) + (1,) * (a.dim() - 2)
        return a + torch.sigmoid(self.beta).view(shape)

    def extra_repr(self):
        return f"channels={self.beta.numel()}"


class ASDDynamic(torch.nn.Module):
    """Dynamic activation self-distribution ``a + SE(a)`` (per image and channel).

    Args:
        channels: number of channels ``C`` of ``a`` (N, C, H, W) or (N, C).
        reduction: SE bottleneck ratio; the hidden width is ``max(1, C // reduction)``.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.squeeze = torch.nn.Linear(channels, hidden, bias=False)
        self.excite = torch.nn.Linear(hidden, channels, bias=False)

    def se(self, a: torch.Tensor) -> torch.Tensor:
        """The per-image, per-channel shift ``sigmoid(W2 relu(W1 GAP(a)))``, shape (N, C)."""
        pooled = a.mean(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a
        return torch.sigmoid(self.excite(torch.relu(self.squeeze(pooled))))

    def forward(self, a):
        shift = self.se(a)
        return a + shift.view(shift.shape + (1,) * (a.dim() - 2))


def make_asd(kind: str, channels: int) -> torch.nn.Module:
    """``torch.nn.Identity`` for ``"none"``, else :class:`ASDStatic` / :class:`ASDDynamic`."""
    if kind == "none":
        return torch.nn.Identity()
    if kind == "static":
        return ASDStatic(channels)
    if kind == "dynamic":
        return ASDDynamic(channels)
    raise ValueError(f"unknown ASD kind {kind!r}; choose one of {ASD_KINDS}")
