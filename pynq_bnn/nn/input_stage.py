# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Factory of first-layer input stages shared by the zoo presets (cnv, fracbnn).

Every stage takes the model input ``x = p/255`` (float32 NCHW, ``p`` the uint8 pixels) and keeps
the spatial size. Which stage a model uses decides what its first binary layer sees:

==============  =====================================  ===============  =======================
kind            output                                 out_channels     hardware input stage
==============  =====================================  ===============  =======================
``uint8``       ``p/255`` on the 8-bit grid (Quant)    ``C``            8-bit stream (integer MAC)
``thermometer`` FracBNN unary code, ±1                 ``32·C``         32 compares per pixel
``bitplane``    bit-plane stage (Vorabbi et al.), ±1   ``k·C`` (96)     bit wiring + grouped XNOR
==============  =====================================  ===============  =======================

Example:
    >>> stage, channels, is_binary = build_input_stage("thermometer")
    >>> channels, is_binary
    (96, True)
"""
import torch

from pynq_bnn.nn.bitplane import BitPlaneStage
from pynq_bnn.nn.layers import PixelInputQuant
from pynq_bnn.nn.thermometer import ThermometerEncoder

__all__ = ["build_input_stage", "INPUT_STAGES"]

INPUT_STAGES = ("uint8", "thermometer", "bitplane")


def build_input_stage(kind: str, *, in_channels: int = 3, **options) -> tuple:
    """Build the input stage ``kind`` for images with ``in_channels`` colour channels.

    Args:
        kind: ``"uint8"``, ``"thermometer"`` or ``"bitplane"``.
        in_channels: colour channels of the image (3 for CIFAR-10, 1 for MNIST).
        **options: passed to the stage: ``resolution`` (thermometer, default 8);
            ``plane_channels``, ``plane_weights``, ``act_grad`` (bitplane).

    Returns:
        ``(module, out_channels, out_is_binary)``: the ``torch.nn.Module``, the number of channels
        it produces and whether they are ±1 (so the next conv is a pure XNOR-popcount).

    Raises:
        ValueError: unknown ``kind`` or options the stage does not take.
    """
    if kind == "uint8":
        if options:
            raise ValueError(f"input stage 'uint8' takes no options, got {sorted(options)}")
        return PixelInputQuant(), in_channels, False
    if kind == "thermometer":
        module = _build(ThermometerEncoder, kind, in_channels, options, ("resolution",))
        return module, module.out_channels, True
    if kind == "bitplane":
        module = _build(BitPlaneStage, kind, in_channels, options,
                        ("plane_channels", "plane_weights", "act_grad"))
        return module, module.out_channels, True
    raise ValueError(f"unknown input stage {kind!r}; choose one of {INPUT_STAGES}")


def _build(cls, kind: str, in_channels: int, options: dict, allowed: tuple) -> torch.nn.Module:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"input stage {kind!r} does not take {unknown}; allowed: {list(allowed)}")
    return cls(in_channels=in_channels, **options)
