# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Hostile options of the train / eval / export CLIs: one clear error line, exit 2, before any
data is read or any epoch runs; nothing written."""
import pytest

from .conftest import assert_clear_error, call

TRAIN_CASES = [
    ("lr-inf", ["--lr", "inf"], "finite"),
    ("lr-nan", ["--lr", "nan"], "finite"),
    ("lr-negative", ["--lr", "-0.1"], "positive"),
    ("lr-zero", ["--lr", "0"], "positive"),
    ("epochs-zero", ["--epochs", "0"], "--epochs"),
    ("epochs-negative", ["--epochs", "-2"], "--epochs"),
    ("epochs-fraction", ["--epochs", "1.5"], "invalid int"),
    ("batch-size-zero", ["--batch-size", "0"], "--batch-size"),
    ("num-workers-negative", ["--num-workers", "-1"], "--num-workers"),
    ("device-tpu9", ["--device", "tpu9"], "unknown --device"),
    ("device-cuda-absent", ["--device", "cuda:7"], "--device"),
    ("limit-train-zero", ["--limit-train", "0"], "--limit-train"),
    ("limit-train-negative", ["--limit-train", "-5"], "--limit-train"),
    ("limit-test-zero", ["--limit-test", "0"], "--limit-test"),
    ("val-count-negative", ["--val-count", "-1"], "--val-count"),
    ("weight-decay-nan", ["--weight-decay", "nan"], "finite"),
    ("seed-negative", ["--seed", "-1"], "--seed"),
    ("compact-out-is-out", ["--compact-out", "{tmp}/m.pt"], "same file as --out"),
    ("compact-out-is-best", ["--compact-out", "{tmp}/m.best.pt"], "best file"),
    ("out-is-folder", ["--out", "{tmp}"], "is a folder"),
    ("out-parent-is-file", ["--out", "{tmp}/file/m.pt"], "is a file"),
    ("model-typo", ["--model", "lcf"], "did you mean 'lfc'"),
    ("model-traversal", ["--model", "../lfc"], "invalid model"),
    ("resume-missing", ["--resume", "{tmp}/none.pt"], "no such checkpoint"),
]


def _fix(argv, tmp):
    return [a.replace("{tmp}", str(tmp)) for a in argv]


@pytest.mark.parametrize("name,extra,match", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_hostile_train_option(name, extra, match, tmp_path, capsys, monkeypatch):
    from pynq_bnn.train.__main__ import main

    if name == "device-cuda-absent":
        import torch

        if torch.cuda.device_count() > 7:
            pytest.skip("this machine has 8 GPUs")
    (tmp_path / "file").write_text("x")
    argv = ["--model", "lfc", "--out", str(tmp_path / "m.pt"), "--data-dir",
            str(tmp_path / "no-data"), "--no-progress"]
    extra = _fix(extra, tmp_path)
    for i in range(0, len(extra), 2):  # an option given twice: the later one replaces it
        if extra[i] in argv:
            del argv[argv.index(extra[i]):argv.index(extra[i]) + 2]
    monkeypatch.setattr("pynq_bnn.data.load_dataset", _no_data)  # must never be reached
    rc = call(main, argv + extra)
    assert_clear_error(rc, capsys.readouterr().err, match=match)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def _no_data(*args, **kwargs):
    raise AssertionError("the dataset was read before the options were checked")


EVAL_CASES = [
    ("limit-zero", ["--limit", "0"], "--limit"),
    ("limit-negative", ["--limit", "-10"], "--limit"),
    ("batch-size-zero", ["--batch-size", "0"], "--batch-size"),
    ("device-tpu9", ["--device", "tpu9"], "unknown --device"),
    ("out-is-file", ["--out", "{tmp}/file"], "is a file"),
    ("checkpoint-unknown-name", ["--checkpoint", "lcf"], "did you mean 'lfc'"),
]


@pytest.mark.parametrize("name,extra,match", EVAL_CASES, ids=[c[0] for c in EVAL_CASES])
def test_hostile_eval_option(name, extra, match, tmp_path, tiny_ckpt, data_dir, capsys):
    from pynq_bnn.eval.__main__ import main

    (tmp_path / "file").write_text("x")
    argv = ["--checkpoint", str(tiny_ckpt), "--data-dir", str(data_dir), "--no-progress"]
    extra = _fix(extra, tmp_path)
    if "--checkpoint" in extra:
        argv = argv[2:]
    rc = call(main, argv + extra)
    assert_clear_error(rc, capsys.readouterr().err, match=match)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


EXPORT_CASES = [
    ("verify-images-negative", ["--verify-images", "-1"], "--verify-images"),
    ("batch-size-zero", ["--batch-size", "0"], "--batch-size"),
    ("out-is-folder", ["--out", "{tmp}"], "is a folder"),
    ("out-parent-is-file", ["--out", "{tmp}/file/m.onnx"], "is a file"),
    ("checkpoint-garbage", ["--checkpoint", "{tmp}/file"], "not a readable checkpoint"),
]


@pytest.mark.parametrize("name,extra,match", EXPORT_CASES, ids=[c[0] for c in EXPORT_CASES])
def test_hostile_export_option(name, extra, match, tmp_path, tiny_ckpt, data_dir, capsys):
    from pynq_bnn.export.__main__ import main

    (tmp_path / "file").write_text("x")
    argv = ["--checkpoint", str(tiny_ckpt), "--out", str(tmp_path / "m.onnx"), "--data-dir",
            str(data_dir), "--verify-images", "0"]
    extra = _fix(extra, tmp_path)
    for i in range(0, len(extra), 2):
        if extra[i] in argv:
            del argv[argv.index(extra[i]):argv.index(extra[i]) + 2]
    rc = call(main, argv + extra)
    assert_clear_error(rc, capsys.readouterr().err, match=match)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
