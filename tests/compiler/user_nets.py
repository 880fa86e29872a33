# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""User networks written with plain Brevitas layers (no pynq_bnn zoo classes, no ``config``).

They mirror the structure of networks users bring: Brevitas' bnn_pynq MLPs (``2x - 1`` input
mapping, a 1-bit or k-bit input quantizer, BN + quantized activations, a scalar TensorNorm head),
an 8-bit float-scale input, a Bi-Real-style residual ResNet and a ReActNet-style block. Untrained
weights with randomized BN statistics are enough for equivalence tests.
"""
from __future__ import annotations

import torch
from brevitas.core.bit_width import BitWidthImplType
from brevitas.core.quant import QuantType
from brevitas.core.restrict_val import FloatToIntImplType, RestrictValueType
from brevitas.core.scaling import ScalingImplType
from brevitas.core.zero_point import ZeroZeroPoint
from brevitas.inject import ExtendedInjector
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant import Int8ActPerTensorFloat, Int8WeightPerTensorFloat
from brevitas.quant.solver import ActQuantSolver, WeightQuantSolver
from dependencies import value
from torch import nn


class _ConstQuant(ExtendedInjector):
    """Constant-scale symmetric quantizer: 1 bit -> sign, k bits -> narrow signed integers."""

    bit_width_impl_type = BitWidthImplType.CONST
    scaling_impl_type = ScalingImplType.CONST
    restrict_scaling_type = RestrictValueType.FP
    zero_point_impl = ZeroZeroPoint
    float_to_int_impl_type = FloatToIntImplType.ROUND
    scaling_per_output_channel = False
    narrow_range = True
    signed = True

    @value
    def quant_type(bit_width):
        return QuantType.BINARY if bit_width == 1 else QuantType.INT


class ConstWeightQuant(_ConstQuant, WeightQuantSolver):
    scaling_const = 1.0


class ConstActQuant(_ConstQuant, ActQuantSolver):
    min_val = -1.0
    max_val = 1.0


class ScalarNorm(nn.Module):
    """One affine map for all classes (bnn_pynq's TensorNorm in eval mode)."""

    def __init__(self, weight: float = 0.75, bias: float = 0.1):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([weight]))
        self.bias = nn.Parameter(torch.tensor([bias]))

    def forward(self, x):
        return x * self.weight + self.bias


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random BN statistics and affine parameters (activations far from all-equal)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=gen) * 4 - 2)
                m.running_var.copy_(torch.rand(n, generator=gen) * 4 + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) * 2 - 0.5)
                m.bias.copy_(torch.rand(n, generator=gen) - 0.5)
    return model.eval()


class BnnPynqMLP(nn.Module):
    """bnn_pynq's FC structure: view, ``2x - 1``, input quant, (Linear, BN, act)*, Linear, norm."""

    def __init__(self, in_bits=1, weight_bits=1, act_bits=1, hidden=(64, 64), in_features=784,
                 classes=10):
        super().__init__()
        layers = [QuantIdentity(act_quant=ConstActQuant, bit_width=in_bits)]
        width = in_features
        for h in hidden:
            layers += [QuantLinear(width, h, bias=False, weight_quant=ConstWeightQuant,
                                   weight_bit_width=weight_bits),
                       nn.BatchNorm1d(h),
                       QuantIdentity(act_quant=ConstActQuant, bit_width=act_bits)]
            width = h
        layers += [QuantLinear(width, classes, bias=False, weight_quant=ConstWeightQuant,
                               weight_bit_width=weight_bits), ScalarNorm()]
        self.features = nn.ModuleList(layers)
        if weight_bits > 1:  # spread the float weights over the integer levels
            with torch.no_grad():
                for layer in layers:
                    if isinstance(layer, QuantLinear):
                        layer.weight.uniform_(-1.5, 1.5)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        x = 2.0 * x - torch.tensor([1.0])
        for layer in self.features:
            x = layer(x)
        return x


def binary_conv(cin, cout, k=3, stride=1):
    return QuantConv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False,
                       weight_quant=ConstWeightQuant, weight_bit_width=1)


class SignAct(nn.Module):
    """Sign of a scaled stream, optionally after a learnable per-channel shift (ReActNet RSign)."""

    def __init__(self, channels: int, shift: bool = False):
        super().__init__()
        self.shift = nn.Parameter(torch.randn(1, channels, 1, 1) * 0.3) if shift else None
        self.quant = QuantIdentity(act_quant=ConstActQuant, bit_width=1)

    def forward(self, x):
        return self.quant(x if self.shift is None else x + self.shift)


class RPReLU(nn.Module):
    """ReActNet's RPReLU: ``PReLU(x - gamma) + zeta`` per channel."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.randn(1, channels, 1, 1) * 0.2)
        self.zeta = nn.Parameter(torch.randn(1, channels, 1, 1) * 0.2)
        self.prelu = nn.PReLU(channels, init=0.25)

    def forward(self, x):
        return self.prelu(x - self.gamma) + self.zeta


def stream_quant(scale=None):
    """8-bit residual-stream quantizer: learned float scale, or a fixed power-of-two scale."""
    if scale is None:
        return QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=False)
    return QuantIdentity(act_quant=ConstActQuant, bit_width=8, max_val=127 * scale,
                         min_val=-127 * scale)


class BiRealBlock(nn.Module):
    """``out = q(act(q(BN(binconv(sign(x)))) + shortcut(x)))`` with an identity or a
    binary 1x1 stride-2 conv + BN shortcut (Bi-Real / ReActNet downsampling)."""

    def __init__(self, cin, cout, stride=1, shortcut="identity", rsign=False, rprelu=False,
                 scale=None):
        super().__init__()
        self.sign = SignAct(cin, shift=rsign)
        self.conv = binary_conv(cin, cout, 3, stride)
        self.bn = nn.BatchNorm2d(cout)
        self.act = RPReLU(cout) if rprelu else nn.Identity()
        if shortcut == "identity":
            assert cin == cout and stride == 1
            self.shortcut = nn.Identity()
        elif shortcut == "conv":
            self.shortcut = nn.Sequential(SignAct(cin), binary_conv(cin, cout, 1, stride),
                                          nn.BatchNorm2d(cout), stream_quant(scale))
        elif shortcut == "avgpool_dup":
            self.shortcut = nn.Sequential(nn.AvgPool2d(stride), _ChannelDup(cout // cin))
        elif shortcut == "avgpool_conv":
            self.shortcut = nn.Sequential(nn.AvgPool2d(stride), SignAct(cin),
                                          binary_conv(cin, cout, 1), nn.BatchNorm2d(cout),
                                          stream_quant(scale))
        self.branch_quant = stream_quant(scale)
        self.out_quant = stream_quant(scale)

    def forward(self, x):
        branch = self.branch_quant(self.bn(self.conv(self.sign(x))))
        return self.out_quant(self.act(branch + self.shortcut(x)))


class _ChannelDup(nn.Module):
    def __init__(self, times: int):
        super().__init__()
        self.times = times

    def forward(self, x):  # a Gather on the channel axis (qonnx's cleanup mis-renames a
        # Concat that lists one tensor twice)
        return x[:, torch.arange(x.shape[1]).repeat(self.times)]


class BiRealNet(nn.Module):
    """Input quant (8 bit) -> stem conv (8-bit weights) -> BN -> stream quant -> residual
    blocks -> global average pool -> 8-bit classifier."""

    def __init__(self, blocks=(("identity", 1), ("conv", 2)), width=8, scale=None,
                 rsign=False, rprelu=False, in_channels=3, classes=10):
        super().__init__()
        self.inp = QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=False)
        self.stem = QuantConv2d(in_channels, width, 3, padding=1, bias=False,
                                weight_quant=Int8WeightPerTensorFloat)
        self.stem_bn = nn.BatchNorm2d(width)
        self.stem_q = stream_quant(scale)
        body, c = [], width
        for shortcut, stride in blocks:
            cout = c if shortcut == "identity" else 2 * c
            body.append(BiRealBlock(c, cout, stride, shortcut, rsign, rprelu, scale))
            c = cout
        self.body = nn.Sequential(*body)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.pool_q = QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=False)
        self.fc = QuantLinear(c, classes, bias=False, weight_quant=Int8WeightPerTensorFloat)

    def forward(self, x):
        x = self.stem_q(self.stem_bn(self.stem(self.inp(x))))
        x = self.pool_q(self.pool(self.body(x)))
        return self.fc(torch.flatten(x, 1))


def calibrate(model: nn.Module, images, steps: int = 3, seed: int = 0) -> nn.Module:
    """Train-mode forward passes on real images: BN statistics of the data (plus a random
    affine, so activations split) and float-scale quantizer statistics; then eval mode."""
    from pynq_bnn.zoo import to_model_input

    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    with torch.no_grad():
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes
            m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.copy_((torch.rand(m.num_features, generator=gen) - 0.5) * 0.5)
        model.train()
        for _ in range(steps):
            model(to_model_input(images))
    return model.eval()
