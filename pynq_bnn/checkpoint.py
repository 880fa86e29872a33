# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Versioned, atomically written model checkpoints (full and compact) and shipped models.

A checkpoint is a ``torch.save``-d dict::

    {"format": "pynq_bnn.checkpoint", "version": 1,
     "config": model.config,            # JSON dict: zoo.from_config(config) rebuilds the model
     "state_dict": {...}, "metrics": {...}, "epoch": int,
     # optional: "optimizer", "scheduler", "history", "train_config", "rng_state",
     #           "compact": True + "packed_weights": {key: {"bits": uint8, "shape": [...]}}}

It only holds tensors and plain Python values, so it loads with ``torch.load(weights_only=True)``
(no arbitrary code runs when a checkpoint is opened).

A checkpoint is untrusted input: the file size, every packed weight's shape and bit count (exact:
``ceil(count / 8)`` bytes, checked before unpacking) and the total parameter count are limited
*before* anything is allocated; the model a config describes is first built on PyTorch's ``meta``
device (no memory) and compared key by key, shape by shape, with the stored state dict; NaN or
infinite weights are refused on load and never written on save.

Compact checkpoints (``compact=True``, the format of the shipped models): a binary weight only
reaches the exported graph and the hardware as the sign of its quantized value (``sign(w)``;
``sign(w + shift)`` for SD-BNN's WSD) — the weight bits of an XNOR-popcount MVAU. Each such
latent weight is therefore stored as packed sign bits (``np.packbits``, 1 bit per
weight: a 1024×1024 layer takes 128 KB instead of 4 MB) and restored as ±1.0 on load. The
quantized weights, hence every output, are identical (checked at save time), but the latent
magnitudes and the optimizer state are gone: **training cannot be resumed from a compact
checkpoint** (fine-tuning from one restarts from ±1 latent weights).

Shipped checkpoints live in ``pynq_bnn/zoo/pretrained/<name>.pt``, listed in
``pynq_bnn/zoo/pretrained/manifest.json`` as ``{name: {file, sha256, dataset, test_accuracy,
epochs, command}}``; :func:`pretrained_path` verifies the sha256 before returning a path.
"""
import hashlib
import json
import logging
import math
from pathlib import Path

import numpy as np
import torch

from pynq_bnn.utils.atomic import atomic_open
from pynq_bnn.utils.modules import binary_weight_modules

__all__ = ["CheckpointError", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "save_checkpoint",
           "load_checkpoint", "load_model", "pretrained_path", "pretrained_manifest",
           "resolve_checkpoint", "unwrap_model", "ship_checkpoint"]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "pynq_bnn.checkpoint"
CHECKPOINT_VERSION = 1
REQUIRED_KEYS = ("format", "version", "config", "state_dict", "metrics", "epoch")
MAX_CHECKPOINT_BYTES = 2 << 30  # 2 GiB: the largest preset's full checkpoint is ~35 MB
MAX_PARAMETERS = 1 << 26  # 67 M elements (268 MB as float32); the largest preset has ~3 M
MAX_CONFIG_INT = 1 << 20  # no layer width / channel count of a preset comes near
PRETRAINED_DIR = Path(__file__).resolve().parent / "zoo" / "pretrained"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, of the wrong format/version, or does not fit its
    model."""


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a ``DistributedDataParallel`` / ``DataParallel`` wrapper (or itself)."""
    return model.module if hasattr(model, "module") and isinstance(model.module, torch.nn.Module) \
        else model


def _pack_binary_weights(model, state_dict: dict) -> dict:
    """Replace binary latent weights in ``state_dict`` by packed sign bits; return the packs.

    The bits are the signs of the *quantized* weight (for SD-BNN's WSD layers ``sign(W + shift)``,
    not ``sign(W)``); they are kept only if the ±1 tensor they stand for, put back as the latent
    weight, quantizes to exactly the same weight (e.g. WSD's shift of a ±1 tensor is at most 0.01
    in magnitude, so the signs survive)."""
    packed = {}
    for name, module in binary_weight_modules(model).items():
        key = f"{name}.weight" if name else "weight"
        latent = module.weight.detach()
        with torch.no_grad():
            reference = module.quant_weight().value.detach().clone()
            signs = torch.where(reference >= 0, 1.0, -1.0).to(latent.dtype)
            saved = latent.clone()
            module.weight.copy_(signs)
            restored = module.quant_weight().value.detach().clone()
            module.weight.copy_(saved)
        if not torch.equal(reference, restored):
            log.warning("weight %s: its quantizer scale depends on the latent values; stored in "
                        "full precision in the compact checkpoint", key)
            continue
        bits = np.packbits(signs.cpu().numpy().reshape(-1) > 0)
        packed[key] = {"bits": torch.from_numpy(bits), "shape": list(latent.shape)}
        del state_dict[key]
    return packed


def _unpack_binary_weights(packed: dict, state_dict: dict, path) -> None:
    if not isinstance(packed, dict):
        raise CheckpointError(f"{path}: corrupt packed weights (not a dict)")
    total = 0
    for key, entry in packed.items():
        try:
            shape = [_whole(s) for s in entry["shape"]]
            bits = entry["bits"]
            if not isinstance(bits, torch.Tensor) or bits.dtype != torch.uint8 or bits.dim() != 1:
                raise ValueError("bits must be a 1-D uint8 tensor")
        except Exception as err:
            raise CheckpointError(f"{path}: corrupt packed weight {key!r} ({err})") from None
        if len(shape) > 8 or any(s < 1 for s in shape):
            raise CheckpointError(f"{path}: packed weight {key!r} has an invalid shape {shape}")
        count = math.prod(shape)
        total += count
        if total > MAX_PARAMETERS:
            raise CheckpointError(f"{path}: packed weights of more than {MAX_PARAMETERS} "
                                  "elements; not a pynq_bnn model (refusing to allocate them)")
        if bits.numel() != (count + 7) // 8:
            raise CheckpointError(f"{path}: packed weight {key!r} holds {bits.numel()} bytes, "
                                  f"shape {shape} needs exactly {(count + 7) // 8} (truncated or "
                                  "corrupt checkpoint)")
        values = np.unpackbits(bits.numpy(), count=count)
        state_dict[key] = torch.from_numpy(np.where(values.reshape(shape) == 1, 1.0, -1.0)
                                           .astype(np.float32))


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"shape entry {value!r} is not an integer")
    return value


def _non_finite(state_dict: dict) -> list:
    """Keys of floating-point tensors holding NaN or infinity."""
    return sorted(k for k, v in state_dict.items()
                  if isinstance(v, torch.Tensor) and v.is_floating_point()
                  and not bool(torch.isfinite(v).all()))


def _check_config_sizes(config, path, where: str = "config") -> None:
    """Every integer in a model config is below :data:`MAX_CONFIG_INT` (checked before a model
    is built from it)."""
    if isinstance(config, dict):
        for key, value in config.items():
            _check_config_sizes(value, path, f"{where}.{key}")
    elif isinstance(config, (list, tuple)):
        for index, value in enumerate(config):
            _check_config_sizes(value, path, f"{where}[{index}]")
    elif isinstance(config, (int, float)) and not isinstance(config, bool):
        if not math.isfinite(config) or abs(config) > MAX_CONFIG_INT:
            raise CheckpointError(f"{path}: {where} = {config!r} is out of range for a pynq_bnn "
                                  "model (crafted or corrupt checkpoint)")


def save_checkpoint(path, model, *, metrics: dict, epoch: int, optimizer=None, history=None,
                    compact: bool = False, scheduler=None, train_config: dict = None,
                    rng_state: dict = None) -> Path:
    """Write a checkpoint of ``model`` atomically (temp file in the same dir + ``os.replace``).

    Args:
        path: target ``.pt`` file (parent directories are created).
        model: a :class:`pynq_bnn.zoo.BNNModel` (a DDP wrapper is unwrapped).
        metrics: JSON-serializable dict, e.g. ``{"test_acc": 0.984}``.
        epoch: number of completed epochs.
        optimizer / scheduler: stored (state dicts) for ``--resume``; ignored when compact.
        history: list of per-epoch metric dicts.
        compact: store binary weights as packed sign bits (see module docstring).
        train_config: JSON-serializable training options (stored for resume / provenance).
        rng_state: random generator states (:func:`pynq_bnn.train.rng.capture_rng_state`) for a
            bit-identical resume; ignored when compact.

    Returns:
        The path written.
    """
    model = unwrap_model(model)
    if not hasattr(model, "config"):
        raise CheckpointError("save_checkpoint needs a pynq_bnn.zoo model (with a .config dict)")
    json.dumps(metrics)
    json.dumps(train_config)
    state_dict = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    bad = _non_finite(state_dict)
    if bad:
        raise CheckpointError(f"not writing {path}: weights {', '.join(bad[:4])} hold NaN or "
                              "infinity (training diverged; lower --lr); the previous checkpoint "
                              "is kept")
    ckpt = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "config": dict(model.config), "state_dict": state_dict, "metrics": dict(metrics),
            "epoch": int(epoch)}
    if history is not None:
        ckpt["history"] = list(history)
    if train_config is not None:
        ckpt["train_config"] = dict(train_config)
    if compact:
        ckpt["compact"] = True
        ckpt["packed_weights"] = _pack_binary_weights(model, state_dict)
    else:
        if optimizer is not None:
            ckpt["optimizer"] = optimizer.state_dict()
        if scheduler is not None:
            ckpt["scheduler"] = scheduler.state_dict()
        if rng_state is not None:
            ckpt["rng_state"] = rng_state
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save(ckpt, handle)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load and validate a checkpoint (``weights_only=True``; compact weights are unpacked).

    Raises:
        CheckpointError: file missing, not a torch file / corrupt, not a pynq_bnn checkpoint,
            a newer version, or missing keys.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path} is empty (corrupt or truncated file?); use another "
                              "checkpoint")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path} is {size} bytes, more than any pynq_bnn checkpoint "
                              f"({MAX_CHECKPOINT_BYTES}); not loading it")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        first_line = str(err).splitlines()[0] if str(err) else ""
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated file?): "
                              f"{type(err).__name__}: {first_line}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a pynq_bnn checkpoint (expected format "
                              f"{CHECKPOINT_FORMAT!r}); write one with pynq_bnn.checkpoint."
                              "save_checkpoint or python -m pynq_bnn.train")
    version = ckpt.get("version")
    if version != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {version!r}; this pynq_bnn reads "
                              f"version {CHECKPOINT_VERSION} (upgrade pynq_bnn or re-export)")
    missing = [key for key in REQUIRED_KEYS if key not in ckpt]
    if missing or not isinstance(ckpt["state_dict"], dict) or not isinstance(ckpt["config"], dict):
        raise CheckpointError(f"{path} is an incomplete checkpoint: missing or invalid "
                              f"{missing or ['state_dict/config']}")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor)
               for k, v in ckpt["state_dict"].items()):
        raise CheckpointError(f"{path}: state_dict must map names to tensors")
    stored = sum(v.numel() for v in ckpt["state_dict"].values())
    if stored > MAX_PARAMETERS:
        raise CheckpointError(f"{path}: {stored} parameters, more than any pynq_bnn model")
    if ckpt.get("compact"):
        _unpack_binary_weights(ckpt.get("packed_weights", {}), ckpt["state_dict"], path)
    bad = _non_finite(ckpt["state_dict"])
    if bad:
        raise CheckpointError(f"{path}: weights {', '.join(bad[:4])} hold NaN or infinity; the "
                              "model diverged or the file is corrupt (use an earlier checkpoint)")
    return ckpt


def load_model(path, map_location="cpu"):
    """Rebuild the model of a checkpoint (``zoo.from_config`` + strict ``load_state_dict``).

    Returns:
        ``(model, ckpt)`` with the model in eval mode on ``map_location``.

    Raises:
        CheckpointError: as :func:`load_checkpoint`, or when the config and the state dict
            disagree (the message names the missing / unexpected / mis-shaped keys).
    """
    from pynq_bnn import zoo

    ckpt = load_checkpoint(path, map_location="cpu")
    _check_config_sizes(ckpt["config"], path)
    try:
        with torch.device("meta"):  # shapes only, no memory: compared before the real build
            expected = zoo.from_config(ckpt["config"]).state_dict()
    except Exception as err:  # any config the presets cannot build is a bad checkpoint
        raise CheckpointError(f"{path}: cannot rebuild the model from its config: {err}") from None
    _compare_state_dicts(expected, ckpt, path)
    model = zoo.from_config(ckpt["config"])
    model.load_state_dict(ckpt["state_dict"], strict=True)
    model.to(map_location).eval()
    return model, ckpt


def _compare_state_dicts(expected: dict, ckpt: dict, path) -> None:
    """Raise :class:`CheckpointError` naming missing / unexpected / mis-shaped keys."""
    stored = ckpt["state_dict"]
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    mis_shaped = sorted(k for k in set(expected) & set(stored)
                        if tuple(expected[k].shape) != tuple(stored[k].shape))
    if missing or unexpected or mis_shaped:
        details = "; ".join(f"{label}: {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}"
                            for label, keys in (("missing", missing), ("unexpected", unexpected),
                                                ("shape mismatch", mis_shaped)) if keys)
        raise CheckpointError(f"{path}: state_dict does not match the model config "
                              f"{ckpt['config'].get('name')!r} ({details})")


def pretrained_manifest() -> dict:
    """The manifest of shipped checkpoints (``{}`` when none are shipped)."""
    manifest = PRETRAINED_DIR / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{manifest} is not valid JSON: {err}") from None


def _sha256(path: Path) -> str:
    from pynq_bnn.utils.fsutil import file_sha256

    return file_sha256(path)


def pretrained_path(name: str) -> Path:
    """Path of the shipped checkpoint ``name`` after verifying its sha256.

    Raises:
        CheckpointError: unknown name, missing file, or checksum mismatch.
    """
    manifest = pretrained_manifest()
    if name not in manifest:
        import difflib

        shipped = ", ".join(sorted(manifest)) or "none"
        close = difflib.get_close_matches(name, sorted(manifest), n=1, cutoff=0.4)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise CheckpointError(f"no shipped checkpoint named {name!r}; {hint}(shipped: {shipped}); "
                              f"or give a checkpoint file path")
    entry = manifest[name]
    path = PRETRAINED_DIR / entry["file"]
    if not path.is_file():
        raise CheckpointError(f"shipped checkpoint {name!r} is listed in the manifest but {path} "
                              "is missing (incomplete install or git-lfs checkout?)")
    actual = _sha256(path)
    if actual != entry["sha256"]:
        raise CheckpointError(f"shipped checkpoint {path} is damaged: sha256 {actual} != "
                              f"manifest {entry['sha256']}")
    return path


def ship_checkpoint(source, name: str, *, command: str, test_accuracy: float = None,
                    pretrained_dir=None, hours: float = None) -> dict:
    """Copy a compact checkpoint to ``<pretrained_dir>/<name>.pt`` and record it in the manifest.

    The manifest entry gets the file's sha256, the dataset (from the model config), the epochs and
    ``test_accuracy`` (default: ``metrics["test_acc"]`` of the checkpoint, which
    ``python -m pynq_bnn.train`` measures on the full test set). Both files are written
    atomically.

    Args:
        source: a compact checkpoint (``--compact-out`` of the train CLI).
        name: shipped name, usually the preset name (``"lfc"``).
        command: the command that trained it (provenance, shown in the README).
        test_accuracy: override the accuracy taken from the checkpoint metrics.
        pretrained_dir: default ``pynq_bnn/zoo/pretrained``.
        hours: wall-clock training time to record (provenance; omitted when ``None``).

    Returns:
        The manifest entry.

    Raises:
        CheckpointError: not a compact checkpoint, or no test accuracy known.
    """
    from pynq_bnn.utils.atomic import atomic_write_bytes, atomic_write_json

    folder = Path(pretrained_dir) if pretrained_dir is not None else PRETRAINED_DIR
    _, ckpt = load_model(source)
    if not ckpt.get("compact"):
        raise CheckpointError(f"{source} is a full training checkpoint; ship the compact one "
                              "(python -m pynq_bnn.train ... --compact-out PATH)")
    accuracy = test_accuracy if test_accuracy is not None else ckpt["metrics"].get("test_acc")
    if accuracy is None:
        raise CheckpointError(f"{source} records no test accuracy; pass test_accuracy= (measure "
                              "it with python -m pynq_bnn.eval)")
    data = Path(source).read_bytes()
    atomic_write_bytes(folder / f"{name}.pt", data)
    entry = {"file": f"{name}.pt", "sha256": hashlib.sha256(data).hexdigest(),
             "dataset": ckpt["config"].get("dataset"), "test_accuracy": float(accuracy),
             "epochs": int(ckpt["epoch"]), "command": command}
    if hours is not None:
        entry["hours"] = round(float(hours), 2)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() \
        else {}
    manifest[name] = entry
    atomic_write_json(manifest_path, dict(sorted(manifest.items())))
    return entry


def resolve_checkpoint(spec) -> Path:
    """An existing checkpoint path, or the name of a shipped model (``"lfc"``) resolved by
    :func:`pretrained_path`."""
    path = Path(spec)
    if path.exists() or path.suffix or "/" in str(spec):
        return path
    return pretrained_path(str(spec))
