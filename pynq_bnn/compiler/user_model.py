# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Compile a user's Brevitas module from a notebook: export -> compile -> verify, with origin.

:func:`compile_module` takes any ``nn.Module`` built from Brevitas layers (no zoo ``config``
needed) and real images, and returns the verified :class:`DataflowGraph`; the graph's ``meta``
records where the model came from (``origin``: the module's class and Python module, the
SHA-256 of its QONNX export, the verification numbers), and :func:`save_graph` keeps it in
``graph.json``, so a package built from the graph names its source. Verification is against the
float64 model (:mod:`pynq_bnn.compiler.verify`): float32 near-ties are reported, real mismatches
raise.

Example (notebook)::

    from pynq_bnn.compiler.user_model import compile_module
    graph, report = compile_module(my_net, images_uint8_nchw, labels, input_shape=(1, 28, 28))
    print(report)
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["compile_module", "module_origin"]


def module_origin(model, onnx_path) -> dict:
    """JSON record of a user's module: class, Python module, export hash."""
    from pynq_bnn.export.qonnx_export import model_name

    digest = hashlib.sha256(Path(onnx_path).read_bytes()).hexdigest()
    return {"kind": "module", "name": model_name(model), "class": type(model).__qualname__,
            "python_module": type(model).__module__, "qonnx_sha256": digest}


def compile_module(model, images_uint8_nchw, labels=None, *, input_shape=None, topk: int = 1,
                   workdir=None, layer_images: int = 2):
    """Export, compile and verify ``model``; returns ``(graph, report)``.

    Args:
        model: any Brevitas ``nn.Module`` whose input is ``p / 255`` for uint8 pixels ``p``.
        images_uint8_nchw: ``(N, C, H, W)`` uint8 real images for the verification.
        labels: optional ``(N,)`` labels (accuracies in the report).
        input_shape: per-image input shape; default ``model.input_shape`` or the images' shape.
        topk: class indices the accelerator returns.
        workdir: folder for ``model.onnx`` (a temporary folder by default).
        layer_images: images for the per-layer integer comparison.

    Raises:
        UnsupportedGraphError: naming the user's node that cannot be compiled, why, and the fix.
        AssertionError: the compiled graph disagrees with the float64 model (real mismatches).
    """
    from pynq_bnn.compiler.frontend import compile_qonnx, streamline
    from pynq_bnn.compiler.verify import verify
    from pynq_bnn.export import export_qonnx

    images = np.asarray(images_uint8_nchw)
    if images.dtype != np.uint8 or images.ndim != 4 or not len(images):
        raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {images.shape}")
    if input_shape is None and not getattr(model, "input_shape", None):
        input_shape = images.shape[1:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(workdir or tmp) / "model.onnx"
        wrapper = export_qonnx(model, path, input_shape=input_shape)
        origin = module_origin(model, path)
        streamlined = streamline(wrapper)
        graph = compile_qonnx(wrapper, topk=topk, meta={"origin": origin})
        report = verify(model, wrapper, graph, images, labels, layer_images=layer_images,
                        streamlined=streamlined)
    graph.meta["origin"]["verification"] = {
        "images": report.images, "real_mismatches": report.real_mismatches,
        "float32_near_ties": report.near_ties, "reference": report.reference}
    report.raise_if_failed()
    return graph, report
