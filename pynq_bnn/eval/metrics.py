# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Batched inference on uint8 images and the accuracy report (per class, confusion matrix).

Inference follows the model input contract: uint8 pixels ``p`` (N, C, H, W) are converted with
:func:`pynq_bnn.zoo.to_model_input` to ``p / 255`` batch by batch, and the model runs in eval mode
(BatchNorm with running statistics, no dropout) — exactly what is exported and deployed.
"""
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = ["predict_logits", "AccuracyReport", "accuracy_report"]


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: np.ndarray, *, batch_size: int = 500,
                   device="cpu", progress: bool = False, desc: str = "eval") -> np.ndarray:
    """Logits ``(N, num_classes)`` (float32 numpy) of ``model`` on uint8 ``images``.

    The model is put in eval mode (and left there).
    """
    from pynq_bnn import zoo

    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise zoo.ModelInputError("predict_logits expects uint8 images (N, C, H, W), got "
                                  f"{getattr(images, 'dtype', type(images))} "
                                  f"{getattr(images, 'shape', '')}")
    model.eval()
    starts = range(0, len(images), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=desc, unit="batch", leave=False)
    outputs = []
    for start in starts:
        x = zoo.to_model_input(images[start:start + batch_size]).to(device)
        outputs.append(model(x).float().cpu())
    if not outputs:
        return np.zeros((0, getattr(model, "num_classes", 0)), dtype=np.float32)
    return torch.cat(outputs).numpy()


@dataclass
class AccuracyReport:
    """Top-1 accuracy of a set of predictions.

    Attributes:
        accuracy: fraction of correct top-1 predictions.
        correct / total: counts.
        per_class_accuracy: ``{class_name: fraction}`` (NaN-free: classes absent from the labels
            are omitted).
        confusion_matrix: ``K×K`` counts, rows = true class, columns = predicted class.
        classes: class names.
    """

    accuracy: float
    correct: int
    total: int
    per_class_accuracy: dict
    confusion_matrix: list
    classes: list

    def to_dict(self) -> dict:
        return asdict(self)


def accuracy_report(predictions, labels, classes) -> AccuracyReport:
    """Build an :class:`AccuracyReport` from predicted and true class indices."""
    predictions = np.asarray(predictions, dtype=np.int64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.size} predictions for {labels.size} labels")
    k = len(classes)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    per_class = {str(classes[c]): float(matrix[c, c] / matrix[c].sum())
                 for c in range(k) if matrix[c].sum()}
    correct = int(np.trace(matrix))
    total = int(labels.size)
    return AccuracyReport(accuracy=correct / total if total else 0.0, correct=correct, total=total,
                          per_class_accuracy=per_class, confusion_matrix=matrix.tolist(),
                          classes=[str(c) for c in classes])
