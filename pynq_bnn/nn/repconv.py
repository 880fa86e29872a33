# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""RepConv of RepBNN: channel repetition that widens feature maps for free.

A baseline binary conv maps :math:`C \to P` channels. With repetition factor :math:`\beta`
(2 by default) the feature maps are carried :math:`\beta\times` wider: the conv takes
:math:`\beta C` channels in and produces only :math:`P/\beta`, so its binary weights and its
XNOR-popcount work equal the baseline (:math:`\beta C \cdot P/\beta = C P`). Its output is tiled
:math:`\beta^2` times along channels,

.. math:: y_j = \operatorname{conv}(x)_{j \bmod (P/\beta)}, \qquad j = 0 \dots \beta P - 1,

and each of the :math:`\beta P` copies gets its own BatchNorm (bias, PReLU) before the sign, so
the copies binarize at different thresholds. A first layer whose input is not widened (the image)
keeps :math:`C \to P` and is tiled :math:`\beta` times. The final FC input is :math:`\beta\times`
wider (its weights grow). Tiling is channel-major (``torch.Tensor.repeat``): copy ``k`` occupies
channels ``[k·P/β, (k+1)·P/β)``.

Gradient: tiling is linear; the gradients of the copies add up in the shared accumulator.

Hardware mapping: one accumulator per conv output channel feeds :math:`\beta^2` thresholds
(BN + sign of each copy folded), i.e. the MVAU emits :math:`\beta^2` bits per accumulator and
activation streams are :math:`\beta\times` wider. Exports as ``Conv → Expand (all-ones shape,
a no-op) → Tile(repeats=[1, β², 1, 1]) → BatchNormalization → BipolarQuant``.

References:
    "Rep-ReCU/RepBNN: RepConv for binary neural networks" (2022); code:
    github.com/imfinethanks/Rep_AdamBNN.

Example:
    >>> import torch
    >>> ChannelTile(2)(torch.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 2.0, 1.0, 2.0]]
"""
from dataclasses import dataclass

import torch

__all__ = ["ChannelTile", "RepPlan", "rep_plan"]


class ChannelTile(torch.nn.Module):
    """Repeat the channel dimension (dim 1) ``copies`` times: ``y[:, j] = x[:, j % C]``."""

    def __init__(self, copies: int):
        super().__init__()
        if copies < 1:
            raise ValueError(f"copies must be >= 1, got {copies}")
        self.copies = int(copies)

    def forward(self, x):
        if self.copies == 1:
            return x
        return x.repeat(1, self.copies, *([1] * (x.dim() - 2)))

    def extra_repr(self):
        return f"copies={self.copies}"


@dataclass(frozen=True)
class RepPlan:
    """Channel counts of one repeated layer.

    Attributes:
        conv_in: channels the conv reads (``β·C`` for a widened input, ``C`` for the image).
        conv_out: channels the conv computes (``P/β``, or ``P`` for a non-widened input).
        copies: tiling factor (``β²``, or ``β`` for a non-widened input).
        out: channels after tiling (always ``β·P``).
    """

    conv_in: int
    conv_out: int
    copies: int

    @property
    def out(self) -> int:
        return self.conv_out * self.copies


def rep_plan(in_channels: int, out_channels: int, beta: int, *, widened_input: bool) -> RepPlan:
    """Plan a RepConv replacing a baseline ``in_channels → out_channels`` binary layer.

    Args:
        in_channels: baseline input channels ``C``.
        out_channels: baseline output channels ``P`` (must be divisible by ``beta``).
        beta: repetition factor (1 = baseline).
        widened_input: True when the input is already carried ``β×`` wider.
    """
    if beta < 1:
        raise ValueError(f"beta must be >= 1, got {beta}")
    if not widened_input:
        return RepPlan(in_channels, out_channels, beta)
    if out_channels % beta:
        raise ValueError(f"RepConv needs out_channels ({out_channels}) divisible by beta ({beta})")
    return RepPlan(in_channels * beta, out_channels // beta, beta * beta)
