# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``train()``: the Python API behind ``python -m pynq_bnn.train``.

One call trains a zoo model (by name or instance) on an :class:`~pynq_bnn.data.ImageSet`, with
the per-dataset defaults of :mod:`pynq_bnn.train.config`, and — when ``out`` is given — writes
after every epoch, atomically:

* ``out`` — the latest full checkpoint (model + optimizer + scheduler + history + every RNG
  state: resuming from it is bit-identical to the uninterrupted run);
* ``<out stem>.best.pt`` — the checkpoint with the best validation accuracy (training accuracy
  when there is no validation set — the test set never selects; recorded as
  ``metrics["best_by"]``);
* ``<out stem>.history.json`` and ``<out stem>.curves.png`` — per-epoch loss/accuracy curves;
* ``compact_out`` (at the end) — the compact checkpoint of the final model (packed weight bits).

Distributed: when a process group is initialized (see :mod:`pynq_bnn.train.distributed`), the
model is wrapped in ``DistributedDataParallel``, every rank trains on its shard and rank 0 does
the evaluation and all file writes.

Evaluation: the validation split every ``eval_every`` epochs (on the fast path when it is on),
the test set once after the last epoch; the last epoch's validation and test numbers — the ones
reported and stored in the checkpoints — are always an fp32 eager evaluation
(``metrics["final_eval"] == "fp32 eager"``).
"""
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist

from pynq_bnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from pynq_bnn.train.config import TrainConfig, resolve_config
from pynq_bnn.train.distributed import current_context
from pynq_bnn.train.fast import (FastForward, bf16_supported, default_num_threads,
                                 fast_path_default)
from pynq_bnn.train.loop import (evaluate_set, make_optimizer, make_scheduler, set_binary_weights,
                                 switch_to_binary_weights, train_one_epoch)
from pynq_bnn.train.rng import capture_rng_state, restore_rng_state
from pynq_bnn.utils.atomic import atomic_write_json
from pynq_bnn.utils.modules import binary_weight_modules

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


def _use_fast_path(config, ctx, total_steps: int) -> bool:
    if config.fast is None:
        return fast_path_default(ctx.device, total_steps, ctx.distributed)
    if config.fast and ctx.distributed:
        log.warning("the fast path (compile + bf16) is not used under DDP: training eagerly")
        return False
    return bool(config.fast)


def _load_teacher(path, device, module):
    """The KD teacher in eval mode, frozen: the given module, or loaded from checkpoint ``path``."""
    if module is None and path is None:
        return None
    if module is None:
        from pynq_bnn.checkpoint import load_model

        module, _ = load_model(path)
    module.to(device).eval()
    for param in module.parameters():
        param.requires_grad_(False)
    return module


def _check_resume_schedule(ckpt: dict, config) -> None:
    stored = (ckpt.get("train_config") or {}).get("epochs")
    if stored is not None and int(stored) != config.epochs:
        log.warning("resuming a %s-epoch run with epochs=%d: the LR schedule is re-stretched, "
                    "so the result differs from an uninterrupted run of either length",
                    stored, config.epochs)


def _restore_rng(ckpt: dict, path) -> None:
    if "rng_state" not in ckpt:
        log.warning("%s holds no RNG state (older checkpoint): resumed dropout / random draws "
                    "differ from an uninterrupted run", path)
        return
    try:
        restore_rng_state(ckpt["rng_state"])
    except ValueError as err:
        raise CheckpointError(f"{path}: {err}") from None


def train(model, train_set, *, test_set=None, val_set=None, out=None, resume=None,
          compact_out=None, progress: bool = True, device=None, model_options: dict = None,
          teacher_model: torch.nn.Module = None, **options) -> TrainResult:
    """Train ``model`` on ``train_set``; see the module docstring for the files written.

    Args:
        model: a preset name (``"lfc"``) or a :class:`pynq_bnn.zoo.BNNModel`.
        train_set: training :class:`~pynq_bnn.data.ImageSet`; ``val_count`` images are split off
            for validation unless ``val_set`` is given.
        test_set: evaluated once after the last epoch (fp32 eager; reported, never used for
            selection).
        val_set: explicit validation set (disables the automatic split).
        out: checkpoint path (None: write nothing).
        resume: a full checkpoint written by a previous run with the same options; model,
            optimizer, LR schedule, epoch, history and RNG states are restored and training
            continues up to ``epochs`` (bit-identical to an uninterrupted run; a different
            ``epochs`` re-stretches the remaining schedule, with a warning). The model config
            comes from the checkpoint.
        compact_out: also write the final model as a compact checkpoint here.
        progress: tqdm progress bars (rank 0 only).
        device: ``"cpu"`` / ``"cuda"`` / ``None`` (CUDA when available).
        model_options: keyword options of the preset when ``model`` is a name.
        teacher_model: a teacher model for the distributional KD loss (instead of the
            ``teacher`` checkpoint option; not stored in checkpoints).
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
    if val_set is None and config.val_count > 0:
        train_set, val_set = train_val_split(train_set, config.val_count, config.seed)
    if config.limit_train is not None:
        train_set = train_set.subset(config.limit_train)
    ctx = current_context(device)
    model.to(ctx.device)
    torch.set_num_threads(config.num_threads or default_num_threads())
    world = ctx.world_size
    drop_last = len(train_set) // world >= config.batch_size
    loader = make_loader(train_set, config.batch_size, shuffle=True, augment=config.augment,
                         seed=config.seed, rank=ctx.rank, world_size=world, drop_last=drop_last)
    steps_per_epoch = len(loader)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    binary_layers = list(binary_weight_modules(model).values())
    teacher = _load_teacher(config.teacher, ctx.device, teacher_model)
    history, start_epoch = [], 0
    if resume_ckpt is not None:
        model.load_state_dict(resume_ckpt["state_dict"], strict=True)
        optimizer.load_state_dict(resume_ckpt["optimizer"])
        scheduler.load_state_dict(resume_ckpt["scheduler"])
        history = list(resume_ckpt["history"])
        start_epoch = int(resume_ckpt["epoch"])
        _check_resume_schedule(resume_ckpt, config)
        log.info("resuming %s at epoch %d of %d", resume, start_epoch, config.epochs)
    net = model
    if ctx.distributed:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    use_fast = _use_fast_path(config, ctx, config.epochs * steps_per_epoch)
    # forced on where bf16 is slow (old CPUs): compile only
    forward = FastForward(model, ctx.device, bf16=bf16_supported(ctx.device)) if use_fast else None
    train_config = {**config.to_dict(), "steps_per_epoch": steps_per_epoch, "world_size": world,
                    "train_images": len(train_set), "val_images": len(val_set) if val_set else 0,
                    "fast_path": use_fast, "threads": torch.get_num_threads()}
    log.info("training %s: %d epochs x %d steps, %s, %d torch thread(s)",
             model.config.get("name", "model"), config.epochs, steps_per_epoch,
             "fast path (compile + bf16)" if use_fast else "eager fp32", torch.get_num_threads())
    paths = artifact_paths(out) if out is not None else {}
    has_val = val_set is not None and len(val_set) > 0
    best_by = "val_acc" if has_val else "train_acc"
    best = max((r[best_by] for r in history
                if r.get(best_by) is not None and not r.get("real_weights")), default=-1.0)
    result = TrainResult(model=model, history=history, metrics={}, files=paths)
    if resume_ckpt is not None:
        _restore_rng(resume_ckpt, resume)
    for epoch in range(start_epoch, config.epochs):
        last = epoch + 1 == config.epochs
        real_weights = epoch < config.real_weight_epochs
        if config.real_weight_epochs and epoch == config.real_weight_epochs:
            log.info("epoch %d: FracBNN step 2, binary weights from here on", epoch + 1)
            switch_to_binary_weights(binary_layers, optimizer, config)
        else:
            set_binary_weights(binary_layers, not real_weights)
        loader.set_epoch(epoch)
        stats = train_one_epoch(net, loader, optimizer, scheduler, device=ctx.device,
                                config=config, progress=progress and ctx.is_main,
                                desc=f"epoch {epoch + 1}/{config.epochs}", forward=forward,
                                teacher=teacher)
        stats = _reduce_train_stats(stats, ctx)
        row = {"epoch": epoch + 1, **{k: stats[k] for k in ("train_loss", "train_acc", "lr",
                                                            "time_s")}}
        if real_weights:
            row["real_weights"] = True
        if ctx.is_main:
            evaluated = {}
            if has_val and (last or (epoch + 1) % config.eval_every == 0):
                evaluated["val"] = val_set
            if last and test_set is not None and len(test_set):
                evaluated["test"] = test_set
            for name, imageset in evaluated.items():
                # the final numbers are fp32 eager: what the exported model reproduces
                scores = evaluate_set(model, imageset, device=ctx.device, progress=progress,
                                      desc=name, forward=None if last else forward)
                row[f"{name}_loss"], row[f"{name}_acc"] = scores["loss"], scores["acc"]
            if last:
                row["final_eval"] = "fp32 eager"
            history.append(row)
            # a real-weight (step 1) model is not the deployable one: never the best checkpoint
            score = None if real_weights else row.get(best_by)
            metrics = {**row, "best_by": best_by}
            log.info("epoch %d/%d  %s", epoch + 1, config.epochs,
                     "  ".join(f"{k} {v:.4f}" for k, v in row.items()
                               if k not in ("epoch", "lr", "time_s", "final_eval",
                                            "real_weights")) +
                     f"  lr {row['lr']:.2e}  ({row['time_s']:.1f} s)")
            if out is not None:
                saved = dict(metrics=metrics, epoch=epoch + 1, optimizer=optimizer,
                             scheduler=scheduler, history=history, train_config=train_config,
                             rng_state=capture_rng_state())
                save_checkpoint(out, model, **saved)
                if score is not None and score > best:
                    save_checkpoint(paths["best"], model, **saved)
                _write_curves(paths, history, model.config.get("name", "model"))
            if score is not None:
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
