# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Graph passes over the QONNX ``ModelWrapper`` and the pass pipeline.

How to write a pass
-------------------
* One small class per file, a verb-first name, subclassing :class:`Pass` (qonnx
  ``Transformation``): ``apply(model) -> (model, changed)``. Rewrite in place; return
  ``changed=True`` only when the graph really changed (qonnx's ``model.transform`` calls
  ``apply`` until it returns False, so an honest flag is what makes the pass reach its fixed
  point — tests assert a second run reports ``False``).
* Do not run shape inference or cleanup inside the pass: :func:`run_passes` does it once per
  step, so every intermediate model is executable with ``qonnx.core.onnx_exec.execute_onnx``.
* Raise :class:`~pynq_bnn.compiler.ir.UnsupportedGraphError` (node, reason) when a pattern is
  recognised but cannot be transformed exactly; leave unknown patterns alone (the lowering names
  whatever is left).
"""
from __future__ import annotations

import logging
from pathlib import Path

from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

__all__ = ["Pass", "run_passes"]

log = logging.getLogger(__name__)


class Pass(Transformation):
    """Base class of the pynq_bnn passes (a qonnx ``Transformation``)."""

    def apply(self, model):  # pragma: no cover - interface
        raise NotImplementedError


def run_passes(model, passes, save_intermediates=None):
    """Apply ``passes`` in order, each to its fixed point, then clean up and infer shapes.

    Args:
        model: qonnx ``ModelWrapper`` (not modified; each step works on a copy).
        passes: pass instances.
        save_intermediates: directory to save ``NN_<PassName>.onnx`` after every step.

    Returns:
        The transformed ``ModelWrapper``.
    """
    out_dir = Path(save_intermediates) if save_intermediates else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save(str(out_dir / "00_input.onnx"))
    for index, step in enumerate(passes, start=1):
        model = model.transform(step)
        model = model.transform(InferShapes())
        log.debug("pass %s done: %d nodes", type(step).__name__, len(model.graph.node))
        if out_dir is not None:
            model.save(str(out_dir / f"{index:02d}_{type(step).__name__}.onnx"))
    return model
