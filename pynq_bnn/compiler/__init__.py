# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Dataflow compiler: QONNX -> streamlined integer graph -> HW layers -> numpy / HLS.

>>> from pynq_bnn.compiler import compile_qonnx, execute          # doctest: +SKIP
>>> graph = compile_qonnx("lfc.onnx")                              # doctest: +SKIP
>>> top1 = execute(graph, images_nhwc_uint8)[:, 0]                 # doctest: +SKIP

Public API: :func:`compile_qonnx`, :func:`streamline`, :func:`execute`, :func:`verify`,
:func:`save_graph`, :func:`load_graph`, :class:`DataflowGraph`, and the errors
:class:`UnsupportedGraphError`, :class:`GraphFormatError`, :class:`ExecutionInputError`.
"""
from pynq_bnn.compiler.execute import ExecutionInputError, execute
from pynq_bnn.compiler.frontend import compile_qonnx, load_qonnx, streamline
from pynq_bnn.compiler.graph import DataflowGraph, load_graph, save_graph
from pynq_bnn.compiler.ir import GraphFormatError, UnsupportedGraphError
from pynq_bnn.compiler.verify import VerificationReport, verify

__all__ = ["compile_qonnx", "streamline", "load_qonnx", "execute", "verify",
           "VerificationReport", "save_graph", "load_graph", "DataflowGraph",
           "UnsupportedGraphError", "GraphFormatError", "ExecutionInputError"]
