# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CNV variants of the seed techniques, one preset each (all CIFAR-10, same CNV topology).

=================  ==================================================================  ==========
preset             technique (options of :func:`pynq_bnn.zoo.cnv.cnv`)                 deployable
=================  ==================================================================  ==========
``cnv-thermo``     FracBNN thermometer input, pure XNOR first conv (96 binary ch.)     yes
``cnv-bitplane``   bit-plane binarized first layer                                     yes
``sdbnn``          SD-BNN WSD + static ASD (``asd="dynamic"`` for the SE branch)       static: yes
``repbnn``         RepBNN RepConv, ``beta=2``                                          yes
``lab``            LAB binarizer in front of convs 2..6                                yes
=================  ==================================================================  ==========

"Deployable" is what the technique's export pattern allows (docs/export_patterns_b2.md); whether
the compiler lowers it today is what :func:`pynq_bnn.check_deployable` reports.

Each preset accepts every :func:`~pynq_bnn.zoo.cnv.cnv` keyword, so techniques compose:
``zoo.build("sdbnn", beta=2, asd="dynamic")``.
"""
from pynq_bnn.zoo.cnv import cnv
from pynq_bnn.zoo.registry import register

__all__ = ["cnv_thermo", "cnv_bitplane", "sdbnn", "repbnn", "lab", "VARIANT_DEFAULTS"]

VARIANT_DEFAULTS = {
    "cnv-thermo": {"input_stage": "thermometer"},
    "cnv-bitplane": {"input_stage": "bitplane"},
    "sdbnn": {"wsd": True, "asd": "static"},
    "repbnn": {"beta": 2},
    "lab": {"binarizer": "lab"},
}


def _variant(name: str, options: dict):
    return cnv(name=name, **{**VARIANT_DEFAULTS[name], **options})


def cnv_thermo(**options):
    """CNV with FracBNN's thermometer input encoding (3 colours × 32 levels → 96 ±1 channels)."""
    return _variant("cnv-thermo", options)


def cnv_bitplane(**options):
    """CNV with the bit-plane first layer (8 planes per colour, grouped binary convs)."""
    return _variant("cnv-bitplane", options)


def sdbnn(**options):
    """CNV with SD-BNN weight (WSD) and activation (ASD, static by default) self-distribution."""
    return _variant("sdbnn", options)


def repbnn(**options):
    """CNV with RepBNN's RepConv (β = 2): same binary weights and XNOR work, 2× wider maps."""
    return _variant("repbnn", options)


def lab(**options):
    """CNV with LAB (learnable 3×3 depthwise activation binarizer) before convs 2..6."""
    return _variant("lab", options)


def _register_all() -> None:
    descriptions = {
        "cnv-thermo": ("CNV + FracBNN thermometer input", cnv_thermo),
        "cnv-bitplane": ("CNV + bit-plane binarized input layer", cnv_bitplane),
        "sdbnn": ("CNV + SD-BNN weight/activation self-distribution", sdbnn),
        "repbnn": ("CNV + RepBNN RepConv (beta=2)", repbnn),
        "lab": ("CNV + LAB learnable activation binarizer", lab),
    }
    for name, (description, constructor) in descriptions.items():
        register(name, constructor, dataset="cifar10", description=description)


_register_all()
