# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Bit-identical resume (RNG states), the fast path (compile + bf16) and the evaluation plan."""
import numpy as np
import pytest
import torch

from pynq_bnn.checkpoint import load_checkpoint
from pynq_bnn.data import load_dataset
from pynq_bnn.eval.metrics import predict_logits
from pynq_bnn.train import TrainConfig, train
from pynq_bnn.train import api as train_api
from pynq_bnn.train import fast as fast_mod
from pynq_bnn.train.loop import fast_predict_logits, make_scheduler

# dropout > 0: its masks come from torch's global generator, which resume must restore
DROPOUT = {"hidden": [64, 64], "dropout": 0.3}


@pytest.fixture(scope="module")
def mnist(data_dir):
    return load_dataset("mnist", "train", data_dir), load_dataset("mnist", "test", data_dir)


def test_resume_with_dropout_is_bit_identical(tmp_path, mnist, monkeypatch):
    options = dict(epochs=2, val_count=50, limit_train=150, batch_size=50, fast=False,
                   model_options=DROPOUT, progress=False, seed=5)
    full = train("lfc", mnist[0], out=tmp_path / "full.pt", **options)
    real_epoch, calls = train_api.train_one_epoch, []

    def crash_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated crash in epoch 2")
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train_api, "train_one_epoch", crash_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train("lfc", mnist[0], out=tmp_path / "crash.pt", **options)
    monkeypatch.undo()
    assert "rng_state" in load_checkpoint(tmp_path / "crash.pt")
    torch.manual_seed(1234)  # whatever the process did in between must not matter
    resumed = train("lfc", mnist[0], out=tmp_path / "crash.pt", resume=tmp_path / "crash.pt",
                    **options)
    for key, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]


def test_halve40_schedule_is_fixed_by_epochs():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=0.02)
    config = TrainConfig(epochs=100, schedule="halve40")
    scheduler = make_scheduler(optimizer, config, steps_per_epoch=3)
    lrs = []
    for _ in range(100 * 3):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == lrs[40 * 3 - 1] == 0.02  # epochs 1..40
    assert lrs[40 * 3] == 0.01 and lrs[80 * 3] == 0.005


def test_validation_every_n_epochs_and_final_fp32_eager_eval(mnist, monkeypatch):
    """Fast path forced on (compile off to stay quick): the per-epoch validation uses it, the
    final validation and the single test evaluation do not."""
    made = []

    class CheapFast(fast_mod.FastForward):
        def __init__(self, model, device, **kwargs):
            super().__init__(model, device, compile=False, bf16=True)
            made.append(self)

    seen = []
    real_eval = train_api.evaluate_set

    def spy(model, imageset, **kwargs):
        seen.append((kwargs["desc"], kwargs.get("forward") is not None))
        return real_eval(model, imageset, **kwargs)

    monkeypatch.setattr(train_api, "FastForward", CheapFast)
    monkeypatch.setattr(train_api, "evaluate_set", spy)
    result = train("lfc", mnist[0], test_set=mnist[1].subset(100), epochs=4, eval_every=2,
                   val_count=100, limit_train=100, batch_size=50, fast=True,
                   model_options={"hidden": [64], "dropout": 0.0}, progress=False)
    assert made, "fast=True did not build the fast forward"
    # epoch 2: validation on the fast path; epoch 4 (last): val and test, fp32 eager
    assert seen == [("val", True), ("val", False), ("test", False)]
    assert [("val_acc" in r, "test_acc" in r) for r in result.history] == \
        [(False, False), (True, False), (False, False), (True, True)]
    assert result.metrics["final_eval"] == "fp32 eager"
    eager = predict_logits(result.model, mnist[1].subset(100).images).argmax(1)
    assert result.metrics["test_acc"] == float((eager == mnist[1].subset(100).labels).mean())


def test_auto_fast_path_needs_bf16_and_a_long_run(monkeypatch):
    monkeypatch.setattr(fast_mod, "bf16_supported", lambda device: True)
    assert fast_mod.fast_path_default("cpu", 10_000)
    assert not fast_mod.fast_path_default("cpu", fast_mod.MIN_STEPS_FOR_FAST - 1)
    assert not fast_mod.fast_path_default("cpu", 10_000, distributed=True)
    monkeypatch.setattr(fast_mod, "bf16_supported", lambda device: False)
    assert not fast_mod.fast_path_default("cpu", 10_000)
    assert fast_mod.default_num_threads() >= 1


@pytest.mark.slow  # compiling takes ~1 min on a loaded 2-core machine
@pytest.mark.skipif(not fast_mod.bf16_supported("cpu"), reason="no fast bf16 on this CPU")
def test_compiled_bf16_eval_matches_eager(mnist):
    """The compiled bf16 forward of a trained tiny model predicts like the fp32 eager one."""
    torch.manual_seed(0)
    result = train("lfc", mnist[0], epochs=1, val_count=0, limit_train=400, batch_size=100,
                   fast=False, model_options={"hidden": [64], "dropout": 0.0}, progress=False)
    model = result.model.eval()
    images = mnist[1].images[:300]
    eager = predict_logits(model, images, batch_size=128)
    fast = fast_predict_logits(model, fast_mod.FastForward(model, "cpu"), images,
                               batch_size=128)  # 300 = 2×128 + 44: the padded last batch
    assert fast.shape == eager.shape
    agree = float((fast.argmax(1) == eager.argmax(1)).mean())
    assert agree >= 0.97, agree
    assert float(np.abs(fast - eager).mean()) < 0.1 * float(np.abs(eager).mean())
