# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Evaluate a model or a checkpoint on a test set and write the report files.

Files written into ``out_dir`` (atomically): ``<name>.eval.json`` (checkpoint, dataset, accuracy,
per-class accuracy, confusion matrix) and ``<name>.confusion.png``.
"""
import logging
from pathlib import Path

from pynq_bnn.eval.metrics import AccuracyReport, accuracy_report, predict_logits
from pynq_bnn.utils.atomic import atomic_write_json

__all__ = ["evaluate_model", "evaluate_checkpoint"]

log = logging.getLogger(__name__)


def evaluate_model(model, imageset, *, batch_size: int = 500, device="cpu",
                   progress: bool = False) -> AccuracyReport:
    """Top-1 :class:`AccuracyReport` of ``model`` (eval mode) on an ImageSet."""
    model.to(device)
    logits = predict_logits(model, imageset.images, batch_size=batch_size, device=device,
                            progress=progress)
    return accuracy_report(logits.argmax(1), imageset.labels, imageset.classes)


def evaluate_checkpoint(checkpoint, *, data_dir=None, limit: int = None, out_dir=None,
                        batch_size: int = 500, device="cpu", progress: bool = False) -> dict:
    """Load a checkpoint (path or shipped name), evaluate it on its dataset's test split.

    Args:
        checkpoint: checkpoint path, or a shipped model name resolved by
            :func:`pynq_bnn.checkpoint.pretrained_path`.
        data_dir: dataset folder (default ``$PYNQ_BNN_DATA``).
        limit: evaluate the first N test images only.
        out_dir: write ``<name>.eval.json`` and ``<name>.confusion.png`` there.

    Returns:
        The report dict (as written to JSON), with ``files`` listing what was written.
    """
    from pynq_bnn.checkpoint import load_model, resolve_checkpoint
    from pynq_bnn.data import load_dataset

    path = resolve_checkpoint(checkpoint)
    model, ckpt = load_model(path, map_location=device)
    dataset = ckpt["config"].get("dataset")
    test_set = load_dataset(dataset, "test", data_dir)
    if limit is not None:
        test_set = test_set.subset(limit)
    report = evaluate_model(model, test_set, batch_size=batch_size, device=device,
                            progress=progress)
    result = {"checkpoint": str(path), "model": ckpt["config"].get("name"), "dataset": dataset,
              "images": len(test_set), "epoch": ckpt["epoch"],
              "checkpoint_metrics": ckpt["metrics"], **report.to_dict()}
    if out_dir is not None:
        from pynq_bnn.utils.plotting import plot_confusion_matrix

        out_dir = Path(out_dir)
        stem = Path(path).name.removesuffix(".pt")
        files = {"json": str(out_dir / f"{stem}.eval.json"),
                 "confusion_png": str(out_dir / f"{stem}.confusion.png")}
        result["files"] = files
        atomic_write_json(files["json"], result)
        plot_confusion_matrix(report.confusion_matrix, report.classes, files["confusion_png"],
                              title=f"{result['model']} on {dataset} test "
                                    f"({100 * report.accuracy:.2f}%)")
    return result
