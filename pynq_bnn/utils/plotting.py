# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""PNG plots for training curves and confusion matrices, written atomically.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas directly, so the
global pyplot backend is never touched (safe in notebooks, headless servers and tests).
"""
import io

import numpy as np

from pynq_bnn.utils.atomic import atomic_write_bytes

__all__ = ["plot_training_curves", "plot_confusion_matrix"]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())


def plot_training_curves(history: list, path, *, title: str = "") -> None:
    """Plot loss (left) and accuracy (right) per epoch from a training history.

    Args:
        history: list of per-epoch dicts with ``epoch`` and any of ``train_loss``, ``val_loss``,
            ``train_acc``, ``val_acc``, ``test_acc`` (accuracies as fractions in [0, 1]).
        path: PNG file to write.
        title: figure title.
    """
    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for key in ("train_loss", "val_loss"):
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            ax_loss.plot(epochs, [np.nan if v is None else v for v in values], marker="o",
                         label=key)
    for key in ("train_acc", "val_acc", "test_acc"):
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            ax_acc.plot(epochs, [np.nan if v is None else 100 * v for v in values], marker="o",
                        label=key)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
    if title:
        fig.suptitle(title)
    _save(fig, path)


def plot_confusion_matrix(matrix, classes, path, *, title: str = "") -> None:
    """Plot a confusion matrix (rows: true class, columns: predicted class) with counts.

    Args:
        matrix: (K, K) integer counts.
        classes: K class names.
        path: PNG file to write.
        title: figure title.
    """
    matrix = np.asarray(matrix)
    fig = _figure(7, 6)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(classes))
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    limit = matrix.max() / 2 if matrix.size else 0
    for row in range(matrix.shape[0]):
        for col in range(matrix.shape[1]):
            ax.text(col, row, str(matrix[row, col]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[row, col] > limit else "black")
    _save(fig, path)
