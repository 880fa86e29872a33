# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The pieces of one training run: optimizer groups, LR schedule, one epoch, evaluation.

Loss: ``task_loss(logits, y) + model.regularization_loss()`` (e.g. FracBNN's gate-target term),
with the task loss of :mod:`pynq_bnn.train.losses` (cross entropy by default); the gradient of
every binarizer is its surrogate (STE / ApproxSign / technique-specific).

Fast path: ``train_one_epoch`` and ``evaluate_set`` take an optional ``forward`` callable (a
:class:`pynq_bnn.train.fast.FastForward`: compiled + bf16); without it the model runs eagerly in
fp32.

Binary latent weights need no extra clipping step here: the ``BinaryWeight`` recipe quantizes
with Brevitas' ``ClampedBinaryQuant``, whose in-place clamp keeps every latent weight within
``±scale`` at each forward pass (BinaryConnect-style clipping, Courbariaux et al. 2015).
"""
import logging
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from pynq_bnn.checkpoint import unwrap_model
from pynq_bnn.eval.metrics import predict_logits
from pynq_bnn.train.losses import distribution_loss, task_loss
from pynq_bnn.utils.modules import binary_weight_modules

log = logging.getLogger(__name__)

__all__ = ["make_optimizer", "make_scheduler", "train_one_epoch", "evaluate_set",
           "fast_predict_logits", "set_binary_weights", "switch_to_binary_weights"]


def make_optimizer(model: torch.nn.Module, config) -> torch.optim.Optimizer:
    """Adam or SGD with parameter groups: decayed full-precision weights (``dim > 1``, not
    binary) and everything else (binary latent weights, BN affine, biases, scales) undecayed.

    With a real-weight first phase (``config.real_weight_epochs``), the binary latent weights
    form a third group, decayed like full-precision weights while they are real-valued (FracBNN
    step 1); :func:`switch_to_binary_weights` changes the decay at the switch."""
    binary = {id(m.weight) for m in binary_weight_modules(unwrap_model(model)).values()}
    decayed, plain, latent = [], [], []
    two_phase = bool(getattr(config, "real_weight_epochs", 0) or 0)
    for param in model.parameters():
        if not param.requires_grad:
            continue
        if id(param) in binary:
            (latent if two_phase else plain).append(param)
        else:
            (decayed if param.dim() > 1 else plain).append(param)
    groups = [{"params": plain, "weight_decay": 0.0}]
    if decayed:
        groups.append({"params": decayed, "weight_decay": config.weight_decay})
    if latent:
        groups.append({"params": latent, "weight_decay": config.weight_decay})
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)


def make_scheduler(optimizer, config, steps_per_epoch: int):
    """Per-batch LR factor over ``epochs × steps_per_epoch`` steps: cosine or linear decay to 0,
    ×0.5 after every 40 epochs (``"halve40"``), or constant. The whole schedule is fixed by
    ``config.epochs`` up front, so a resumed run continues it exactly. With a real-weight first
    phase the schedule runs once over each phase (restarting at the switch)."""
    first = (getattr(config, "real_weight_epochs", 0) or 0) * steps_per_epoch
    if first:
        phase1 = _schedule_factor(config.schedule, first, steps_per_epoch)
        phase2 = _schedule_factor(config.schedule, config.epochs * steps_per_epoch - first,
                                  steps_per_epoch)

        def factor(step):
            return phase1(step) if step < first else phase2(step - first)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule_factor(config.schedule, config.epochs * steps_per_epoch,
                                    steps_per_epoch))


def _schedule_factor(schedule: str, total_steps: int, steps_per_epoch: int):
    """LR factor ``step -> float`` of one schedule over ``total_steps``."""
    total = max(1, total_steps)
    if schedule == "halve40":
        period = 40 * max(1, steps_per_epoch)

        def factor(step):
            return 0.5 ** (step // period)
    elif schedule == "cosine":
        def factor(step):
            return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    elif schedule == "linear":
        def factor(step):
            return max(0.0, 1.0 - step / total)
    else:
        def factor(step):
            return 1.0
    return factor


def set_binary_weights(modules, enabled: bool) -> None:
    """Enable / disable the weight quantizers of the given binary-weight layers (disabled: the
    latent weight is used as a real-valued weight, FracBNN's step 1)."""
    for module in modules:
        module.weight_quant.disable_quant = not enabled


def switch_to_binary_weights(modules, optimizer, config) -> None:
    """FracBNN's step 2 starts: binary weights on, a fresh optimizer state (the source starts a
    new Adam), weight decay ``config.final_weight_decay`` (when set) in every group."""
    set_binary_weights(modules, True)
    optimizer.state.clear()
    if config.final_weight_decay is not None:
        for group in optimizer.param_groups:
            if group["weight_decay"]:
                group["weight_decay"] = config.final_weight_decay


def train_one_epoch(model, loader, optimizer, scheduler, *, device, config, progress=False,
                    desc="train", forward=None, teacher=None) -> dict:
    """Run one epoch; returns this rank's ``{"train_loss", "train_acc", "samples", "lr",
    "time_s"}``.

    Args:
        forward: callable ``x -> float32 logits`` used instead of ``model(x)`` (the fast path).
        teacher: a model in eval mode whose logits feed the distributional KD loss.
    """
    model.train()
    base = unwrap_model(model)
    forward = forward if forward is not None else model
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    batches = loader
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(loader, desc=desc, unit="batch", leave=False)
    report_every = max(1, len(loader) // 10)  # without progress bars: a log line per ~10 %
    for step, (x, y) in enumerate(batches, 1):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        logits = forward(x)
        loss = _loss(config, logits, y, x, teacher) + base.regularization_loss().to(device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if not torch.isfinite(loss.detach()):
            raise FloatingPointError(f"training loss became {float(loss)}; lower --lr")
        total_loss += loss.item() * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
        if progress:
            batches.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
        elif step % report_every == 0 and step < len(loader):
            log.info("%s: step %d/%d  loss %.4f  acc %.4f  %.0f img/s", desc, step, len(loader),
                     total_loss / seen, correct / seen, seen / (time.perf_counter() - start))
    return {"train_loss": total_loss / max(seen, 1), "train_acc": correct / max(seen, 1),
            "samples": seen, "lr": optimizer.param_groups[0]["lr"],
            "time_s": time.perf_counter() - start}


def _loss(config, logits, y, x, teacher):
    if teacher is None:
        return task_loss(config.loss, logits, y)
    with torch.no_grad():
        teacher_logits = teacher(x)
    kd = distribution_loss(logits, teacher_logits)
    if config.kd_weight >= 1.0:
        return kd
    return config.kd_weight * kd + (1.0 - config.kd_weight) * task_loss(config.loss, logits, y)


def evaluate_set(model, imageset, *, device, batch_size=500, progress=False, desc="eval",
                 forward=None) -> dict:
    """Loss (cross entropy) and top-1 accuracy of the (unwrapped) model in eval mode on a whole
    ImageSet; with ``forward`` (the fast path) instead of the eager fp32 model."""
    base = unwrap_model(model)
    if forward is None:
        logits = predict_logits(base, imageset.images, batch_size=batch_size, device=device,
                                progress=progress, desc=desc)
    else:
        logits = fast_predict_logits(base, forward, imageset.images, batch_size=batch_size,
                                     device=device)
    labels = torch.from_numpy(imageset.labels.astype(np.int64))
    loss = float(F.cross_entropy(torch.from_numpy(logits), labels)) if len(labels) else 0.0
    acc = float((logits.argmax(1) == imageset.labels).mean()) if len(labels) else 0.0
    return {"loss": loss, "acc": acc}


@torch.no_grad()
def fast_predict_logits(model, forward, images: np.ndarray, *, batch_size: int = 500,
                        device="cpu") -> np.ndarray:
    """Logits of ``forward`` (eval mode) on uint8 ``images``; the last batch is padded to
    ``batch_size`` (by repeating its first image) so the compiled graph sees one shape only.

    Padding cannot change the real rows: in eval mode every layer acts on each image alone.
    """
    from pynq_bnn import zoo

    model.eval()
    outputs = []
    for start in range(0, len(images), batch_size):
        x = zoo.to_model_input(images[start:start + batch_size]).to(device)
        real = len(x)
        if real < batch_size and len(images) > batch_size:
            x = torch.cat([x, x[:1].expand(batch_size - real, *x.shape[1:])])
        outputs.append(forward(x)[:real].float().cpu())
    if not outputs:
        return np.zeros((0, getattr(model, "num_classes", 0)), dtype=np.float32)
    return torch.cat(outputs).numpy()
