# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""AnnotateBipolar: mark every ``BipolarQuant`` output as a ``BIPOLAR`` integer point.

A ``BipolarQuant`` with scale 1 outputs ±1 whatever its input is, so its output is an integer
point even when the input is a float expression the streamliner has not absorbed yet (e.g. behind
the thermometer or bit-plane input encoders). Only scale-1 quantizers qualify: any other scale
would make the output ``±s``, which is not the {-1, +1} value set of ``BIPOLAR``.
qonnx's full ``InferDataTypes`` is not used for this: it would also mark MAC outputs ``INT32``,
whose range is far too wide to tabulate.
"""
from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType

from pynq_bnn.compiler.passes.base import Pass

__all__ = ["AnnotateBipolar"]


class AnnotateBipolar(Pass):
    def apply(self, model):
        changed = False
        for node in model.graph.node:
            if node.op_type != "BipolarQuant":
                continue
            scale = model.get_initializer(node.input[1]) if len(node.input) > 1 else None
            if scale is None or not np.all(np.asarray(scale) == 1.0):
                continue
            if model.get_tensor_datatype(node.output[0]) != DataType["BIPOLAR"]:
                model.set_tensor_datatype(node.output[0], DataType["BIPOLAR"])
                changed = True
        return model, changed
