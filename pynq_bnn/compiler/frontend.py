# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Compiler front end: QONNX import -> streamline -> lower (:func:`compile_qonnx`).

Phases (each leaves an executable QONNX model; ``save_intermediates=dir`` writes them all):

1. import: ``ModelWrapper`` + ``qonnx.util.cleanup.cleanup_model`` (constant folding, names);
2. streamline: :class:`FoldWeightQuant`, :class:`GemmToMatMul`, :class:`IntegerPixelInput`,
   :class:`AbsorbThresholds` (+ :class:`RemoveDeadNodes`) — the result has integer tensors
   only (pixels, ±1 / k-bit codes, accumulators) joined by MatMul/Conv, MultiThreshold, MaxPool
   and reshapes;
3. lower: the rules of :mod:`pynq_bnn.compiler.lower` -> :class:`DataflowGraph`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pynq_bnn.compiler.graph import DataflowGraph

__all__ = ["load_qonnx", "streamline", "compile_qonnx", "streamline_passes"]

log = logging.getLogger(__name__)


def load_qonnx(model_or_path):
    """A cleaned-up qonnx ``ModelWrapper`` from a ``ModelWrapper``, ``ModelProto`` or file path."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    if isinstance(model_or_path, (str, Path)):
        if not Path(model_or_path).is_file():
            raise FileNotFoundError(f"QONNX model {model_or_path} not found; export it with "
                                    "pynq_bnn.export.export_qonnx(model, path)")
        model = _read_onnx(Path(model_or_path), ModelWrapper)
    elif isinstance(model_or_path, ModelWrapper):
        model = ModelWrapper(model_or_path.model.SerializeToString())
    else:
        model = ModelWrapper(model_or_path)
    model = cleanup_model(model)
    if len(model.graph.input) != 1 or len(model.graph.output) != 1:
        raise ValueError(f"the compiler needs one graph input and one output, got "
                         f"{len(model.graph.input)} inputs and {len(model.graph.output)} outputs")
    return model


def _read_onnx(path: Path, wrapper):
    """Load an ONNX file; an empty, truncated or non-ONNX file is a ``ValueError`` naming it."""
    if path.stat().st_size == 0:
        raise ValueError(f"QONNX model {path} is empty (an interrupted export?); export it again")
    try:
        model = wrapper(str(path))
    except Exception as err:  # protobuf's DecodeError and friends carry no file name
        raise ValueError(f"{path} is not a readable ONNX model ({type(err).__name__}); "
                         "export it again with pynq_bnn.export") from None
    if not model.graph.node:
        raise ValueError(f"{path} holds no ONNX graph (not an ONNX file?); export it again")
    return model


def streamline_passes() -> list:
    """Fresh instances of the streamline passes, in order."""
    from pynq_bnn.compiler.passes.absorb_thresholds import AbsorbThresholds
    from pynq_bnn.compiler.passes.annotate_bipolar import AnnotateBipolar
    from pynq_bnn.compiler.passes.fold_weight_quant import FoldWeightQuant
    from pynq_bnn.compiler.passes.gemm_to_matmul import GemmToMatMul
    from pynq_bnn.compiler.passes.hoist_scalar_ops import HoistScalarOps
    from pynq_bnn.compiler.passes.integer_input import IntegerPixelInput
    from pynq_bnn.compiler.passes.remove_dead_nodes import RemoveDeadNodes
    from pynq_bnn.compiler.lower.repbnn import FoldChannelTile

    return [FoldWeightQuant(), GemmToMatMul(), RemoveDeadNodes(), IntegerPixelInput(),
            HoistScalarOps(), AnnotateBipolar(), FoldChannelTile(), AbsorbThresholds(),
            RemoveDeadNodes()]


def streamline(model_or_path, save_intermediates=None):
    """Import + streamline: the integer QONNX graph (input = uint8 pixels, NCHW)."""
    from pynq_bnn.compiler.passes.base import run_passes

    return run_passes(load_qonnx(model_or_path), streamline_passes(), save_intermediates)


def compile_qonnx(model_or_path, *, topk: int = 1, save_intermediates=None, rules=None,
                  meta: dict | None = None) -> DataflowGraph:
    """Compile a QONNX export to a :class:`DataflowGraph` of HW layers.

    Args:
        model_or_path: qonnx ``ModelWrapper``, ONNX ``ModelProto`` or path to a ``.onnx`` file
            (``pynq_bnn.export.export_qonnx`` output: batch 1, input ``global_in`` = p/255).
        topk: class indices emitted by the final LabelSelect.
        save_intermediates: directory for every intermediate ``.onnx`` model.
        rules: lowering rules (default :data:`pynq_bnn.compiler.lower.RULES`).
        meta: extra JSON metadata stored on the graph.

    Raises:
        UnsupportedGraphError: naming the first node that cannot be compiled exactly.
    """
    from pynq_bnn.compiler.lower import RULES, lower_model

    model = streamline(model_or_path, save_intermediates)
    if save_intermediates:
        log.info("intermediate models written to %s", save_intermediates)
    return lower_model(model, RULES if rules is None else rules, topk=topk, meta=meta)
