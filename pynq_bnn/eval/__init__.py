# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Evaluation of checkpoints: accuracy, per-class accuracy, confusion matrix.

CLI: ``python -m pynq_bnn.eval --checkpoint lfc.pt --data-dir D [--limit N] [--out DIR]``; the
checkpoint may also be the name of a shipped model (``--checkpoint lfc``).

>>> from pynq_bnn.eval import accuracy_report
>>> accuracy_report([0, 1, 1], [0, 1, 0], ["a", "b"]).accuracy
0.6666666666666666
"""
from pynq_bnn.eval.evaluate import evaluate_checkpoint, evaluate_model
from pynq_bnn.eval.metrics import AccuracyReport, accuracy_report, predict_logits

__all__ = ["evaluate_checkpoint", "evaluate_model", "AccuracyReport", "accuracy_report",
           "predict_logits"]
