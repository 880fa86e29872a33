# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Training API and CLI on tiny subsets of real MNIST: files, curves, compact output, resume."""
import json

import pytest
import torch

from pynq_bnn.checkpoint import CheckpointError, load_checkpoint, load_model
from pynq_bnn.data import load_dataset
from pynq_bnn.train import TrainConfig, resolve_config, train
from pynq_bnn.train import api as train_api
from pynq_bnn.train.__main__ import main as train_main

TINY = {"hidden": [64, 64], "dropout": 0.0}


@pytest.fixture(scope="module")
def mnist(data_dir):
    return load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)


def test_dataset_defaults_fill_only_missing_options():
    config = resolve_config(TrainConfig(epochs=2, lr=5e-3), "cifar10")
    assert config.lr == 5e-3 and config.augment is True and config.optimizer == "adam"
    assert resolve_config(TrainConfig(), "mnist").augment is False
    with pytest.raises(ValueError, match="optimizer"):
        resolve_config(TrainConfig(optimizer="lamb"), "mnist")
    with pytest.raises(ValueError, match="dataset"):
        resolve_config(TrainConfig(), "imagenet")


def test_unknown_option_is_rejected(mnist):
    with pytest.raises(TypeError, match="unknown training options"):
        train("lfc", mnist[0], epochs=1, learning_rate=0.1)


def test_cli_writes_checkpoint_curves_and_compact(tmp_path, data_dir, capsys):
    out = tmp_path / "run" / "lfc.pt"
    rc = train_main(["--model", "lfc", "--data-dir", str(data_dir), "--epochs", "1",
                     "--out", str(out), "--compact-out", str(tmp_path / "lfc.compact.pt"),
                     "--limit-train", "300", "--val-count", "100", "--limit-test", "200",
                     "--batch-size", "50", "--model-option", "hidden=[64, 64]", "--no-progress"])
    assert rc == 0
    assert "trained lfc for 1 epochs" in capsys.readouterr().out
    for name in ("lfc.pt", "lfc.best.pt", "lfc.history.json", "lfc.curves.png"):
        assert (out.parent / name).is_file(), name
    assert (out.parent / "lfc.curves.png").read_bytes()[:4] == b"\x89PNG"
    history = json.loads((out.parent / "lfc.history.json").read_text())
    assert len(history) == 1
    assert {"train_loss", "train_acc", "val_acc", "test_acc"} <= set(history[0])
    ckpt = load_checkpoint(out)
    assert ckpt["epoch"] == 1 and ckpt["config"]["hidden"] == [64, 64]
    assert ckpt["train_config"]["train_images"] == 300
    assert ckpt["train_config"]["steps_per_epoch"] == 6
    assert {"optimizer", "scheduler", "history"} <= set(ckpt)
    full, _ = load_model(out)
    compact, compact_ckpt = load_model(tmp_path / "lfc.compact.pt")
    assert compact_ckpt["compact"] and "optimizer" not in compact_ckpt
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(full(x), compact(x))
    # resume: one more epoch on top of the first (same options, --epochs raised to 2)
    rc = train_main(["--model", "lfc", "--data-dir", str(data_dir), "--epochs", "2",
                     "--out", str(out), "--resume", str(out), "--limit-train", "300",
                     "--val-count", "100", "--limit-test", "200", "--batch-size", "50",
                     "--no-progress"])
    assert rc == 0
    resumed = load_checkpoint(out)
    assert resumed["epoch"] == 2 and [row["epoch"] for row in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == ckpt["history"][0]
    assert len(json.loads((out.parent / "lfc.history.json").read_text())) == 2


def test_cli_reports_clean_errors(tmp_path, data_dir, capsys):
    assert train_main(["--model", "lfc", "--data-dir", str(tmp_path / "absent"), "--epochs", "1",
                       "--out", str(tmp_path / "x.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert train_main(["--model", "nonet", "--data-dir", str(data_dir), "--out", "x.pt"]) == 2
    assert "unknown model 'nonet'" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_bytes(b"junk")
    assert train_main(["--model", "lfc", "--data-dir", str(data_dir), "--out", "x.pt",
                       "--resume", str(tmp_path / "bad.pt")]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err


@pytest.mark.slow
def test_training_learns_on_a_small_subset(mnist):
    train_set, test_set = mnist
    result = train("lfc", train_set, test_set=test_set.subset(500), epochs=2, val_count=0,
                   limit_train=1000, batch_size=50, lr=5e-3, model_options=TINY, progress=False)
    assert result.metrics["test_acc"] > 0.6  # chance is 0.1
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert result.history[1]["lr"] < result.history[0]["lr"]  # cosine decay


@pytest.mark.slow
def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, mnist, monkeypatch):
    train_set = mnist[0]
    options = dict(epochs=2, val_count=100, limit_train=200, batch_size=50, model_options=TINY,
                   progress=False, seed=3)
    full = train("lfc", train_set, out=tmp_path / "full.pt", **options)

    real_epoch, calls = train_api.train_one_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash in epoch 2")
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train_api, "train_one_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train("lfc", train_set, out=tmp_path / "crash.pt", **options)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "crash.pt")["epoch"] == 1
    resumed = train("lfc", train_set, out=tmp_path / "crash.pt", resume=tmp_path / "crash.pt",
                    **options)
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    for key, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert resumed.history[-1]["train_loss"] == full.history[-1]["train_loss"]


def test_resume_refuses_compact_checkpoints(tmp_path, mnist):
    train("lfc", mnist[0], epochs=1, val_count=0, limit_train=100, batch_size=50,
          model_options=TINY, progress=False, compact_out=tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="compact"):
        train("lfc", mnist[0], epochs=2, resume=tmp_path / "c.pt", progress=False)


def test_shipping_records_training_hours(tmp_path):
    from pynq_bnn import zoo
    from pynq_bnn.checkpoint import save_checkpoint, ship_checkpoint

    model = zoo.build("lfc", **TINY)
    save_checkpoint(tmp_path / "c.pt", model, metrics={"test_acc": 0.5}, epoch=3, compact=True)
    entry = ship_checkpoint(tmp_path / "c.pt", "tiny", command="python -m pynq_bnn.train ...",
                            pretrained_dir=tmp_path / "shipped", hours=1.234)
    assert entry["hours"] == 1.23 and entry["epochs"] == 3
    plain = ship_checkpoint(tmp_path / "c.pt", "tiny", command="x",
                            pretrained_dir=tmp_path / "shipped")
    assert "hours" not in plain
