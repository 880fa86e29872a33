# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""RPReLU and the learnable per-channel shift of ReActNet (Liu et al., ECCV 2020), used by FracBNN.

* :class:`RPReLU`: :math:`y_c = \operatorname{PReLU}_{a_c}(x_c - \gamma_c) + \zeta_c`, i.e.
  :math:`y = x - \gamma + \zeta` for :math:`x \ge \gamma` and :math:`a_c (x - \gamma) + \zeta`
  otherwise, with learnable per-channel :math:`\gamma_c, \zeta_c` (init 0) and slope
  :math:`a_c` (init 0.25).
* :class:`ChannelShift`: :math:`y_c = x_c + b_c` (ReActNet's "learnable bias", RSign's shift when
  placed before a binarizer; init 0).

Parameters are 1-D ``(C,)`` (the training loop decays only ``dim > 1`` weights). Both are
per-channel elementwise functions of one tensor, so between two integer points they are
free in hardware: with the preceding integer accumulator and the following quantizer they fold
into one per-channel table (thresholds when monotone, i.e. :math:`a_c \ge 0`; a lookup table
otherwise).

Exported ONNX pattern: ``Sub(x, gamma[1,C,1,1]) -> PRelu(slope[C,1,1]) -> Add(zeta[1,C,1,1])``;
``ChannelShift``: ``Add(x, b[1,C,1,1])``.

Example:
    >>> import torch
    >>> act = RPReLU(2)
    >>> act(torch.tensor([[-4.0, 4.0]]).view(1, 2, 1, 1)).flatten().tolist()
    [-1.0, 4.0]
"""
import torch

__all__ = ["RPReLU", "ChannelShift"]


def _check_channels(channels) -> None:
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")


class RPReLU(torch.nn.Module):
    """``PReLU(x - gamma) + zeta`` per channel on ``(N, C, ...)`` tensors.

    Args:
        channels: number of channels ``C`` (dimension 1).
        slope_init: initial negative-side slope ``a_c``.
    """

    def __init__(self, channels: int, slope_init: float = 0.25):
        super().__init__()
        _check_channels(channels)
        self.channels = channels
        self.gamma = torch.nn.Parameter(torch.zeros(channels))  # 1-D: not weight-decayed
        self.zeta = torch.nn.Parameter(torch.zeros(channels))
        self.prelu = torch.nn.PReLU(channels, init=slope_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, self.channels) + (1,) * (x.dim() - 2)
        return self.prelu(x - self.gamma.view(shape)) + self.zeta.view(shape)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


class ChannelShift(torch.nn.Module):
    """``x + b`` with a learnable per-channel ``b`` (init 0)."""

    def __init__(self, channels: int):
        super().__init__()
        _check_channels(channels)
        self.channels = channels
        self.bias = torch.nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias.view((1, self.channels) + (1,) * (x.dim() - 2))

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
