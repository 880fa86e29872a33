# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""FracBNN for CIFAR-10 (Zhang et al., FPGA 2021): a ResNet-20-like net, integer-exact.

Topology (defaults)::

    x = p/255 -> thermometer (96 ±1 ch) -> binary 3×3 conv 96->16 (pure XNOR-popcount) -> BN -> Q
    3 stages × 3 blocks at 16/32/64 channels (stride 2 entering stages 2 and 3), each block two
    units  r -> Q( RPReLU( Q(BN(FracConv(frac(r + b)))) + shortcut(r) ) )
    -> global average pool -> Q -> FC 64->10 (int8 weights, power-of-two scale) = logits

``Q`` is the residual-stream quantizer (:class:`~pynq_bnn.nn.residual.ResidualQuant`, int8 at the
fixed scale ``2^-4``), ``frac`` the 2-bit FracBNN activation, ``FracConv`` the gated fractional
binary conv (:mod:`pynq_bnn.nn.fractional`), ``b`` a learnable per-channel shift (ReActNet RSign),
``shortcut`` the identity or, when the stage changes, the parameter-free 2×2 average pool +
channel duplication. 1 + 18 convs + 1 FC = "ResNet-20".

Every tensor between two integer points is a per-channel function of one integer tensor, adds
happen on power-of-two grids (the int8 branch at ``2^-4`` plus the pooled shortcut at ``2^-6``),
the global pool is re-quantized to int8 and the FC weights have a power-of-two scale, so the
logits are exactly ``2^k ·`` an integer dot product (exact in float32): the compiled accelerator's
argmax equals the model's for every image.

Options (keyword-only): ``widths``, ``blocks`` (per stage), ``convs_per_block`` (2 = ResNet-20),
``input_stage`` (``"thermometer"``/``"bitplane"``/``"uint8"``), ``input_options`` (passed to
:func:`~pynq_bnn.nn.input_stage.build_input_stage`), ``act`` (``"frac"`` 2-bit gated or
``"binary"`` W1A1), ``act_grad`` (binary sign gradient), ``gate_target`` ``g`` (FracBNN: 3, in the
units of ``out_msb = (2/3)·acc_M`` of ±1-weight convs), ``gate_init`` (-1), ``gate_weight``
(1e-5), ``residual_scale_exp`` (-4), ``residual_bits`` (8).

Hardware: input stage -> FracMVAU (BIPOLAR) -> thresholds/int8; per unit: fork, FRAC2 thresholds,
FracMVAU with gate, int8 requantize, shortcut FIFO (or sum-pool + duplicate), add, requantize;
global sum pool, requantize, int8 MVAU, label select.
"""
import torch
from brevitas.nn import QuantLinear

from pynq_bnn.nn.fractional import FracActivation, FracBinaryConv2d
from pynq_bnn.nn.input_stage import build_input_stage
from pynq_bnn.nn.layers import BinaryActivation, BinaryConv2d
from pynq_bnn.nn.residual import DownsampleShortcut, Int8WeightPow2, ResidualQuant
from pynq_bnn.nn.rprelu import ChannelShift, RPReLU
from pynq_bnn.zoo.base import BNNModel
from pynq_bnn.zoo.registry import register

__all__ = ["FracBNN", "FracUnit", "fracbnn"]

ACTS = ("frac", "binary")


class FracUnit(torch.nn.Module):
    """One residual unit: ``r -> Q(RPReLU(Q(BN(conv(act(r + b)))) + shortcut(r)))``."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, config: dict):
        super().__init__()
        quant = dict(scale_exp=config["residual_scale_exp"], bits=config["residual_bits"])
        self.shift = ChannelShift(in_ch)
        if config["act"] == "frac":
            self.act = FracActivation()
            self.conv = FracBinaryConv2d(in_ch, out_ch, 3, stride, 1,
                                         gate_init=config["gate_init"],
                                         gate_target=config["gate_target"],
                                         gate_weight=config["gate_weight"])
        else:
            self.act = BinaryActivation(config["act_grad"])
            self.conv = BinaryConv2d(in_ch, out_ch, 3, stride, 1)
        self.bn = torch.nn.BatchNorm2d(out_ch)
        self.branch_quant = ResidualQuant(**quant)
        if stride == 1 and in_ch == out_ch:
            self.shortcut = torch.nn.Identity()
        elif stride == 2 and out_ch % in_ch == 0:
            self.shortcut = DownsampleShortcut(out_ch // in_ch)
        else:
            raise ValueError(f"unsupported unit {in_ch}->{out_ch} stride {stride}: widths must "
                             "stay equal within a stage and grow by an integer factor between")
        self.rprelu = RPReLU(out_ch)
        self.out_quant = ResidualQuant(**quant)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        branch = self.branch_quant(self.bn(self.conv(self.act(self.shift(r)))))
        return self.out_quant(self.rprelu(branch + self.shortcut(r)))


class FracBNN(BNNModel):
    """FracBNN ResNet-20-like CIFAR-10 model (see the module docstring)."""

    input_shape = (3, 32, 32)

    def __init__(self, config: dict):
        super().__init__(config)
        quant = dict(scale_exp=config["residual_scale_exp"], bits=config["residual_bits"])
        stage, stage_ch, _ = build_input_stage(config["input_stage"], in_channels=3,
                                               **config["input_options"])
        widths = config["widths"]
        self.input_stage = stage
        self.stem = torch.nn.Sequential(
            BinaryConv2d(stage_ch, widths[0], 3, padding=1), torch.nn.BatchNorm2d(widths[0]),
            ResidualQuant(**quant))
        units, channels = [], widths[0]
        for index, (width, n_blocks) in enumerate(zip(widths, config["blocks"])):
            for block in range(n_blocks):
                for unit in range(config["convs_per_block"]):
                    first = index > 0 and block == 0 and unit == 0
                    units.append(FracUnit(channels, width, 2 if first else 1, config))
                    channels = width
        self.units = torch.nn.Sequential(*units)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.pool_quant = ResidualQuant(**quant)
        self.classifier = QuantLinear(channels, self.num_classes, bias=False,
                                      weight_quant=Int8WeightPow2, return_quant_tensor=False)

    def forward_impl(self, x):
        r = self.units(self.stem(self.input_stage(x)))
        return self.classifier(torch.flatten(self.pool_quant(self.pool(r)), 1))

    def frac_convs(self) -> list:
        """All gated fractional convs (empty with ``act="binary"``)."""
        return [m for m in self.modules() if isinstance(m, FracBinaryConv2d)]

    def regularization_loss(self) -> torch.Tensor:
        """Sum of the gate-target losses ``1e-5·½Σ(δ−g)²`` of every fractional conv."""
        losses = [conv.gate_loss() for conv in self.frac_convs()]
        return torch.stack(losses).sum() if losses else torch.zeros(())

    def gate_skip_fraction(self) -> float:
        """Fraction of all fractional-conv outputs of the last forward pass that skipped the
        LSB conv (FracBNN's sparsity; W/A ≈ 1/(2 − skip))."""
        counts = [conv.last_gate_counts for conv in self.frac_convs()]
        if not counts or any(c is None for c in counts):
            raise RuntimeError(
                "gate_skip_fraction() needs a forward pass of a model with act='frac'")
        return float(sum(int(s) for s, _ in counts)) / float(sum(int(t) for _, t in counts))


def fracbnn(*, widths=(16, 32, 64), blocks=(3, 3, 3), convs_per_block: int = 2,
            input_stage: str = "thermometer", input_options=None, act: str = "frac",
            act_grad: str = "ste", gate_target: float = 3.0, gate_init: float = -1.0,
            gate_weight: float = 1e-5, residual_scale_exp: int = -4,
            residual_bits: int = 8) -> FracBNN:
    """Build the FracBNN CIFAR-10 preset (keyword-only; the config is stored on the model)."""
    widths, blocks = [int(w) for w in widths], [int(b) for b in blocks]
    if len(widths) != len(blocks) or not widths or min(widths + blocks) < 1:
        raise ValueError(f"widths {widths} and blocks {blocks} must be non-empty, positive and "
                         "of equal length (one entry per stage)")
    if act not in ACTS:
        raise ValueError(f"act must be one of {ACTS}, got {act!r}")
    if not isinstance(convs_per_block, int) or convs_per_block < 1:
        raise ValueError(f"convs_per_block must be a positive int, got {convs_per_block!r}")
    return FracBNN({"name": "fracbnn", "dataset": "cifar10", "widths": widths, "blocks": blocks,
                    "convs_per_block": convs_per_block, "input_stage": input_stage,
                    "input_options": dict(input_options or {}), "act": act,
                    "act_grad": act_grad, "gate_target": float(gate_target),
                    "gate_init": float(gate_init), "gate_weight": float(gate_weight),
                    "residual_scale_exp": int(residual_scale_exp),
                    "residual_bits": int(residual_bits)})


# Built for Ultra96-V2 by default, the FracBNN paper's own board: with every FIFO and window
# buffer counted (calibrated area model), its one-image shortcut FIFOs and whole-frame window
# buffers need more block RAM than a Pynq-Z2 offers under the 80 % cap at any folding.
register("fracbnn", fracbnn, dataset="cifar10",
         description="FracBNN ResNet-20-like, thermometer input, 2-bit gated activations",
         board="ultra96-v2")
