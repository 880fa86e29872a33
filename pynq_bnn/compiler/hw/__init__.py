# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Streaming HW layers (one class per layer, see :mod:`pynq_bnn.compiler.hw.base`).

Registration: a layer class registers its kind by subclassing, ``class MyLayer(HWLayer,
kind="MyLayer")``, in any module of this package. :func:`load_layer_kinds` imports every module
of the package once, so :func:`~pynq_bnn.compiler.hw.base.layer_class` (used by ``load_graph``)
knows every kind without importing the QONNX lowering, onnx, qonnx or torch: a new HW layer only
needs its own file here; nothing else lists the kinds. HW layer modules must therefore import
nothing beyond numpy and ``pynq_bnn.compiler.{hw,cost}`` at module level (put other imports,
e.g. ``pynq_bnn.compiler.hls.params``, inside the methods that need them).
"""
import pkgutil
from importlib import import_module

__all__ = ["load_layer_kinds"]

_LOADED = False


def load_layer_kinds() -> dict:
    """Import every module of this package (each registers its layer kinds); returns the registry.

    Returns:
        ``{kind: HWLayer subclass}`` (:data:`pynq_bnn.compiler.hw.base.LAYER_KINDS`).
    """
    global _LOADED
    from pynq_bnn.compiler.hw.base import LAYER_KINDS

    if not _LOADED:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            import_module(f"{__name__}.{info.name}")
        _LOADED = True
    return LAYER_KINDS
