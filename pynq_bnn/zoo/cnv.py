# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CNV: the BNN-PYNQ / FINN CIFAR-10 network, W1A1 with an 8-bit input layer.

Topology (valid 3×3 convs): 64-64-pool-128-128-pool-256-256 convs, FC 512-512-10.
Feature map sizes 32→30→28→14→12→10→5→3→1. Each conv/FC is binary weights + BN + sign; the first
conv sees the 8-bit pixels ``p`` (an integer MAC with ±1 weights); max-pooling follows the sign
(on ±1 values it is an OR). Hardware: sliding-window + MVAU per conv, thresholds from BN, max-pool,
MVAUs for the FCs, label select.
"""
import torch

from pynq_bnn.nn.layers import BinaryActivation, BinaryConv2d, BinaryLinear, OutputScale, Uint8InputQuant
from pynq_bnn.zoo.base import BNNModel

__all__ = ["CNV", "cnv"]

CNV_CONVS = ((64, False), (64, True), (128, False), (128, True), (256, False), (256, False))
CNV_FCS = (512, 512)


class CNV(BNNModel):
    input_shape = (3, 32, 32)

    def __init__(self, config: dict):
        super().__init__(config)
        grad = config["act_grad"]
        self.input_quant = Uint8InputQuant()
        layers, channels = [], 3
        for out_ch, pool in config["convs"]:
            layers += [BinaryConv2d(channels, out_ch, 3), torch.nn.BatchNorm2d(out_ch),
                       BinaryActivation(grad)]
            if pool:
                layers.append(torch.nn.MaxPool2d(2))
            channels = out_ch
        self.features = torch.nn.Sequential(*layers)
        fcs, width = [], channels
        for h in config["fcs"]:
            fcs += [BinaryLinear(width, h), torch.nn.BatchNorm1d(h), BinaryActivation(grad)]
            width = h
        self.fcs = torch.nn.Sequential(*fcs)
        self.classifier = BinaryLinear(width, self.num_classes)
        self.scale = OutputScale(0.1)

    def forward_impl(self, x):
        x = self.features(self.input_quant(x))
        x = self.fcs(torch.flatten(x, 1))
        return self.scale(self.classifier(x))


def cnv(*, convs=CNV_CONVS, fcs=CNV_FCS, act_grad: str = "ste") -> CNV:
    """Build CNV-W1A1 (8-bit input). Keyword-only; config stored on the model."""
    return CNV({"name": "cnv", "dataset": "cifar10", "convs": [list(c) for c in convs],
                "fcs": list(fcs), "act_grad": act_grad})
