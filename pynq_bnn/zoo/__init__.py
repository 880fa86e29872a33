# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Model zoo: keyword-only preset constructors and a registry.

>>> from pynq_bnn import zoo
>>> "lfc" in zoo.list_presets() and "cnv" in zoo.list_presets()
True
"""
from pynq_bnn.zoo.base import BNNModel, ModelInputError, to_model_input
from pynq_bnn.zoo.cnv import cnv
from pynq_bnn.zoo.lfc import lfc
from pynq_bnn.zoo.registry import build, from_config, get_preset, list_presets, register

register("lfc", lfc, dataset="mnist", description="BNN-PYNQ LFC-W1A1, 784-1024x3-10 MLP")
register("cnv", cnv, dataset="cifar10", description="BNN-PYNQ/FINN CNV-W1A1, 8-bit input")

# Seed-technique presets register themselves when their modules are imported.
from pynq_bnn.zoo import fracbnn as _fracbnn  # noqa: E402,F401
from pynq_bnn.zoo import variants as _variants  # noqa: E402,F401

__all__ = ["BNNModel", "ModelInputError", "to_model_input", "build", "from_config",
           "get_preset", "list_presets", "register", "lfc", "cnv"]
