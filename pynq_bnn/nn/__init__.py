# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Layer library: recipes, binarizers, binary layers and one module per BNN technique."""
from pynq_bnn.nn.binarizers import approx_sign, get_binarizer, sign_ste
from pynq_bnn.nn.layers import (BinaryActivation, BinaryConv2d, BinaryLinear, OutputScale,
                                PixelInputQuant, Uint8InputQuant)

__all__ = ["approx_sign", "get_binarizer", "sign_ste", "BinaryActivation", "BinaryConv2d",
           "BinaryLinear", "OutputScale", "PixelInputQuant", "Uint8InputQuant"]
