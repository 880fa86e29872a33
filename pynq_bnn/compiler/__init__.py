# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Dataflow compiler: QONNX -> streamlined integer graph -> HW layers -> numpy / HLS.

>>> from pynq_bnn.compiler import compile_qonnx, execute          # doctest: +SKIP
>>> graph = compile_qonnx("lfc.onnx")                              # doctest: +SKIP
>>> top1 = execute(graph, images_nhwc_uint8)[:, 0]                 # doctest: +SKIP

Public API: :func:`compile_qonnx`, :func:`streamline`, :func:`execute`, :func:`verify`,
:func:`save_graph`, :func:`load_graph`, :class:`DataflowGraph`, and the errors
:class:`UnsupportedGraphError`, :class:`GraphFormatError`, :class:`ExecutionInputError`.

The runtime half (:func:`load_graph`, :func:`execute`, :class:`DataflowGraph`, the errors) needs
only numpy, so a PYNQ board loads and runs a compiled graph without onnx, qonnx or torch; the
QONNX front end (:func:`compile_qonnx`, :func:`streamline`, :func:`load_qonnx`) is imported on
first use (PEP 562 module ``__getattr__``).
"""
from pynq_bnn.compiler.execute import ExecutionInputError, execute
from pynq_bnn.compiler.graph import DataflowGraph, load_graph, save_graph
from pynq_bnn.compiler.ir import GraphFormatError, UnsupportedGraphError
from pynq_bnn.compiler.verify import VerificationReport, verify

__all__ = ["compile_qonnx", "streamline", "load_qonnx", "execute", "verify",
           "VerificationReport", "save_graph", "load_graph", "DataflowGraph",
           "UnsupportedGraphError", "GraphFormatError", "ExecutionInputError"]

_FRONTEND = ("compile_qonnx", "load_qonnx", "streamline")  # need onnx + qonnx


def __getattr__(name):
    if name in _FRONTEND:
        from pynq_bnn.compiler import frontend

        return getattr(frontend, name)
    raise AttributeError(f"module 'pynq_bnn.compiler' has no attribute {name!r}")
