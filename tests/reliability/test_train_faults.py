# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Faults while training and writing checkpoints: a non-finite loss, a full disk, ``kill -9``
mid-write — the last good checkpoint survives, the error is one line, no temporary is left; and
the files written get the umask's permissions."""
import errno
import os
import stat

import numpy as np
import pytest
import torch

from pynq_bnn.checkpoint import load_model, save_checkpoint
from pynq_bnn.data import ImageSet
from pynq_bnn.utils.fsutil import current_umask

from .conftest import assert_clear_error, call, kill_self, run_killed, tiny_lfc


def _synthetic(name, split, data_dir=None, **kw):
    rng = np.random.default_rng(0 if split == "train" else 1)
    count = 64 if split == "train" else 32
    return ImageSet(rng.integers(0, 256, (count, 1, 28, 28), dtype=np.uint8),
                    rng.integers(0, 10, count).astype(np.uint8), tuple("0123456789"),
                    f"synthetic/{split}")


@pytest.fixture
def train_cli(monkeypatch, tmp_path):
    """The train CLI on 64 synthetic MNIST-shaped images (2 epochs of 2 batches)."""
    from pynq_bnn.train.__main__ import main

    monkeypatch.setattr("pynq_bnn.data.load_dataset", _synthetic)
    argv = ["--model", "lfc", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m.pt"),
            "--epochs", "2", "--batch-size", "32", "--val-count", "0", "--no-progress",
            "--model-option", "hidden=[32,32]"]
    return lambda *extra: call(main, argv + list(extra))


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(train_cli, tmp_path, capsys,
                                                              monkeypatch):
    import torch.nn.functional as F

    import pynq_bnn.train.api as api

    real_epoch, real_loss, calls = api.train_one_epoch, F.cross_entropy, []

    def epoch(*args, **kwargs):
        calls.append(1)
        return real_epoch(*args, **kwargs)

    def loss(*args, **kwargs):  # the second epoch diverges
        value = real_loss(*args, **kwargs)
        return value * float("nan") if len(calls) == 2 else value

    monkeypatch.setattr(api, "train_one_epoch", epoch)
    monkeypatch.setattr(F, "cross_entropy", loss)
    rc = train_cli()
    assert_clear_error(rc, capsys.readouterr().err, match="training stopped")
    model, ckpt = load_model(tmp_path / "m.pt")  # finite, loadable, from epoch 1
    assert ckpt["epoch"] == 1
    assert _temporaries(tmp_path) == []


def test_full_disk_during_training_keeps_previous_checkpoint(train_cli, tmp_path, capsys,
                                                             monkeypatch):
    real, saves = torch.save, []
    snapshot = {}

    def filling(obj, handle, *args, **kwargs):
        saves.append(1)
        if len(saves) == 3:  # epoch 2's checkpoint (epoch 1 wrote m.pt and m.best.pt)
            snapshot["m.pt"] = (tmp_path / "m.pt").read_bytes()
            handle.write(b"half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, handle, *args, **kwargs)

    monkeypatch.setattr(torch, "save", filling)
    rc = train_cli()
    assert_clear_error(rc, capsys.readouterr().err, code=1, match="no space left")
    assert (tmp_path / "m.pt").read_bytes() == snapshot["m.pt"]
    assert load_model(tmp_path / "m.pt")[1]["epoch"] == 1
    assert _temporaries(tmp_path) == []


def test_kill_mid_checkpoint_write_keeps_old_and_next_save_cleans(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pt", tiny_lfc(), metrics={}, epoch=1)
    before = path.read_bytes()

    def trigger():
        def half(obj, handle, *args, **kwargs):
            handle.write(b"PK\x03\x04 partial")
            handle.flush()
            kill_self()
        monkeypatch.setattr(torch, "save", half)

    run_killed(lambda: save_checkpoint(path, tiny_lfc(1), metrics={}, epoch=2), trigger)
    assert path.read_bytes() == before
    assert len(_temporaries(tmp_path)) == 1  # the killed writer's temporary ...
    save_checkpoint(path, tiny_lfc(2), metrics={}, epoch=3)
    assert _temporaries(tmp_path) == []  # ... is removed by the next write of the same file
    assert load_model(path)[1]["epoch"] == 3


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_checkpoint_mode_follows_umask(mask, tmp_path):
    old = os.umask(mask)
    try:
        path = save_checkpoint(tmp_path / "m.pt", tiny_lfc(), metrics={}, epoch=0)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_package_modes_follow_umask(golden):
    """Every file of a built package is readable by the board user (0644 with umask 022)."""
    mask = current_umask()
    package = golden / "lfc"
    for path in [package, *package.rglob("*")]:
        want = (0o777 if path.is_dir() else 0o666) & ~mask
        assert stat.S_IMODE(path.stat().st_mode) == want, path
