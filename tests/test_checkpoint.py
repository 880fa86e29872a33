# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Checkpoints: full and compact round trips, clear errors, atomic writes, shipped models."""
import hashlib
import json

import pytest
import torch

from pynq_bnn import checkpoint as ckpt_mod
from pynq_bnn import zoo
from pynq_bnn.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from pynq_bnn.utils.modules import binary_weight_keys


def small_lfc(**options):
    model = zoo.build("lfc", hidden=(64, 48), **options)
    with torch.no_grad():  # non-trivial BN statistics so outputs depend on every tensor
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-4, 4)
                module.running_var.uniform_(1, 9)
                module.weight.uniform_(-1, 1)
    return model.eval()


def mnist_like(n=16):
    return zoo.to_model_input(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8))


def test_binary_weight_keys_are_the_binary_layers():
    assert binary_weight_keys(small_lfc()) == ["features.1.weight", "features.5.weight",
                                               "classifier.weight"]
    keys = binary_weight_keys(zoo.build("cnv"))
    assert len(keys) == 6 + 2 + 1 and all(k.endswith(".weight") for k in keys)
    assert "input_quant.weight" not in keys


@pytest.mark.parametrize("compact", [False, True])
def test_round_trip_gives_identical_outputs(tmp_path, compact):
    model, x = small_lfc(), mnist_like()
    path = save_checkpoint(tmp_path / "m.pt", model, metrics={"test_acc": 0.5}, epoch=3,
                           history=[{"epoch": 1}], compact=compact)
    loaded, ckpt = load_model(path)
    if compact:  # latent weights come back as ±1 (Brevitas clamps them to ±scale in forward)
        assert set(torch.unique(loaded.features[1].weight).tolist()) == {-1.0, 1.0}
    assert torch.equal(loaded(x), model(x))
    assert ckpt["epoch"] == 3 and ckpt["metrics"] == {"test_acc": 0.5}
    assert ckpt["config"] == model.config and bool(ckpt.get("compact")) == compact


def test_compact_packs_a_1024x1024_layer_into_128_kb(tmp_path):
    model = zoo.build("lfc")
    save_checkpoint(tmp_path / "c.pt", model, metrics={}, epoch=0, compact=True)
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    packed = raw["packed_weights"]["features.5.weight"]
    assert packed["shape"] == [1024, 1024] and packed["bits"].dtype == torch.uint8
    assert packed["bits"].numel() == 1024 * 1024 // 8
    assert "features.5.weight" not in raw["state_dict"]


def test_compact_keeps_zero_latent_weights_as_plus_one(tmp_path):
    model, x = small_lfc(), mnist_like()
    with torch.no_grad():
        model.features[1].weight[:5] = 0.0
    save_checkpoint(tmp_path / "c.pt", model, metrics={}, epoch=0, compact=True)
    loaded, _ = load_model(tmp_path / "c.pt")
    assert torch.all(loaded.features[1].weight[:5] == 1.0)
    assert torch.equal(loaded(x), model(x))


def test_compact_packs_sdbnn_wsd_weights_by_their_shifted_signs(tmp_path):
    """WSD quantizes sign(W + shift(W)): latent weights just below 0 with a positive channel mean
    flip sign, so the packed bits must be those of the quantized weight, not of W."""
    model = zoo.build("sdbnn").eval()
    conv = next(m for m in model.modules() if hasattr(m, "wsd_alpha"))
    with torch.no_grad():
        conv.weight.uniform_(-0.001, 1.0)  # mean ~0.5: shift ~0.0025 flips the small negatives
        conv.wsd_alpha.fill_(0.0)
    flipped = ((conv.weight < 0) & (conv.quant_weight().value > 0)).sum()
    assert flipped > 0
    x = torch.rand(4, 3, 32, 32)
    save_checkpoint(tmp_path / "c.pt", model, metrics={}, epoch=0, compact=True)
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    assert not [k for k in ckpt_mod.binary_weight_modules(model) if f"{k}.weight" in
                raw["state_dict"]]  # every binary weight packed, none kept in float
    loaded, _ = load_model(tmp_path / "c.pt")
    assert torch.equal(loaded(x), model(x))


def test_optimizer_and_history_are_stored(tmp_path):
    model = small_lfc()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    loss = torch.nn.functional.cross_entropy(model(mnist_like()), torch.zeros(16, dtype=torch.long))
    loss.backward()
    opt.step()
    save_checkpoint(tmp_path / "f.pt", model, metrics={}, epoch=1, optimizer=opt,
                    history=[{"epoch": 1, "train_acc": 0.1}])
    ckpt = load_checkpoint(tmp_path / "f.pt")
    fresh = torch.optim.Adam(small_lfc().parameters(), lr=1e-3)
    fresh.load_state_dict(ckpt["optimizer"])
    assert ckpt["history"] == [{"epoch": 1, "train_acc": 0.1}]


def test_missing_file_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("content", [b"", b"garbage bytes, not a zip", b"PK\x03\x04truncated"])
def test_corrupt_file_error(tmp_path, content):
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(tmp_path / "bad.pt")


def test_truncated_real_checkpoint_error(tmp_path):
    save_checkpoint(tmp_path / "m.pt", small_lfc(), metrics={}, epoch=0)
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "m.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(tmp_path / "m.pt")


def test_not_a_checkpoint_and_wrong_version(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a pynq_bnn checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    save_checkpoint(tmp_path / "m.pt", small_lfc(), metrics={}, epoch=0)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    raw["version"] = 99
    torch.save(raw, tmp_path / "v99.pt")
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path / "v99.pt")
    del raw["metrics"]
    raw["version"] = 1
    torch.save(raw, tmp_path / "incomplete.pt")
    with pytest.raises(CheckpointError, match="metrics"):
        load_checkpoint(tmp_path / "incomplete.pt")


def test_config_state_dict_mismatch_names_the_keys(tmp_path):
    save_checkpoint(tmp_path / "m.pt", small_lfc(), metrics={}, epoch=0)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    raw["config"]["hidden"] = [64, 32]
    torch.save(raw, tmp_path / "shape.pt")
    with pytest.raises(CheckpointError, match=r"shape mismatch: .*features\.5\.weight"):
        load_model(tmp_path / "shape.pt")
    raw["config"]["hidden"] = [64, 48, 16]
    torch.save(raw, tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match=r"missing: .*features\.9\.weight"):
        load_model(tmp_path / "missing.pt")
    raw["config"]["name"] = "no_such_model"
    torch.save(raw, tmp_path / "unknown.pt")
    with pytest.raises(CheckpointError, match="no_such_model"):
        load_model(tmp_path / "unknown.pt")


def test_interrupted_write_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    model, x = small_lfc(), mnist_like()
    path = save_checkpoint(tmp_path / "m.pt", model, metrics={"v": 1}, epoch=1)
    before = path.read_bytes()

    def exploding_save(obj, handle, *args, **kwargs):
        handle.write(b"partial data")
        raise KeyboardInterrupt("simulated interruption during the write")

    monkeypatch.setattr(ckpt_mod.torch, "save", exploding_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, small_lfc(), metrics={"v": 2}, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind
    loaded, ckpt = load_model(path)
    assert ckpt["metrics"] == {"v": 1} and torch.equal(loaded(x), model(x))


def _ship(tmp_path, monkeypatch, sha=None):
    save_checkpoint(tmp_path / "tiny.pt", small_lfc(), metrics={}, epoch=0, compact=True)
    digest = sha or hashlib.sha256((tmp_path / "tiny.pt").read_bytes()).hexdigest()
    manifest = {"tiny": {"file": "tiny.pt", "sha256": digest, "dataset": "mnist",
                         "test_accuracy": 0.1, "epochs": 0, "command": "test"}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(ckpt_mod, "PRETRAINED_DIR", tmp_path)


def test_pretrained_path_verifies_sha256(tmp_path, monkeypatch):
    _ship(tmp_path, monkeypatch)
    assert ckpt_mod.pretrained_path("tiny") == tmp_path / "tiny.pt"
    assert ckpt_mod.resolve_checkpoint("tiny") == tmp_path / "tiny.pt"
    with pytest.raises(CheckpointError, match="no shipped checkpoint named 'huge'"):
        ckpt_mod.pretrained_path("huge")
    (tmp_path / "tiny.pt").write_bytes(b"tampered")
    with pytest.raises(CheckpointError, match="damaged"):
        ckpt_mod.pretrained_path("tiny")
    (tmp_path / "tiny.pt").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        ckpt_mod.pretrained_path("tiny")


def test_ship_checkpoint_writes_file_and_manifest(tmp_path, monkeypatch):
    model = small_lfc()
    save_checkpoint(tmp_path / "full.pt", model, metrics={"test_acc": 0.9}, epoch=7)
    with pytest.raises(CheckpointError, match="compact"):
        ckpt_mod.ship_checkpoint(tmp_path / "full.pt", "tiny", command="x",
                                 pretrained_dir=tmp_path / "shipped")
    save_checkpoint(tmp_path / "c.pt", model, metrics={"test_acc": 0.9}, epoch=7, compact=True)
    entry = ckpt_mod.ship_checkpoint(tmp_path / "c.pt", "tiny", command="python -m pynq_bnn.train",
                                     pretrained_dir=tmp_path / "shipped")
    assert entry["test_accuracy"] == 0.9 and entry["epochs"] == 7 and entry["dataset"] == "mnist"
    monkeypatch.setattr(ckpt_mod, "PRETRAINED_DIR", tmp_path / "shipped")
    assert ckpt_mod.pretrained_manifest() == {"tiny": entry}
    loaded, _ = load_model(ckpt_mod.pretrained_path("tiny"))
    x = mnist_like()
    assert torch.equal(loaded(x), model(x))


def test_shipped_manifest_entries_are_complete():
    for name, entry in ckpt_mod.pretrained_manifest().items():
        assert {"file", "sha256", "dataset", "test_accuracy", "epochs", "command"} <= set(entry)
        assert ckpt_mod.pretrained_path(name).is_file()
        _, ckpt = load_model(ckpt_mod.pretrained_path(name))
        assert ckpt["config"]["dataset"] == entry["dataset"]
