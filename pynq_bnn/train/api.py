# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``train()``: the Python API behind ``python -m pynq_bnn.train``.

One call trains a zoo model (by name or instance) on an :class:`~pynq_bnn.data.ImageSet`, with
the per-dataset defaults of :mod:`pynq_bnn.train.config`, and — when ``out`` is given — writes
after every epoch, atomically:

* ``out`` — the latest full checkpoint (model + optimizer + scheduler + history, resumable);
* ``<out stem>.best.pt`` — the checkpoint with the best validation accuracy (test accuracy when
  there is no validation set; recorded as ``metrics["best_by"]``);
* ``<out stem>.history.json`` and ``<out stem>.curves.png`` — per-epoch loss/accuracy curves;
* ``compact_out`` (at the end) — the compact checkpoint of the final model (packed weight bits).

Distributed: when a process group is initialized (see :mod:`pynq_bnn.train.distributed`), the
model is wrapped in ``DistributedDataParallel``, every rank trains on its shard and rank 0 does
the evaluation and all file writes.
"""
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist

from pynq_bnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from pynq_bnn.train.config import TrainConfig, resolve_config
from pynq_bnn.train.distributed import current_context
from pynq_bnn.train.loop import evaluate_set, make_optimizer, make_scheduler, train_one_epoch
from pynq_bnn.utils.atomic import atomic_write_json

__all__ = ["train", "TrainResult", "artifact_paths"]

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What :func:`train` produced (files are ``None`` when not written)."""

    model: torch.nn.Module
    history: list
    metrics: dict
    checkpoint: Path = None
    best_checkpoint: Path = None
    compact_checkpoint: Path = None
    files: dict = field(default_factory=dict)


def artifact_paths(out) -> dict:
    """Files written next to checkpoint ``out``: ``best``, ``history`` (JSON), ``curves`` (PNG)."""
    out = Path(out)
    stem = out.with_suffix("")
    return {"checkpoint": out, "best": Path(f"{stem}.best.pt"),
            "history": Path(f"{stem}.history.json"), "curves": Path(f"{stem}.curves.png")}


def _build_model(model, model_options, resume_ckpt, seed):
    from pynq_bnn import zoo

    torch.manual_seed(seed)
    if isinstance(model, str):
        if resume_ckpt is not None:
            return zoo.from_config(resume_ckpt["config"])
        return zoo.build(model, **(model_options or {}))
    if not isinstance(model, zoo.BNNModel):
        raise TypeError(f"train() needs a zoo preset name or a zoo.BNNModel, got {type(model)}")
    if resume_ckpt is not None and resume_ckpt["config"] != model.config:
        raise CheckpointError(f"cannot resume: checkpoint model config {resume_ckpt['config']} "
                              f"differs from the given model's {model.config}")
    return model


def _load_resume(resume):
    ckpt = load_checkpoint(resume)
    if ckpt.get("compact"):
        raise CheckpointError(f"{resume} is a compact checkpoint (binary latent weights reduced "
                              "to ±1, no optimizer state): training cannot resume from it")
    for key in ("optimizer", "scheduler", "history"):
        if key not in ckpt:
            raise CheckpointError(f"{resume} has no {key!r} state: not a resumable training "
                                  "checkpoint (written by python -m pynq_bnn.train?)")
    return ckpt


def _reduce_train_stats(stats: dict, ctx) -> dict:
    if not ctx.distributed:
        return stats
    sums = torch.tensor([stats["train_loss"] * stats["samples"],
                         stats["train_acc"] * stats["samples"], stats["samples"]],
                        dtype=torch.float64, device=ctx.device)
    dist.all_reduce(sums)
    seen = max(float(sums[2]), 1.0)
    return {**stats, "train_loss": float(sums[0]) / seen, "train_acc": float(sums[1]) / seen,
            "samples": int(sums[2])}


def _best_metric(row: dict):
    for key in ("val_acc", "test_acc", "train_acc"):
        if row.get(key) is not None:
            return key, row[key]
    return "train_acc", 0.0


def train(model, train_set, *, test_set=None, val_set=None, out=None, resume=None,
          compact_out=None, progress: bool = True, device=None, model_options: dict = None,
          **options) -> TrainResult:
    """Train ``model`` on ``train_set``; see the module docstring for the files written.

    Args:
        model: a preset name (``"lfc"``) or a :class:`pynq_bnn.zoo.BNNModel`.
        train_set: training :class:`~pynq_bnn.data.ImageSet`; ``val_count`` images are split off
            for validation unless ``val_set`` is given.
        test_set: evaluated after every epoch when given (reported, never used for selection
            unless there is no validation set).
        val_set: explicit validation set (disables the automatic split).
        out: checkpoint path (None: write nothing).
        resume: a full checkpoint written by a previous run with the same options; model,
            optimizer, LR schedule, epoch and history are restored and training continues up to
            ``epochs`` (identical to an uninterrupted run; raising ``epochs`` extends the run and
            re-stretches the remaining schedule). The model config comes from the checkpoint.
        compact_out: also write the final model as a compact checkpoint here.
        progress: tqdm progress bars (rank 0 only).
        device: ``"cpu"`` / ``"cuda"`` / ``None`` (CUDA when available).
        model_options: keyword options of the preset when ``model`` is a name.
        **options: fields of :class:`~pynq_bnn.train.config.TrainConfig` (``epochs``, ``lr``...).

    Returns:
        :class:`TrainResult`.
    """
    from pynq_bnn.data import make_loader, train_val_split

    valid = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise TypeError(f"unknown training options {unknown}; valid: {sorted(valid)}")
    resume_ckpt = _load_resume(resume) if resume is not None else None
    base_config = TrainConfig(**options)
    model = _build_model(model, model_options, resume_ckpt, base_config.seed)
    config = resolve_config(base_config, model.config.get("dataset"))
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    if val_set is None and config.val_count > 0:
        train_set, val_set = train_val_split(train_set, config.val_count, config.seed)
    if config.limit_train is not None:
        train_set = train_set.subset(config.limit_train)
    ctx = current_context(device)
    model.to(ctx.device)
    world = ctx.world_size
    drop_last = len(train_set) // world >= config.batch_size
    loader = make_loader(train_set, config.batch_size, shuffle=True, augment=config.augment,
                         seed=config.seed, rank=ctx.rank, world_size=world, drop_last=drop_last)
    steps_per_epoch = len(loader)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    history, start_epoch = [], 0
    if resume_ckpt is not None:
        model.load_state_dict(resume_ckpt["state_dict"], strict=True)
        optimizer.load_state_dict(resume_ckpt["optimizer"])
        scheduler.load_state_dict(resume_ckpt["scheduler"])
        history = list(resume_ckpt["history"])
        start_epoch = int(resume_ckpt["epoch"])
        log.info("resuming %s at epoch %d of %d", resume, start_epoch, config.epochs)
    net = model
    if ctx.distributed:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    train_config = {**config.to_dict(), "steps_per_epoch": steps_per_epoch, "world_size": world,
                    "train_images": len(train_set), "val_images": len(val_set) if val_set else 0}
    paths = artifact_paths(out) if out is not None else {}
    best = max((_best_metric(r)[1] for r in history), default=-1.0)
    result = TrainResult(model=model, history=history, metrics={}, files=paths)
    for epoch in range(start_epoch, config.epochs):
        loader.set_epoch(epoch)
        stats = train_one_epoch(net, loader, optimizer, scheduler, device=ctx.device,
                                config=config, progress=progress and ctx.is_main,
                                desc=f"epoch {epoch + 1}/{config.epochs}")
        stats = _reduce_train_stats(stats, ctx)
        row = {"epoch": epoch + 1, **{k: stats[k] for k in ("train_loss", "train_acc", "lr",
                                                            "time_s")}}
        if ctx.is_main:
            for name, imageset in (("val", val_set), ("test", test_set)):
                if imageset is not None and len(imageset):
                    scores = evaluate_set(model, imageset, device=ctx.device, progress=progress,
                                          desc=name)
                    row[f"{name}_loss"], row[f"{name}_acc"] = scores["loss"], scores["acc"]
            history.append(row)
            best_by, score = _best_metric(row)
            metrics = {**row, "best_by": best_by}
            log.info("epoch %d/%d  %s", epoch + 1, config.epochs,
                     "  ".join(f"{k} {v:.4f}" for k, v in row.items()
                               if k not in ("epoch", "lr", "time_s")) +
                     f"  lr {row['lr']:.2e}  ({row['time_s']:.1f} s)")
            if out is not None:
                save_checkpoint(out, model, metrics=metrics, epoch=epoch + 1, optimizer=optimizer,
                                scheduler=scheduler, history=history, train_config=train_config)
                if score > best:
                    save_checkpoint(paths["best"], model, metrics=metrics, epoch=epoch + 1,
                                    optimizer=optimizer, scheduler=scheduler, history=history,
                                    train_config=train_config)
                _write_curves(paths, history, model.config.get("name", "model"))
            best = max(best, score)
            result.metrics = metrics
        else:
            history.append(row)
        model.train()
        ctx.barrier()
    if out is not None and ctx.is_main:
        result.checkpoint, result.best_checkpoint = paths["checkpoint"], paths["best"]
    if compact_out is not None and ctx.is_main:
        result.compact_checkpoint = save_checkpoint(
            compact_out, model, metrics=result.metrics or (history[-1] if history else {}),
            epoch=config.epochs, history=history, compact=True, train_config=train_config)
    model.eval()
    return result


def _write_curves(paths: dict, history: list, title: str) -> None:
    from pynq_bnn.utils.plotting import plot_training_curves

    atomic_write_json(paths["history"], history)
    plot_training_curves(history, paths["curves"], title=title)
