# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Evaluation CLI and report on a tiny checkpoint and real MNIST test images."""
import json

import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.checkpoint import save_checkpoint
from pynq_bnn.data import load_dataset
from pynq_bnn.eval import accuracy_report, evaluate_checkpoint, predict_logits
from pynq_bnn.eval.__main__ import main as eval_main


@pytest.fixture()
def tiny_checkpoint(tmp_path):
    model = zoo.build("lfc", hidden=(32, 32))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-3, 3)
    return save_checkpoint(tmp_path / "tiny.pt", model, metrics={"test_acc": 0.0}, epoch=1,
                           compact=True), model.eval()


def test_accuracy_report_counts():
    report = accuracy_report([0, 1, 2, 2, 1], [0, 1, 1, 2, 0], ["a", "b", "c"])
    assert report.correct == 3 and report.total == 5 and report.accuracy == 0.6
    assert report.confusion_matrix == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report.per_class_accuracy == {"a": 0.5, "b": 0.5, "c": 1.0}


def test_eval_cli_writes_json_and_png(tmp_path, data_dir, tiny_checkpoint, capsys):
    path, model = tiny_checkpoint
    rc = eval_main(["--checkpoint", str(path), "--data-dir", str(data_dir), "--limit", "300",
                    "--out", str(tmp_path / "report"), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0 and "on mnist test:" in out and "(" in out
    report = json.loads((tmp_path / "report" / "tiny.eval.json").read_text())
    assert (tmp_path / "report" / "tiny.confusion.png").read_bytes()[:4] == b"\x89PNG"
    test = load_dataset("mnist", "test", data_dir).subset(300)
    expected = predict_logits(model, test.images).argmax(1)
    assert report["correct"] == int((expected == test.labels).sum()) and report["total"] == 300
    matrix = np.array(report["confusion_matrix"])
    assert matrix.sum() == 300 and np.trace(matrix) == report["correct"]
    assert f"{100 * report['accuracy']:.2f}%" in out


def test_evaluate_checkpoint_api(data_dir, tiny_checkpoint):
    path, _ = tiny_checkpoint
    result = evaluate_checkpoint(path, data_dir=data_dir, limit=50)
    assert result["images"] == 50 and result["model"] == "lfc" and result["dataset"] == "mnist"
    assert "files" not in result


def test_eval_cli_clean_errors(tmp_path, data_dir, tiny_checkpoint, capsys):
    (tmp_path / "corrupt.pt").write_bytes(b"not a checkpoint")
    assert eval_main(["--checkpoint", str(tmp_path / "corrupt.pt"),
                      "--data-dir", str(data_dir)]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
    assert eval_main(["--checkpoint", str(tmp_path / "nope.pt"), "--data-dir", str(data_dir)]) == 2
    assert "not found" in capsys.readouterr().err
    assert eval_main(["--checkpoint", "no_such_shipped_model", "--data-dir", str(data_dir)]) == 2
    assert "no shipped checkpoint named" in capsys.readouterr().err
    path, _ = tiny_checkpoint
    assert eval_main(["--checkpoint", str(path), "--data-dir", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err
