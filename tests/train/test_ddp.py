# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""DDP smoke test: ``torchrun`` with 2 CPU processes on the gloo backend, tiny MNIST subset."""
import subprocess
import sys

import pytest

from pynq_bnn.checkpoint import load_checkpoint, load_model

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path, data_dir):
    out = tmp_path / "ddp" / "lfc.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "pynq_bnn.train", "--model", "lfc", "--data-dir", str(data_dir), "--epochs", "2",
           "--out", str(out), "--limit-train", "400", "--val-count", "100", "--limit-test", "200",
           "--batch-size", "50", "--model-option", "hidden=[64, 64]", "--device", "cpu",
           "--no-progress"]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("trained lfc for 2 epochs") == 1  # rank 0 reports, rank 1 is quiet
    ckpt = load_checkpoint(out)
    config = ckpt["train_config"]
    # each rank walks its half of the 400 images: 200 / 50 = 4 steps per epoch
    assert config["world_size"] == 2 and config["steps_per_epoch"] == 4
    assert [row["epoch"] for row in ckpt["history"]] == [1, 2]
    assert ckpt["history"][-1]["train_loss"] < ckpt["history"][0]["train_loss"]
    model, _ = load_model(out)  # saved from the unwrapped module: plain state-dict keys
    assert not any(key.startswith("module.") for key in model.state_dict())
