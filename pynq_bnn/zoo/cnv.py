# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CNV: the BNN-PYNQ / FINN CIFAR-10 network, W1A1, with composable seed-technique options.

Topology (valid 3×3 convs): 64-64-pool-128-128-pool-256-256 convs, FC 512-512-10.
Feature map sizes 32→30→28→14→12→10→5→3→1. Each conv/FC is binary weights + BN + sign; the first
conv sees the 8-bit pixels ``p`` (an integer MAC with ±1 weights); max-pooling follows the sign
(on ±1 values it is an OR). Hardware: sliding-window + MVAU per conv, thresholds from BN, max-pool,
MVAUs for the FCs, label select.

Options (keyword-only, stored in ``model.config``; the defaults build exactly the original CNV,
same modules and ``state_dict`` keys):

* ``input_stage`` — ``"uint8"`` (8-bit pixels into the first conv), ``"thermometer"`` (FracBNN
  unary bits) or ``"bitplane"`` (bit-plane first layer), from
  :func:`pynq_bnn.nn.input_stage.build_input_stage`.
* ``binarizer`` — ``"sign"`` or ``"lab"``: a :class:`~pynq_bnn.nn.lab.LearnableActivationBinarizer`
  re-binarizes the ±1 map in front of every conv after the first.
* ``wsd`` — SD-BNN weight self-distribution on every binary conv/FC.
* ``asd`` — ``"none"`` | ``"static"`` | ``"dynamic"``: SD-BNN activation shift between each conv's
  BN and its sign.
* ``beta`` — RepConv repetition factor (1 = off): feature maps ``β×`` wider, each binary layer
  computes ``P/β`` channels tiled ``β²`` times (first conv: ``P`` tiled ``β``) with one BN per
  copy; the binary FCs are repeated the same way, the classifier input is ``β×`` wider.
"""
import torch

from pynq_bnn.nn.lab import LearnableActivationBinarizer
from pynq_bnn.nn.layers import (BinaryActivation, BinaryConv2d, BinaryLinear, OutputScale,
                                PixelInputQuant)
from pynq_bnn.nn.repconv import ChannelTile, rep_plan
from pynq_bnn.nn.sdbnn import ASD_KINDS, WSDConv2d, WSDLinear, make_asd
from pynq_bnn.zoo.base import BNNModel

__all__ = ["CNV", "cnv", "INPUT_STAGES", "BINARIZERS"]

CNV_CONVS = ((64, False), (64, True), (128, False), (128, True), (256, False), (256, False))
CNV_FCS = (512, 512)
INPUT_STAGES = ("uint8", "thermometer", "bitplane")
BINARIZERS = ("sign", "lab")
DEFAULT_OPTIONS = {"input_stage": "uint8", "binarizer": "sign", "wsd": False, "asd": "none",
                   "beta": 1}


def _build_input(kind: str):
    """Return ``(module, out_channels)`` of the input stage; "uint8" keeps the original quant."""
    if kind == "uint8":
        return PixelInputQuant(), 3
    from pynq_bnn.nn.input_stage import build_input_stage  # engineer B1's module

    module, channels, _is_binary = build_input_stage(kind)
    return module, channels


def _check_options(opts: dict) -> None:
    if opts["input_stage"] not in INPUT_STAGES:
        raise ValueError(f"input_stage must be one of {INPUT_STAGES}, got {opts['input_stage']!r}")
    if opts["binarizer"] not in BINARIZERS:
        raise ValueError(f"binarizer must be one of {BINARIZERS}, got {opts['binarizer']!r}")
    if opts["asd"] not in ASD_KINDS:
        raise ValueError(f"asd must be one of {ASD_KINDS}, got {opts['asd']!r}")
    if not isinstance(opts["wsd"], bool):
        raise ValueError(f"wsd must be True or False, got {opts['wsd']!r}")
    if opts["beta"] not in (1, 2, 4):
        raise ValueError(f"beta (RepConv factor) must be 1, 2 or 4, got {opts['beta']!r}")


class CNV(BNNModel):
    input_shape = (3, 32, 32)

    def __init__(self, config: dict):
        super().__init__(config)
        opts = {**DEFAULT_OPTIONS, **{k: config[k] for k in DEFAULT_OPTIONS if k in config}}
        _check_options(opts)
        grad, beta = config["act_grad"], opts["beta"]
        conv_cls = WSDConv2d if opts["wsd"] else BinaryConv2d
        fc_cls = WSDLinear if opts["wsd"] else BinaryLinear
        self.input_quant, channels = _build_input(opts["input_stage"])
        layers, widened = [], False
        for index, (out_ch, pool) in enumerate(config["convs"]):
            if index > 0 and opts["binarizer"] == "lab":
                layers.append(LearnableActivationBinarizer(channels))
            plan = rep_plan(channels if not widened else channels // beta, out_ch, beta,
                            widened_input=widened)
            layers.append(conv_cls(plan.conv_in, plan.conv_out, 3))
            if beta > 1:
                layers.append(ChannelTile(plan.copies))
            layers.append(torch.nn.BatchNorm2d(plan.out))
            if opts["asd"] != "none":
                layers.append(make_asd(opts["asd"], plan.out))
            layers.append(BinaryActivation(grad))
            if pool:
                layers.append(torch.nn.MaxPool2d(2))
            channels, widened = plan.out, beta > 1
        self.features = torch.nn.Sequential(*layers)
        fcs = []
        for h in config["fcs"]:
            plan = rep_plan(channels // beta, h, beta, widened_input=True)
            fcs.append(fc_cls(plan.conv_in, plan.conv_out))
            if beta > 1:
                fcs.append(ChannelTile(plan.copies))
            fcs += [torch.nn.BatchNorm1d(plan.out), BinaryActivation(grad)]
            channels = plan.out
        self.fcs = torch.nn.Sequential(*fcs)
        self.classifier = fc_cls(channels, self.num_classes)
        self.scale = OutputScale(channels ** -0.5)  # unit-variance logits at init (±1 sums)

    def forward_impl(self, x):
        x = self.features(self.input_quant(x))
        x = self.fcs(torch.flatten(x, 1))
        return self.scale(self.classifier(x))


def cnv(*, convs=CNV_CONVS, fcs=CNV_FCS, act_grad: str = "ste", input_stage: str = "uint8",
        binarizer: str = "sign", wsd: bool = False, asd: str = "none", beta: int = 1,
        name: str = "cnv") -> CNV:
    """Build CNV-W1A1 with optional seed techniques (see the module docstring).

    Keyword-only; the config stored on the model rebuilds it with ``zoo.from_config``. ``name`` is
    the preset name recorded in the config (variants register under their own name and record
    every option; plain ``"cnv"`` records only options that differ from the defaults).
    """
    config = {"name": name, "dataset": "cifar10", "convs": [list(c) for c in convs],
              "fcs": list(fcs), "act_grad": act_grad}
    options = {"input_stage": input_stage, "binarizer": binarizer, "wsd": wsd, "asd": asd,
               "beta": beta}
    if name == "cnv":  # keep the original CNV config (and its checkpoints) unchanged
        options = {k: v for k, v in options.items() if v != DEFAULT_OPTIONS[k]}
    config.update(options)  # variants record every option: their own defaults differ
    return CNV(config)
