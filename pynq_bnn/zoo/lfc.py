# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LFC: the BNN-PYNQ / FINN fully-connected MNIST network, W1A1 (784-1024-1024-1024-10).

Input pixels are binarized as ``sign(p/255 - 0.5)`` (``p >= 128 -> +1``), each hidden layer is a
binary linear layer + BatchNorm + sign, the last layer's integer accumulators times one positive
scalar are the logits. Hardware: four XNOR-popcount MVAUs, BN+sign folded into thresholds, the
last one feeding a label-select (argmax) stage.
"""
import torch

from pynq_bnn.nn.layers import BinaryActivation, BinaryLinear, OutputScale
from pynq_bnn.zoo.base import BNNModel

__all__ = ["LFC", "lfc"]


class LFC(BNNModel):
    input_shape = (1, 28, 28)

    def __init__(self, config: dict):
        super().__init__(config)
        hidden, dropout, grad = config["hidden"], config["dropout"], config["act_grad"]
        self.input_act = BinaryActivation(grad)
        layers = []
        width = 28 * 28
        for h in hidden:
            layers += [
                torch.nn.Dropout(dropout),
                BinaryLinear(width, h),
                torch.nn.BatchNorm1d(h),
                BinaryActivation(grad),
            ]
            width = h
        self.features = torch.nn.Sequential(*layers)
        self.classifier = BinaryLinear(width, self.num_classes)
        self.scale = OutputScale(width ** -0.5)  # unit-variance logits at init (±1 sums)

    def forward_impl(self, x):
        x = self.input_act(x - 0.5)
        x = self.features(torch.flatten(x, 1))
        return self.scale(self.classifier(x))


def lfc(*, hidden=(1024, 1024, 1024), dropout: float = 0.2, act_grad: str = "ste") -> LFC:
    """Build LFC-W1A1. Keyword-only; the config is stored on the model for checkpoints."""
    return LFC({"name": "lfc", "dataset": "mnist", "hidden": list(hidden),
                "dropout": dropout, "act_grad": act_grad})
