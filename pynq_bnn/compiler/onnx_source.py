# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Compile a user's QONNX file (Brevitas or FINN export) with no torch model at hand.

:func:`compile_onnx_file` compiles ``model.onnx`` and verifies the compiled graph against the
file itself, executed by qonnx (``execute_onnx``, float32, one image at a time) on real images:
top-1 of every image and the integer tensor at every HW-layer boundary on a few. There is no
float64 model to separate float32 near-ties from real mismatches, so every top-1 difference
counts (the report says so). The graph's ``meta["origin"]`` records the file name and SHA-256.
The file's input must be ``p / 255`` of uint8 pixels ``p`` (the pynq_bnn export contract).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

__all__ = ["compile_onnx_file", "qonnx_top1", "onnx_origin"]


def onnx_origin(path) -> dict:
    path = Path(path)
    return {"kind": "onnx", "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def qonnx_top1(model, images_uint8_nchw: np.ndarray) -> np.ndarray:
    """Top-1 of the QONNX model run by qonnx on ``p / 255`` (float32), image by image."""
    from qonnx.core.onnx_exec import execute_onnx

    name = model.graph.input[0].name
    out = model.graph.output[0].name
    x = images_uint8_nchw.astype(np.float32) / np.float32(255.0)
    return np.array([int(np.argmax(execute_onnx(model, {name: img[None]})[out]))
                     for img in x], dtype=np.int64)


def compile_onnx_file(path, images_uint8_nchw, labels=None, *, topk: int = 1,
                      layer_images: int = 2):
    """Compile ``path`` and verify it against its own qonnx execution; ``(graph, report)``.

    Raises:
        FileNotFoundError: no such file.
        UnsupportedGraphError: naming the file's node that cannot be compiled, why, and the fix.
        AssertionError: the compiled graph disagrees with the file on some image.
    """
    from pynq_bnn.compiler.execute import execute
    from pynq_bnn.compiler.frontend import compile_qonnx, load_qonnx, streamline
    from pynq_bnn.compiler.verify import VerificationReport, compare_layers

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"QONNX file {path} not found")
    images = np.asarray(images_uint8_nchw)
    if images.dtype != np.uint8 or images.ndim != 4 or not len(images):
        raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {images.shape}")
    model = load_qonnx(path)
    origin = onnx_origin(path)
    streamlined = streamline(model)
    graph = compile_qonnx(model, topk=topk, meta={"origin": origin})
    reference = qonnx_top1(model, images)
    hw_all = execute(graph, np.ascontiguousarray(images.transpose(0, 2, 3, 1)), return_all=True)
    hw = hw_all[graph.output_name][:, 0].astype(np.int64)
    bad = np.nonzero(hw != reference)[0]
    report = VerificationReport(images=len(images), top1_mismatches=int(bad.size),
                                reference="qonnx float32 execution of the file (no float64 "
                                          "model)")
    if bad.size:
        report.first_mismatch = {"image": int(bad[0]), "qonnx": int(reference[bad[0]]),
                                 "hw": int(hw[bad[0]])}
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64)
        report.torch_accuracy = float(np.mean(reference == labels))
        report.hw_accuracy = float(np.mean(hw == labels))
    if layer_images:
        subset = {k: v[:layer_images] for k, v in hw_all.items()}
        report.layers = compare_layers(streamlined, graph, images[:layer_images], subset)
    graph.meta["origin"]["verification"] = {"images": report.images,
                                            "mismatches": report.top1_mismatches,
                                            "reference": report.reference}
    report.raise_if_failed()
    return graph, report
