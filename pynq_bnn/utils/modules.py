# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Generic inspection of Brevitas modules: which weights are binary.

A layer has *binary weights* when it carries a Brevitas weight quantizer (``weight_quant``) that is
enabled and has a bit width of 1 — e.g. every layer built with the ``BinaryWeight`` recipe,
whatever its class (:class:`~pynq_bnn.nn.BinaryConv2d`, ``QuantLinear``, a technique layer...).
Only ``sign(w)`` of such a weight reaches the exported graph and the hardware (the weight bits of
an XNOR-popcount MVAU); the float "latent" weight exists for training only.
"""
import torch

__all__ = ["binary_weight_modules", "binary_weight_keys"]


def _is_binary_weight_quant(module) -> bool:
    proxy = getattr(module, "weight_quant", None)
    if proxy is None or not getattr(proxy, "is_quant_enabled", False):
        return False
    try:
        bit_width = proxy.bit_width()
    except Exception:  # a proxy that cannot report a bit width is not a known binary one
        return False
    return bit_width is not None and float(bit_width) == 1.0


def binary_weight_modules(model: torch.nn.Module) -> dict:
    """``{module_name: module}`` of every module whose ``weight`` is quantized to 1 bit."""
    return {name: module for name, module in model.named_modules()
            if isinstance(getattr(module, "weight", None), torch.Tensor)
            and _is_binary_weight_quant(module)}


def binary_weight_keys(model: torch.nn.Module) -> list:
    """State-dict keys (``"<module>.weight"``) of all binary latent weights, in module order."""
    return [f"{name}.weight" if name else "weight" for name in binary_weight_modules(model)]
