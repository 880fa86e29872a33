# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Verification of a compiled graph against the Brevitas model and the streamlined QONNX graph.

Two checks, both exact (no tolerance):

1. **top-1**: the Brevitas model in eval mode and :func:`~pynq_bnn.compiler.execute` agree on the
   predicted class of every image (the deployed accuracy then equals the trained accuracy);
2. **per layer**: on a few images (qonnx execution is slow), the integer tensor at every HW-layer
   boundary equals the same tensor of the streamlined QONNX graph run with qonnx's
   ``execute_onnx`` (NCHW -> NHWC, stream codes decoded to integers).

A top-1 mismatch where the integer scores of the two classes tie is counted separately
(``tie_mismatches``): it means the float model breaks a tie by rounding noise, which happens when
a weight or activation scale is not a power of two (the integer graph breaks ties to the lower
index, like ``torch.argmax`` on exact values).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pynq_bnn.compiler.execute import execute
from pynq_bnn.compiler.hw.base import decode_values

__all__ = ["verify", "VerificationReport", "LayerCheck", "torch_top1", "compare_layers"]


@dataclass
class LayerCheck:
    """Integer equality of one HW layer's output against the streamlined QONNX tensor."""

    layer: str
    kind: str
    tensor: str
    images: int
    mismatches: int
    first_mismatch: tuple | None = None  # (image, NHWC index)


@dataclass
class VerificationReport:
    """Result of :func:`verify`. ``ok`` is True when every check passed."""

    images: int
    top1_mismatches: int
    tie_mismatches: int = 0
    first_mismatch: dict | None = None
    torch_accuracy: float | None = None
    hw_accuracy: float | None = None
    layers: list = field(default_factory=list)

    @property
    def layer_mismatches(self) -> int:
        return sum(check.mismatches for check in self.layers)

    @property
    def first_layer_mismatch(self) -> LayerCheck | None:
        return next((check for check in self.layers if check.mismatches), None)

    @property
    def ok(self) -> bool:
        return self.top1_mismatches == 0 and self.layer_mismatches == 0

    def __str__(self) -> str:
        lines = [f"top-1: {self.images - self.top1_mismatches}/{self.images} identical "
                 f"({self.tie_mismatches} of the mismatches are integer-score ties)"]
        if self.torch_accuracy is not None:
            lines.append(f"accuracy: brevitas {self.torch_accuracy:.4f}, hw {self.hw_accuracy:.4f}")
        if self.first_mismatch:
            lines.append(f"first top-1 mismatch: {self.first_mismatch}")
        compared = [c for c in self.layers]
        lines.append(f"layers: {len(compared)} boundaries compared on "
                     f"{compared[0].images if compared else 0} images, "
                     f"{self.layer_mismatches} mismatching elements")
        bad = self.first_layer_mismatch
        if bad is not None:
            lines.append(f"first layer mismatch: layer {bad.layer!r} ({bad.kind}), image "
                         f"{bad.first_mismatch[0]}, index {bad.first_mismatch[1]}")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError`` with the summary unless :attr:`ok`."""
        if not self.ok:
            raise AssertionError(f"verification failed:\n{self}")


def torch_top1(model, images_uint8_nchw: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Top-1 of the model in eval mode (restores the previous mode)."""
    import torch

    from pynq_bnn.zoo import to_model_input

    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(images_uint8_nchw), batch_size):
                x = to_model_input(images_uint8_nchw[start:start + batch_size])
                out.append(model(x).argmax(1).numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def compare_layers(streamlined, graph, images_uint8_nchw: np.ndarray,
                   hw_tensors: dict | None = None) -> list:
    """Per-HW-layer integer comparison with the streamlined QONNX graph (qonnx execution)."""
    from qonnx.core.onnx_exec import execute_onnx

    nhwc = np.ascontiguousarray(images_uint8_nchw.transpose(0, 2, 3, 1))
    if hw_tensors is None:
        hw_tensors = execute(graph, nhwc, return_all=True)
    in_name = streamlined.graph.input[0].name
    contexts = [execute_onnx(streamlined, {in_name: img[None].astype(np.float32)},
                             return_full_exec_context=True) for img in images_uint8_nchw]
    checks = []
    for layer in graph.layers:
        if layer.output not in contexts[0]:
            continue  # internal stream (sliding window, label select)
        qonnx = np.stack([ctx[layer.output][0] for ctx in contexts])
        if qonnx.ndim == 4:
            qonnx = qonnx.transpose(0, 2, 3, 1)
        hw = decode_values(hw_tensors[layer.output][: len(contexts)], layer.out_type())
        qonnx = qonnx.reshape(hw.shape)
        diff = np.argwhere(hw != np.round(qonnx).astype(np.int64))
        first = None
        if len(diff):
            first = (int(diff[0][0]), tuple(int(i) for i in diff[0][1:]))
        checks.append(LayerCheck(layer.name, layer.kind, layer.output, len(contexts), len(diff),
                                 first))
    return checks


def verify(model_torch, qonnx_model, graph, images_uint8_nchw, labels=None, *,
           layer_images: int = 2, streamlined=None) -> VerificationReport:
    """Check the compiled ``graph`` against the Brevitas model and the streamlined QONNX graph.

    Args:
        model_torch: the Brevitas/zoo model (run in eval mode).
        qonnx_model: its QONNX export (``ModelWrapper`` or path); streamlined here.
        graph: ``compile_qonnx(qonnx_model)``.
        images_uint8_nchw: ``(N, C, H, W)`` uint8 images.
        labels: optional ``(N,)`` labels for the two accuracies.
        layer_images: images for the per-layer check (0 skips it).
        streamlined: the already streamlined ``qonnx_model`` (:func:`streamline`), to save
            re-streamlining it.

    Returns:
        A :class:`VerificationReport` (``report.ok``, ``str(report)``).
    """
    from pynq_bnn.compiler.frontend import streamline

    images = np.asarray(images_uint8_nchw)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"verify expects uint8 images (N, C, H, W), got {images.dtype} "
                         f"{images.shape}")
    reference = torch_top1(model_torch, images)
    nhwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    hw_all = execute(graph, nhwc, return_all=True)
    hw = hw_all[graph.output_name][:, 0].astype(np.int64)
    bad = np.nonzero(hw != reference)[0]
    report = VerificationReport(images=len(images), top1_mismatches=int(len(bad)))
    last = graph.producer(graph.output_name)
    scores = hw_all.get(last.inputs[0]) if last is not None else None
    if len(bad):
        i = int(bad[0])
        report.first_mismatch = {"image": i, "brevitas": int(reference[i]), "hw": int(hw[i])}
        if scores is not None:
            s = scores[bad].reshape(len(bad), -1)
            report.tie_mismatches = int(np.sum(s[np.arange(len(bad)), reference[bad]]
                                               == s[np.arange(len(bad)), hw[bad]]))
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64)
        report.torch_accuracy = float(np.mean(reference == labels))
        report.hw_accuracy = float(np.mean(hw == labels))
    if layer_images:
        if streamlined is None:
            streamlined = streamline(qonnx_model)
        subset = {k: v[:layer_images] for k, v in hw_all.items()}
        report.layers = compare_layers(streamlined, graph, images[:layer_images], subset)
    return report
