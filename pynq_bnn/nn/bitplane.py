# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Bit-plane input stage (Vorabbi, Maltoni, Santi 2023, arXiv 2305.02885).

The first layer of a BNN works on the 8-bit pixels themselves: every pixel
:math:`p = \sum_{j=0}^{7} 2^j\, \beta_j(p)` is split into its bit planes
:math:`\beta_j(p) = \lfloor p / 2^j \rfloor \bmod 2`, mapped to ±1 (:math:`s_j = 2\beta_j - 1`).
Channel order is colour-major, least significant plane first: channel ``8c + j`` is plane ``j``
of colour ``c``.

:class:`BitPlaneStage` (integer-exact form of the paper's stage, all integer points):

1. planes :math:`s_{c,j} \in \{\pm1\}` (``8·C`` channels);
2. per-plane binary 3×3 conv, stride 1, zero padding 1, ``groups = 8·C``: each plane gets its own
   ``k = plane_channels`` ±1 kernels; accumulator :math:`a_{c,j,m} \in [-9, 9]` (integer);
3. BN + sign per channel -> :math:`u_{c,j,m} \in \{\pm1\}` (one integer threshold per channel);
4. re-weighting by bit significance and fusion per colour:
   :math:`v_{c,m} = \sum_j w_j\, u_{c,j,m}` with **integer** weights :math:`w_j` —
   ``"pow2"``: :math:`2^j` (1..128), ``"paper"``: the authors' prototype ``[1,1,2,2,4,4,8,8]``,
   ``"learnable"``: one real parameter per (fused channel, plane), initialised at :math:`2^j`,
   rounded to integers in the forward pass (Brevitas ``Quant``, straight-through gradient), so
   the deployed sum is still an integer; implemented as a 1×1 conv with ``groups = C`` whose
   structural zeros receive no gradient;
5. BN + sign per fused channel -> output ``C·k`` ±1 channels (colour-major: ``c·k + m``).

The paper's prototype applies PReLU before the re-weighting; a PReLU output is not an integer, so
this deployable form binarizes there instead (the integer-point rule of DESIGN.md).

Bit extraction is exported as float arithmetic that is exact by a margin of half a pixel step:
with :math:`x = p/255`, :math:`\beta_j = 1 \iff \operatorname{fmod}(x + \tfrac{0.5}{255},
\tfrac{2^{j+1}}{255}) - \tfrac{2^j}{255} \ge 0`, the left side being
:math:`\pm\ge\tfrac{0.5}{255}` away from 0 in exact arithmetic.

Exported QONNX pattern (details in ``docs/export_patterns.md``)::

    Quant(1/255, uint8) -> Gather(axis=1, [c repeated 8]) -> Add(0.5/255)
      -> Mod(fmod=1, D[1,8C,1,1] = 2^(j+1)/255) -> Sub(H[1,8C,1,1] = 2^j/255) -> BipolarQuant
      -> Conv(3x3, pad 1, group=8C, W = BipolarQuant(...)) -> BN -> BipolarQuant
      -> Conv(1x1, group=C, W = Quant(w_int, scale 1, 9 bit)) -> BN -> BipolarQuant

Hardware mapping: an input stage wiring out the bits of each uint8 pixel (no logic), a grouped
XNOR-popcount 3×3 unit (each plane only its own ``k`` kernels), one threshold per channel, a
shift-weighted adder per colour and one threshold per fused channel.

Example:
    >>> import torch
    >>> enc = BitPlaneEncoder(in_channels=1).eval()
    >>> planes = enc(torch.tensor([[[[5.0, 128.0]]]]) / 255.0)   # 5 = 0b101, 128 = 0b10000000
    >>> planes[0, :, 0, 0].tolist()
    [1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0]
"""
import torch
from brevitas.core.scaling import ScalingImplType
from brevitas.nn import QuantConv2d, QuantIdentity
from brevitas.quant import Int8WeightPerTensorFloat

from pynq_bnn.nn.layers import BinaryActivation, BinaryConv2d, Uint8InputQuant
from pynq_bnn.nn.recipes import BinaryAct

__all__ = ["BitPlaneEncoder", "BitPlaneStage", "PLANE_WEIGHTS", "PlaneWeightQuant",
           "bitplanes_reference"]

BITS = 8
PLANE_WEIGHTS = {
    "pow2": tuple(float(2 ** j) for j in range(BITS)),
    "paper": (1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 8.0, 8.0),
    "learnable": tuple(float(2 ** j) for j in range(BITS)),
}


def bitplanes_reference(pixels):
    """±1 bit planes of uint8 images ``(N, C, H, W)`` -> ``(N, 8·C, H, W)`` int8 (numpy oracle)."""
    import numpy as np

    pixels = np.asarray(pixels).astype(np.int64)
    planes = np.stack([(pixels >> j) & 1 for j in range(BITS)], axis=2)  # (N, C, 8, H, W)
    n, c, _, h, w = planes.shape
    return (planes.reshape(n, c * BITS, h, w) * 2 - 1).astype(np.int8)


class PlaneWeightQuant(Int8WeightPerTensorFloat):
    """Integer weights with the constant scale 1, 9 bits signed (``-256..255``; 2^7 fits).

    Exported as ``Quant(scale=1, zeropt=0, bits=9, signed=1, narrow=0)`` on the weight, which
    keeps the fusion conv's weights integers in QONNX (a plain constant-weight conv would get
    the following BatchNorm folded into it by the ONNX exporter).
    """

    bit_width = 9
    narrow_range = False
    scaling_impl_type = ScalingImplType.CONST
    scaling_const = 256.0


class BitPlaneEncoder(torch.nn.Module):
    """Pixels ``x = p/255`` -> ``8·in_channels`` ±1 bit planes (LSB first, colour-major)."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive int, got {in_channels!r}")
        self.in_channels = in_channels
        self.out_channels = BITS * in_channels
        self.input_quant = Uint8InputQuant()
        plane = torch.arange(BITS, dtype=torch.float64).repeat(in_channels)
        self.register_buffer("channel_index", torch.arange(in_channels).repeat_interleave(BITS),
                             persistent=False)
        self.register_buffer("period", (2.0 ** (plane + 1) / 255.0).float().view(1, -1, 1, 1),
                             persistent=False)
        self.register_buffer("half_period", (2.0 ** plane / 255.0).float().view(1, -1, 1, 1),
                             persistent=False)
        self.sign = QuantIdentity(act_quant=BinaryAct, return_quant_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = self.input_quant(x.detach())
        replicated = torch.index_select(pixels, 1, self.channel_index) + (0.5 / 255.0)
        return self.sign(torch.fmod(replicated, self.period) - self.half_period)


class BitPlaneStage(torch.nn.Module):
    """Bit planes -> per-plane binary conv -> BN/sign -> integer re-weighting -> BN/sign.

    Args:
        in_channels: colour channels ``C`` of the image.
        plane_channels: ``k``, binary kernels per plane; output has ``C·k`` channels (default 32:
            96 outputs like FracBNN's thermometer, ~7.1M binary MACs on 32×32 as in the paper).
        plane_weights: ``"pow2"`` (2^j), ``"paper"`` ([1,1,2,2,4,4,8,8]) or ``"learnable"``.
        act_grad: surrogate gradient of the two sign activations (``"ste"``/``"approx_sign"``).
    """

    def __init__(self, in_channels: int = 3, plane_channels: int = 32,
                 plane_weights: str = "pow2", act_grad: str = "ste"):
        super().__init__()
        if plane_weights not in PLANE_WEIGHTS:
            raise ValueError(f"plane_weights must be one of {sorted(PLANE_WEIGHTS)}, "
                             f"got {plane_weights!r}")
        if not isinstance(plane_channels, int) or plane_channels < 1:
            raise ValueError(f"plane_channels must be a positive int, got {plane_channels!r}")
        self.in_channels, self.plane_channels = in_channels, plane_channels
        self.plane_weights_kind = plane_weights
        self.out_channels = in_channels * plane_channels
        planes = BITS * in_channels
        self.encoder = BitPlaneEncoder(in_channels)
        self.plane_conv = BinaryConv2d(planes, planes * plane_channels, 3, padding=1,
                                       groups=planes)
        self.plane_bn = torch.nn.BatchNorm2d(planes * plane_channels)
        self.plane_act = BinaryActivation(act_grad)
        self.fuse_conv = QuantConv2d(planes * plane_channels, self.out_channels, 1,
                                     groups=in_channels, bias=False,
                                     weight_quant=PlaneWeightQuant, return_quant_tensor=False)
        mask = self.fusion_kernel(torch.ones(BITS)) != 0
        self.register_buffer("fusion_mask", mask, persistent=False)
        with torch.no_grad():
            init = torch.tensor(PLANE_WEIGHTS[plane_weights])
            self.fuse_conv.weight.copy_(self.fusion_kernel(init))
        if plane_weights == "learnable":
            # only the (c, m, j) diagonal entries are weights; the structural zeros stay zero.
            self.fuse_conv.weight.register_hook(lambda grad: grad * self.fusion_mask)
        else:
            self.fuse_conv.weight.requires_grad_(False)
        self.fuse_bn = torch.nn.BatchNorm2d(self.out_channels)
        self.fuse_act = BinaryActivation(act_grad)

    def fusion_kernel(self, plane_weights: torch.Tensor) -> torch.Tensor:
        """1×1 grouped-conv kernel ``(C·k, 8·k, 1, 1)``: ``K[c·k+m, j·k+m'] = w_j·[m = m']``."""
        k = self.plane_channels
        eye = torch.eye(k, dtype=plane_weights.dtype)
        per_colour = (plane_weights.view(BITS, 1, 1) * eye).permute(1, 0, 2)
        kernel = per_colour.reshape(k, BITS * k).repeat(self.in_channels, 1)
        return kernel.view(self.out_channels, BITS * k, 1, 1)

    def integer_plane_weights(self) -> torch.Tensor:
        """Deployed integer weights ``w[c·k + m, j]`` of each fused channel and plane."""
        kernel = self.fuse_conv.quant_weight().value.detach().view(self.out_channels, BITS, -1)
        return kernel.sum(dim=2)  # the only nonzero entry of each (channel, plane) row

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        planes = self.encoder(x)
        u = self.plane_act(self.plane_bn(self.plane_conv(planes)))
        return self.fuse_act(self.fuse_bn(self.fuse_conv(u)))

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, plane_channels={self.plane_channels}, "
                f"plane_weights={self.plane_weights_kind!r}")
