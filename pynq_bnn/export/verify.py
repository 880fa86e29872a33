# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Check an exported QONNX graph against the torch model, image by image.

Both run on the same uint8 images (as ``p / 255``); the check is that every image gets the same
top-1 class (the deployed network outputs only the class) and it reports the largest logit
difference (a float only remains in the final scale, so logits agree to float rounding).

Speed: qonnx's ``execute_onnx`` interprets the graph node by node (custom ops in numpy, each
standard op in its own onnxruntime session), which costs a roughly constant ~0.15–0.25 s per call
for LFC/CNV on a laptop core regardless of batch size. Verification is therefore *batched*:
:func:`batched_graph` rewrites a copy of the exported batch-1 graph to a batch of N — the batch
dimension of the graph input/output is set to N, ``Reshape`` shape constants whose leading entry
is the batch (1) are set to N, the stale ``value_info`` is dropped and shapes are re-inferred —
so one call evaluates N images. The rewrite is checked (output shape) and a mismatch falls back to
one call per image. Use ``batch_size=1`` to run the untouched graph image by image.
"""
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from pynq_bnn.export.qonnx_export import EXPORT_INPUT_NAME, ExportError

__all__ = ["ExportVerification", "verify_export", "batched_graph", "run_qonnx"]

log = logging.getLogger(__name__)


@dataclass
class ExportVerification:
    """Result of :func:`verify_export`.

    Attributes:
        images: number of images compared.
        agreeing: images with identical top-1 in torch and QONNX.
        mismatches: ``[{"index", "torch_top1", "qonnx_top1", "label", "near_tie"}]`` for every
            disagreement; ``near_tie`` marks images whose two best torch logits differ by less than
            1e-5 of the logit range (a tie of the integer accumulators broken by float rounding).
        max_abs_logit_diff: largest |torch − QONNX| logit over all images.
        torch_accuracy / qonnx_accuracy: top-1 accuracies when labels were given (else None).
        seconds: wall time of the QONNX execution; ``batch_size``: images per qonnx call.
    """

    images: int
    agreeing: int
    mismatches: list = field(default_factory=list)
    max_abs_logit_diff: float = 0.0
    torch_accuracy: float = None
    qonnx_accuracy: float = None
    seconds: float = 0.0
    batch_size: int = 1

    @property
    def ok(self) -> bool:
        return self.agreeing == self.images

    def summary(self) -> str:
        acc = ""
        if self.torch_accuracy is not None:
            acc = (f"; accuracy torch {100 * self.torch_accuracy:.2f}% / "
                   f"qonnx {100 * self.qonnx_accuracy:.2f}%")
        return (f"{self.agreeing}/{self.images} images agree on top-1, max |logit diff| "
                f"{self.max_abs_logit_diff:.3g}{acc} (qonnx {self.seconds:.1f} s, batch "
                f"{self.batch_size})")

    def raise_if_failed(self) -> None:
        """Raise :class:`ExportError` listing the disagreeing images."""
        if not self.ok:
            shown = ", ".join(f"#{m['index']} torch {m['torch_top1']} vs qonnx {m['qonnx_top1']}"
                              for m in self.mismatches[:20])
            raise ExportError(f"export verification failed: {self.summary()}; differing images: "
                              f"{shown}{' ...' if len(self.mismatches) > 20 else ''}")


def batched_graph(model_wrapper, batch: int):
    """A copy of a batch-1 QONNX ``ModelWrapper`` rewritten to batch size ``batch``."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes

    proto = type(model_wrapper.model)()
    proto.CopyFrom(model_wrapper.model)
    wrapper = ModelWrapper(proto)
    graph = wrapper.graph
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if not dims or dims[0].dim_value != 1:
            raise ExportError(f"graph tensor {value.name} has no batch dimension of 1")
        dims[0].dim_value = batch
    for node in graph.node:
        if node.op_type == "Reshape":
            shape = wrapper.get_initializer(node.input[1])
            if shape is not None and shape.size and shape[0] == 1:
                shape = shape.copy()
                shape[0] = batch
                wrapper.set_initializer(node.input[1], shape)
    del graph.value_info[:]
    return wrapper.transform(InferShapes())


def run_qonnx(model_wrapper, x: np.ndarray) -> np.ndarray:
    """Execute a QONNX graph on float input ``x`` with qonnx ``execute_onnx``; returns logits."""
    from qonnx.core.onnx_exec import execute_onnx

    out_name = model_wrapper.graph.output[0].name
    return np.asarray(execute_onnx(model_wrapper, {EXPORT_INPUT_NAME: x})[out_name])


def _qonnx_logits(model_wrapper, x: np.ndarray, batch_size: int) -> np.ndarray:
    outputs, graphs = [], {}
    for start in range(0, len(x), batch_size):
        chunk = x[start:start + batch_size]
        if len(chunk) == 1:
            outputs.append(run_qonnx(model_wrapper, chunk))
            continue
        try:
            if len(chunk) not in graphs:
                graphs[len(chunk)] = batched_graph(model_wrapper, len(chunk))
            out = run_qonnx(graphs[len(chunk)], chunk)
            if out.shape[0] != len(chunk):
                raise ExportError(f"batched graph returned shape {out.shape}")
        except Exception as err:  # fall back to the untouched graph, image by image
            log.warning("batched qonnx execution failed (%s); running image by image", err)
            out = np.concatenate([run_qonnx(model_wrapper, chunk[i:i + 1])
                                  for i in range(len(chunk))])
        outputs.append(out)
    return np.concatenate(outputs).reshape(len(x), -1)


def verify_export(model, model_wrapper, images_uint8, labels=None, *,
                  batch_size: int = 100) -> ExportVerification:
    """Compare torch and QONNX top-1 on ``images_uint8`` (N, C, H, W) image by image.

    Args:
        model: the torch model that was exported (run in eval mode).
        model_wrapper: the exported qonnx ``ModelWrapper`` (batch size 1).
        images_uint8: uint8 images.
        labels: optional labels (accuracies are then reported too).
        batch_size: images per qonnx call (see module docstring; 1 = untouched graph).

    Returns:
        :class:`ExportVerification` (call ``raise_if_failed()`` to turn a mismatch into an error).
    """
    from pynq_bnn import zoo
    from pynq_bnn.eval.metrics import predict_logits

    images = np.asarray(images_uint8)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise zoo.ModelInputError(f"verify_export expects uint8 images (N, C, H, W), got "
                                  f"{images.dtype} {images.shape}")
    device = next(model.parameters()).device
    torch_logits = predict_logits(model, images, device=device)
    x = zoo.to_model_input(images).numpy()
    start = time.perf_counter()
    qonnx_logits = _qonnx_logits(model_wrapper, x, max(1, batch_size))
    seconds = time.perf_counter() - start
    torch_top1, qonnx_top1 = torch_logits.argmax(1), qonnx_logits.argmax(1)
    differ = np.flatnonzero(torch_top1 != qonnx_top1)
    labels = None if labels is None else np.asarray(labels).astype(np.int64)
    top2 = np.sort(torch_logits, axis=1)[:, -2:] if torch_logits.shape[1] > 1 else None
    spread = np.abs(torch_logits).max(initial=0.0)
    mismatches = [{"index": int(i), "torch_top1": int(torch_top1[i]),
                   "qonnx_top1": int(qonnx_top1[i]),
                   "label": None if labels is None else int(labels[i]),
                   "near_tie": bool(top2 is not None and top2[i, 1] - top2[i, 0] <= 1e-5 * spread)}
                  for i in differ]
    report = ExportVerification(
        images=len(images), agreeing=len(images) - len(differ), mismatches=mismatches,
        max_abs_logit_diff=float(np.abs(torch_logits - qonnx_logits).max()) if len(images) else 0.0,
        seconds=seconds, batch_size=batch_size)
    if labels is not None and len(images):
        report.torch_accuracy = float((torch_top1 == labels).mean())
        report.qonnx_accuracy = float((qonnx_top1 == labels).mean())
    return report
