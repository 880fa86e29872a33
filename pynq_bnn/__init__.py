# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""pynq_bnn: Binary Neural Networks from Brevitas training to a PYNQ FPGA overlay.

Sub-packages (imported lazily, nothing happens at import time):

* :mod:`pynq_bnn.data` — MNIST / CIFAR-10 readers (no downloads).
* :mod:`pynq_bnn.nn` — binary layers, binarizers, input encoders, technique modules.
* :mod:`pynq_bnn.zoo` — model presets (``lfc``, ``cnv``, ``fracbnn`` ...).
* :mod:`pynq_bnn.train`, :mod:`pynq_bnn.eval`, :mod:`pynq_bnn.export` — CLIs and their APIs.
* :mod:`pynq_bnn.compiler` — QONNX → streaming HW layers → HLS.
* :mod:`pynq_bnn.driver` — PYNQ driver and simulated device.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "summary": ("pynq_bnn.nn.summary", "summary"),
    "check_deployable": ("pynq_bnn.deployable", "check_deployable"),
}


def __getattr__(name):
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        return getattr(import_module(module_name), attr)
    raise AttributeError(f"module 'pynq_bnn' has no attribute {name!r}")
