# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Verification of a compiled graph against the Brevitas model and the streamlined QONNX graph.

Two checks, both exact (no tolerance):

1. **top-1**: the compiled graph (:func:`~pynq_bnn.compiler.execute`) against the Brevitas model
   evaluated in **float64** (the exact-arithmetic reference: every product of an 8-bit code and a
   float32 scale, and their sums, are exact in float64). The model is also run in float32, as
   users run it; where float32 rounding flips a decision that sits on a threshold (a sum that
   is exactly 0 in exact arithmetic comes out as -2e-9), the float32 model disagrees with both
   the compiled graph and the float64 model. Such images are reported as ``near_ties``; only
   disagreements with the float64 reference (``real_mismatches``) fail the check.
2. **per layer**: on a few images (qonnx execution is slow), the integer tensor at every HW-layer
   boundary, residual streams included, equals the same tensor of the streamlined QONNX graph
   run with qonnx's ``execute_onnx`` in float32 (NCHW -> NHWC, stream codes decoded to
   integers; a scaled stream is compared as ``value / scale``). A mismatching element whose
   quantizer input lies within float32 noise of a decision boundary is a near-tie; later layers
   are then not compared on that image (the flip propagates). Any other mismatch is real.

``tie_mismatches`` counts top-1 mismatches (against float32) where the integer scores of the two
classes tie: the float model breaks an exact tie by rounding noise.
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
    near_ties: int = 0  # mismatching elements on a float32 decision boundary (not counted above)
    skipped_images: int = 0  # images not compared: a near-tie flipped an earlier layer


@dataclass
class VerificationReport:
    """Result of :func:`verify`. ``ok`` is True when every check passed."""

    images: int
    top1_mismatches: int
    tie_mismatches: int = 0
    real_mismatches: int | None = None  # against the float64 reference (None: not available)
    near_ties: int = 0  # float32 model differs, compiled graph == float64 model
    reference: str = "float64"
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
        real = self.top1_mismatches if self.real_mismatches is None else self.real_mismatches
        return real == 0 and self.layer_mismatches == 0

    def __str__(self) -> str:
        lines = [f"top-1: {self.images - self.top1_mismatches}/{self.images} identical to the "
                 f"float32 model ({self.tie_mismatches} of the mismatches are integer-score ties)"]
        if self.real_mismatches is not None:
            lines.append(f"against the {self.reference} reference: {self.real_mismatches} real "
                         f"mismatches; {self.near_ties} float32 near-ties (float32 model wrong, "
                         "compiled graph == exact reference)")
        else:
            lines.append(f"no exact reference ({self.reference}): every mismatch counts")
        if self.torch_accuracy is not None:
            lines.append(f"accuracy: brevitas {self.torch_accuracy:.4f}, hw {self.hw_accuracy:.4f}")
        if self.first_mismatch:
            lines.append(f"first top-1 mismatch: {self.first_mismatch}")
        compared = [c for c in self.layers]
        lines.append(f"layers: {len(compared)} boundaries compared on "
                     f"{compared[0].images if compared else 0} images, "
                     f"{self.layer_mismatches} mismatching elements, "
                 f"{sum(c.near_ties for c in compared)} float32 near-ties")
        bad = self.first_layer_mismatch
        if bad is not None:
            lines.append(f"first layer mismatch: layer {bad.layer!r} ({bad.kind}), image "
                         f"{bad.first_mismatch[0]}, index {bad.first_mismatch[1]}")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError`` with the summary unless :attr:`ok`."""
        if not self.ok:
            raise AssertionError(f"verification failed:\n{self}")


def torch_top1(model, images_uint8_nchw: np.ndarray, batch_size: int = 256,
               dtype=None) -> np.ndarray:
    """Top-1 of the model in eval mode (restores the previous mode).

    Args:
        dtype: ``torch.float64`` evaluates a float64 copy of the model (the exact-arithmetic
            reference); default float32, the model as it is.
    """
    import copy

    import torch

    from pynq_bnn.zoo import to_model_input

    if dtype is not None:
        model = copy.deepcopy(model).to(dtype)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(images_uint8_nchw), batch_size):
                x = to_model_input(images_uint8_nchw[start:start + batch_size])
                out.append(model(x if dtype is None else x.to(dtype)).argmax(1).numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _near_boundary(streamlined, tensor: str, context: dict) -> np.ndarray | None:
    """Per element of ``tensor`` (NCHW): True where the float input of the quantizer producing
    it lies within float32 noise of the quantizer's decision boundary; None when its producer is
    no float quantizer (integer thresholds have no near-ties)."""
    from pynq_bnn.compiler.ir import producer

    node = producer(streamlined, tensor)
    if node is None or node.op_type not in ("BipolarQuant", "Quant"):
        return None
    x = np.asarray(context[node.input[0]], dtype=np.float64)
    noise = 1e-5 * max(float(np.abs(x).max()), 1e-30)  # ~100 ulps of the largest input
    if node.op_type == "BipolarQuant":
        return np.abs(x) <= noise
    scale = float(np.asarray(streamlined.get_initializer(node.input[1])).reshape(-1)[0])
    frac = x / scale
    return np.abs(np.abs(frac - np.floor(frac)) - 0.5) * scale <= noise


def _layer_scale(graph, layer) -> float:
    """The scale of a scaled stream (value = integer * scale), recorded by the lowering."""
    return float((graph.meta.get("stream_scales") or {}).get(layer.output, 1.0))
def _qonnx_tensor(graph, layer) -> str | None:
    """The QONNX tensor a layer's output stream carries (scaled streams end in ``_int``)."""
    tensors = graph.meta.get("stream_tensors") or {}
    return tensors.get(layer.output, layer.output)


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
    tainted = np.zeros(len(contexts), dtype=bool)  # a near-tie flipped an earlier layer
    for layer in graph.layers:
        tensor = _qonnx_tensor(graph, layer)
        if tensor is None or tensor not in contexts[0]:
            continue  # internal stream (sliding window, label select)
        qonnx = np.stack([ctx[tensor][0] for ctx in contexts])
        near = [_near_boundary(streamlined, tensor, ctx) for ctx in contexts]
        if qonnx.ndim == 4:
            qonnx = qonnx.transpose(0, 2, 3, 1)
        hw = decode_values(hw_tensors[layer.output][: len(contexts)], layer.out_type())
        qonnx = qonnx.reshape(hw.shape) / _layer_scale(graph, layer)
        wrong = hw != np.round(qonnx).astype(np.int64)
        wrong[tainted] = False
        ties = np.zeros_like(wrong)
        if near[0] is not None:
            flags = np.stack([n[0] for n in near])
            if flags.ndim == 4:
                flags = flags.transpose(0, 2, 3, 1)
            ties = wrong & flags.reshape(wrong.shape)
        diff = np.argwhere(wrong & ~ties)
        first = None
        if len(diff):
            first = (int(diff[0][0]), tuple(int(i) for i in diff[0][1:]))
        checks.append(LayerCheck(layer.name, layer.kind, layer.output, len(contexts), len(diff),
                                 first, int(ties.sum()), int(tainted.sum())))
        tainted |= ties.reshape(len(contexts), -1).any(axis=1)
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
    try:
        import torch

        exact = torch_top1(model_torch, images, dtype=torch.float64)
        reference_name = "float64"
    except Exception as err:  # noqa: BLE001 - a model that cannot run in float64: say so
        exact, reference_name = None, f"float64 run failed: {type(err).__name__}: {err}"
    nhwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    hw_all = execute(graph, nhwc, return_all=True)
    hw = hw_all[graph.output_name][:, 0].astype(np.int64)
    bad = np.nonzero(hw != reference)[0]
    report = VerificationReport(images=len(images), top1_mismatches=int(len(bad)),
                                reference=reference_name)
    if exact is not None:
        real = np.nonzero(hw != exact)[0]
        report.real_mismatches = int(len(real))
        report.near_ties = int(np.sum((hw != reference) & (hw == exact)))
    last = graph.producer(graph.output_name)
    scores = hw_all.get(last.inputs[0]) if last is not None else None
    if len(bad):
        i = int(bad[0])
        report.first_mismatch = {"image": i, "brevitas": int(reference[i]), "hw": int(hw[i])}
        if exact is not None:
            report.first_mismatch["brevitas_float64"] = int(exact[i])
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
