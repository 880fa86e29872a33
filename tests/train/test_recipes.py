# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Recipe presets, the squared hinge and distributional (KD) losses, FracBNN's two-step run."""
import math

import pytest
import torch
import torch.nn.functional as F

from pynq_bnn import zoo
from pynq_bnn.checkpoint import save_checkpoint
from pynq_bnn.data import load_dataset
from pynq_bnn.train import TrainConfig, resolve_config, train
from pynq_bnn.train import api as train_api
from pynq_bnn.train.__main__ import main as train_main
from pynq_bnn.train.losses import distribution_loss, squared_hinge_loss
from pynq_bnn.train.loop import make_scheduler

TINY = {"hidden": [64], "dropout": 0.0}


@pytest.fixture(scope="module")
def mnist(data_dir):
    return load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)


def test_bnn_pynq_recipe_fills_only_missing_options():
    config = resolve_config(TrainConfig(recipe="bnn-pynq", epochs=5), "cifar10")
    assert (config.optimizer, config.lr, config.weight_decay, config.batch_size,
            config.schedule, config.loss, config.augment) == \
        ("adam", 0.02, 0.0, 100, "halve40", "sqr_hinge", True)
    explicit = resolve_config(TrainConfig(recipe="bnn-pynq", schedule="cosine", lr=1e-3),
                              "mnist")
    assert explicit.schedule == "cosine" and explicit.lr == 1e-3 and explicit.augment is False
    assert resolve_config(TrainConfig(), "cifar10").loss == "ce"  # no recipe: unchanged


def test_fracbnn_recipe_splits_the_run_in_two_steps():
    config = resolve_config(TrainConfig(recipe="fracbnn", epochs=10), "cifar10")
    assert (config.real_weight_epochs, config.lr, config.weight_decay,
            config.final_weight_decay, config.schedule) == (5, 1e-3, 1e-5, 0.0, "linear")
    with pytest.raises(ValueError, match="not 'mnist'"):
        resolve_config(TrainConfig(recipe="fracbnn"), "mnist")
    with pytest.raises(ValueError, match="unknown recipe"):
        resolve_config(TrainConfig(recipe="nope"), "mnist")
    with pytest.raises(ValueError, match="real_weight_epochs"):
        resolve_config(TrainConfig(epochs=3, real_weight_epochs=3), "mnist")


def test_two_phase_schedule_restarts_at_the_switch():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1.0)
    config = resolve_config(TrainConfig(epochs=4, real_weight_epochs=2, schedule="linear"),
                            "mnist")
    scheduler = make_scheduler(optimizer, config, steps_per_epoch=10)
    factors = [scheduler.lr_lambdas[0](step) for step in (0, 10, 19, 20, 30, 39)]
    assert factors == pytest.approx([1.0, 0.5, 0.05, 1.0, 0.5, 0.05])


def test_squared_hinge_loss_matches_its_definition():
    logits = torch.tensor([[2.0, -1.0, 0.0], [0.5, 0.0, 3.0]])
    labels = torch.tensor([0, 1])
    # targets [+1,-1,-1], [-1,+1,-1]: hinge terms (0,0,1) and (1.5,1,4)
    expected = (0 + 0 + 1 + 1.5 ** 2 + 1 + 4 ** 2) / 6
    assert float(squared_hinge_loss(logits, labels)) == pytest.approx(expected)


def test_distribution_loss_is_kl_from_teacher_to_student():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 10, requires_grad=True), torch.randn(4, 10)
    p_t = F.softmax(teacher, 1)
    expected = float((p_t * (p_t.log() - F.log_softmax(student, 1))).sum(1).mean())
    loss = distribution_loss(student, teacher)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(distribution_loss(teacher, teacher)) == pytest.approx(0.0, abs=1e-6)
    loss.backward()  # the gradient moves the student's distribution towards the teacher's
    with torch.no_grad():
        moved = student - 1.0 * student.grad
    assert float(distribution_loss(moved, teacher)) < float(loss)


def test_two_step_training_switches_weights_decay_and_optimizer(mnist, monkeypatch):
    seen = []
    real_epoch = train_api.train_one_epoch

    def spy(net, loader, optimizer, scheduler, **kwargs):
        layers = [m for m in net.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)
                  and hasattr(m, "weight_quant")]
        seen.append({"real": [m.weight_quant.disable_quant for m in layers],
                     "decay": [g["weight_decay"] for g in optimizer.param_groups],
                     "state": len(optimizer.state), "lr": optimizer.param_groups[0]["lr"]})
        return real_epoch(net, loader, optimizer, scheduler, **kwargs)

    monkeypatch.setattr(train_api, "train_one_epoch", spy)
    result = train("lfc", mnist[0], epochs=2, real_weight_epochs=1, weight_decay=1e-5,
                   final_weight_decay=0.0, schedule="linear", val_count=50, limit_train=100,
                   batch_size=50, fast=False, model_options=TINY, progress=False)
    first, second = seen
    assert all(first["real"]) and not any(second["real"])
    assert first["decay"] == [0.0, 1e-5] and second["decay"] == [0.0, 0.0]  # latent weights
    assert second["state"] == 0  # a fresh Adam for step 2
    assert first["lr"] == second["lr"]  # the schedule restarted
    assert result.history[0].get("real_weights") and "real_weights" not in result.history[1]
    assert result.metrics["epoch"] == 2
    # after the run every binary layer quantizes again (what is exported and shipped)
    layer = result.model.features[1]
    assert layer.quant_weight().value.abs().unique().numel() == 1  # ±scale only


def test_real_weight_mode_changes_the_forward():
    from pynq_bnn.train.loop import set_binary_weights
    from pynq_bnn.utils.modules import binary_weight_modules

    torch.manual_seed(0)
    model = zoo.build("lfc", **TINY).eval()
    layers = list(binary_weight_modules(model).values())
    x = torch.rand(4, 1, 28, 28)
    binary = model(x)
    set_binary_weights(layers, False)
    real = model(x)
    set_binary_weights(layers, True)
    assert not torch.equal(binary, real) and torch.equal(binary, model(x))


def test_cli_trains_with_a_teacher_checkpoint(tmp_path, data_dir, monkeypatch):
    torch.manual_seed(0)
    teacher = zoo.build("lfc", **TINY)
    save_checkpoint(tmp_path / "teacher.pt", teacher, metrics={}, epoch=0)
    used = []
    real_loss = train_api.train_one_epoch

    def spy(*args, **kwargs):
        used.append(kwargs.get("teacher"))
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train_api, "train_one_epoch", spy)
    rc = train_main(["--model", "lfc", "--data-dir", str(data_dir), "--epochs", "1",
                     "--out", str(tmp_path / "s.pt"), "--teacher", str(tmp_path / "teacher.pt"),
                     "--limit-train", "100", "--val-count", "50", "--limit-test", "50",
                     "--batch-size", "50", "--model-option", "hidden=[64]", "--no-fast",
                     "--no-progress"])
    assert rc == 0 and used[0] is not None and not used[0].training
    assert not any(p.requires_grad for p in used[0].parameters())
    assert math.isfinite(torch.load(tmp_path / "s.pt", weights_only=True)["history"][0]
                         ["train_loss"])
