# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering: streamlined integer QONNX graph -> :class:`~pynq_bnn.compiler.graph.DataflowGraph`.

How to add a lowering rule (engineers C2/C3 and anyone extending the compiler)
-----------------------------------------------------------------------------
1. Write the HW layer in ``pynq_bnn/compiler/hw/<layer>.py`` (see ``hw/base.py``).
2. Write one rule class in its own file ``pynq_bnn/compiler/lower/<rule>.py``::

       class MyRule(LoweringRule):
           def match(self, node, ctx) -> bool:      # cheap, no side effects
               return node.op_type == "MyOp"
           def apply(self, node, ctx) -> None:
               src = ctx.stream(node.input[0], node)   # StreamInfo: stream, shape (NHWC), stype
               layer = MyLayer(ctx.unique_layer_name(node.name), [src.stream], node.output[0],
                               params, **attrs)
               ctx.add_layer(layer, node.output[0])    # the layer's output now carries the tensor
               ctx.consume(node)                        # + every other node the rule absorbed

   ``ctx`` (:class:`LoweringContext`) gives ``initializer``, ``consumers``, ``producer``,
   ``only_consumer``, ``stream_type`` (from the tensor's qonnx DataType annotation),
   ``streams`` (tensor -> :class:`StreamInfo`), ``alias`` (a tensor carried by an existing
   stream, e.g. a flatten) and ``is_graph_output``. Raise
   :class:`~pynq_bnn.compiler.ir.UnsupportedGraphError` (node, reason) for shapes/attributes the
   layer cannot implement.
3. Append an instance to :data:`RULES` below (earlier rules win; put specific patterns before the
   generic ``ThresholdingRule`` / ``MatMulRule`` / ``ConvRule`` if they overlap). HW layer kinds
   register from ``pynq_bnn/compiler/hw/`` (``load_graph`` never imports this package).
4. Add ``tests/compiler/test_lower_<rule>.py``.

Rules run in graph order over the streamlined model: every node must be consumed by exactly one
rule; a node left over raises ``UnsupportedGraphError`` naming it. The graph input is the uint8
pixel stream (channels last); the graph output (integer scores) gets a LabelSelect.
"""
from pynq_bnn.compiler.lower.base import LoweringContext, LoweringRule, StreamInfo, lower_model
from pynq_bnn.compiler.lower.bitplane import BitPlaneRule
from pynq_bnn.compiler.lower.fracbnn import FracUnitRule
from pynq_bnn.compiler.lower.head import GlobalPoolHeadRule, ScaledMatMulRule
from pynq_bnn.compiler.lower.lab import DepthwiseBinarizerRule
from pynq_bnn.compiler.lower.layout import FlattenRule
from pynq_bnn.compiler.lower.mac import ConvRule, MatMulRule
from pynq_bnn.compiler.lower.pool import MaxPoolRule
from pynq_bnn.compiler.lower.repbnn import RepConvRule
from pynq_bnn.compiler.lower.residual import DownsampleRule, ResidualAddRule
from pynq_bnn.compiler.lower.scaled import ConstantNodeRule, ScaledFlattenRule, \
    ScaledSignRule, ScaledStreamRule
from pynq_bnn.compiler.lower.thermometer import ThermometerRule
from pynq_bnn.compiler.lower.thresholding import ThresholdingRule

__all__ = ["RULES", "LoweringContext", "LoweringRule", "StreamInfo", "lower_model"]

#: The lowering rules, tried in order for every node (append yours; see the module docstring).
RULES = [
    ThermometerRule(),
    BitPlaneRule(),
    RepConvRule(),
    DepthwiseBinarizerRule(),
    ConvRule(),
    MatMulRule(),
    MaxPoolRule(),
    # scaled integer streams (residual networks), before FlattenRule
    FracUnitRule(), ScaledSignRule(), ResidualAddRule(), DownsampleRule(), GlobalPoolHeadRule(),
    ScaledFlattenRule(), ScaledMatMulRule(),
    FlattenRule(),
    ThresholdingRule(),
    ScaledStreamRule(), ConstantNodeRule(),  # catch-alls: last
]
