# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Thermometer input encoding of FracBNN (Zhang et al., FPGA 2021).

Each 8-bit pixel :math:`p \in \{0..255\}` (the model sees :math:`x = p/255`) becomes ``levels``
unary bits. With the resolution :math:`r` (FracBNN: 8) the level is

.. math:: L = \operatorname{round}(p / r) \in \{0, \dots, \text{levels}\},\qquad
          b_i = [\, i < L \,],\ i = 0..\text{levels}-1,\qquad s_i = 2 b_i - 1 \in \{\pm 1\}.

``round`` is half-to-even (``torch.round``, ``numpy.round``, ONNX ``Round``), applied to the exact
rational :math:`p/r` (for a power-of-two :math:`r` the float quotient is exact). Because
:math:`L` is non-decreasing in :math:`p`, every bit is one integer compare,
:math:`b_i = [p \ge t_i]` with :math:`t_i = \min\{p : \operatorname{round}(p/r) > i\}`; for
:math:`r = 8`: :math:`t = 5, 12, 21, 28, \dots, 244, 252` (``8k - 4`` for even ``k = i+1``,
``8k - 3`` for odd ``k``, because a tie :math:`p/8 = k - 1/2` rounds to the even neighbour).
:func:`thermometer_thresholds` computes them by enumerating all 256 pixels.

Channel order is colour-major: all ``levels`` bits of channel 0 (R), then channel 1 (G), then
channel 2 (B): output channel ``c·levels + i`` is bit ``i`` of input channel ``c``.
No gradient flows into the pixels (there is nothing to train upstream).

Exported QONNX pattern (see ``docs/export_patterns.md``)::

    global_in -> Quant(scale=1/255, zeropt=0, bits=8, signed=0)      # p/255, p = round(255 x)
              -> Gather(axis=1, indices=[0]*L + [1]*L + [2]*L)    # c -> c·L .. c·L+L-1
              -> Sub(offset[1, C·L, 1, 1]),  offset_i = (t_i - 1/2)/255
              -> BipolarQuant(scale=1)                                # +1 iff p >= t_i

The offsets sit half a pixel step below each integer threshold, so float32 rounding (error
~1e-7) can never flip a compare (margin 1/510). Hardware mapping: an input stage comparing each
uint8 pixel with ``levels`` integer constants (a one-threshold-per-channel ``Thresholding`` on the
channel-replicated pixel stream), feeding a pure XNOR-popcount first conv over ``C·levels``
binary channels.

Example:
    >>> import torch
    >>> enc = ThermometerEncoder(in_channels=1).eval()
    >>> p = torch.tensor([0.0, 4.0, 5.0, 12.0, 255.0]).view(1, 1, 1, 5)
    >>> y = enc(p / 255.0)
    >>> ((y + 1) / 2).sum(dim=1).flatten().tolist()     # the level L of each pixel
    [0.0, 0.0, 1.0, 2.0, 32.0]
"""
import numpy as np
import torch
from brevitas.nn import QuantIdentity

from pynq_bnn.nn.layers import Uint8InputQuant
from pynq_bnn.nn.recipes import BinaryAct

__all__ = ["ThermometerEncoder", "thermometer_levels", "thermometer_thresholds",
           "thermometer_bits_reference"]

PIXEL_VALUES = np.arange(256)


def _check_resolution(resolution: int) -> None:
    if not isinstance(resolution, int) or resolution < 1 or resolution > 128 or (
            resolution & (resolution - 1)):
        raise ValueError(
            f"thermometer resolution must be a power of two in 1..128 (FracBNN uses 8), "
            f"got {resolution!r}"
        )


def thermometer_levels(pixels: np.ndarray, resolution: int = 8) -> np.ndarray:
    """Level ``L = round_half_even(p / resolution)`` of integer pixels (numpy oracle)."""
    _check_resolution(resolution)
    return np.round(np.asarray(pixels, dtype=np.float64) / resolution).astype(np.int64)


def thermometer_thresholds(resolution: int = 8) -> np.ndarray:
    """Integer thresholds ``t_i`` with ``bit_i = [p >= t_i]``, ``i = 0..levels-1`` (int64).

    ``levels = round(255 / resolution)`` (32 for FracBNN's resolution 8): the highest level a
    pixel can reach, so no bit is constant.
    """
    levels_of_pixels = thermometer_levels(PIXEL_VALUES, resolution)
    n_levels = int(levels_of_pixels.max())
    return np.array([int(PIXEL_VALUES[levels_of_pixels > i].min()) for i in range(n_levels)],
                    dtype=np.int64)


def thermometer_bits_reference(pixels: np.ndarray, resolution: int = 8) -> np.ndarray:
    """±1 thermometer code of uint8 images ``(N, C, H, W)`` -> ``(N, C·levels, H, W)`` int8.

    Straight from the definition ``b_i = [i < L]`` (colour-major), independent of the module.
    """
    pixels = np.asarray(pixels)
    level = thermometer_levels(pixels, resolution)  # (N, C, H, W)
    n_levels = len(thermometer_thresholds(resolution))
    idx = np.arange(n_levels).reshape(1, 1, n_levels, 1, 1)
    bits = (idx < level[:, :, None]).astype(np.int8) * 2 - 1  # (N, C, levels, H, W)
    n, c, _, h, w = bits.shape
    return bits.reshape(n, c * n_levels, h, w)


class ThermometerEncoder(torch.nn.Module):
    """Pixels ``x = p/255`` -> ``in_channels·levels`` ±1 thermometer channels (no parameters).

    Args:
        in_channels: colour channels of the image (3 for CIFAR-10, 1 for MNIST).
        resolution: pixel step per level (a power of two; FracBNN: 8 -> 32 levels).

    Attributes:
        levels: bits per colour channel; ``out_channels = in_channels * levels``.
        thresholds: the integer thresholds ``t_i`` (numpy, documented in the export pattern).
    """

    def __init__(self, in_channels: int = 3, resolution: int = 8):
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive int, got {in_channels!r}")
        self.in_channels = in_channels
        self.resolution = resolution
        self.thresholds = thermometer_thresholds(resolution)
        self.levels = len(self.thresholds)
        self.out_channels = in_channels * self.levels
        self.input_quant = Uint8InputQuant()
        index = torch.arange(in_channels).repeat_interleave(self.levels)
        offsets = (torch.tensor(self.thresholds, dtype=torch.float64) - 0.5) / 255.0
        offsets = offsets.repeat(in_channels).to(torch.float32).view(1, -1, 1, 1)
        self.register_buffer("channel_index", index, persistent=False)
        self.register_buffer("offsets", offsets, persistent=False)
        self.sign = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = self.input_quant(x.detach())  # exactly p/255 with p = round(255 x)
        replicated = torch.index_select(pixels, 1, self.channel_index)
        return self.sign(replicated - self.offsets)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, resolution={self.resolution}, "
                f"levels={self.levels}")
