# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The pieces of one training run: optimizer groups, LR schedule, one epoch, evaluation.

Loss: ``cross_entropy(logits, y) + model.regularization_loss()`` (e.g. FracBNN's gate-target
term); the gradient of every binarizer is its surrogate (STE / ApproxSign / technique-specific).

Binary latent weights need no extra clipping step here: the ``BinaryWeight`` recipe quantizes
with Brevitas' ``ClampedBinaryQuant``, whose in-place clamp keeps every latent weight within
``±scale`` at each forward pass (BinaryConnect-style clipping, Courbariaux et al. 2015).
"""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from pynq_bnn.checkpoint import unwrap_model
from pynq_bnn.eval.metrics import predict_logits
from pynq_bnn.utils.modules import binary_weight_modules

__all__ = ["make_optimizer", "make_scheduler", "train_one_epoch", "evaluate_set"]


def make_optimizer(model: torch.nn.Module, config) -> torch.optim.Optimizer:
    """Adam or SGD with two parameter groups: decayed full-precision weights (``dim > 1``, not
    binary) and everything else (binary latent weights, BN affine, biases, scales) undecayed."""
    binary = {id(m.weight) for m in binary_weight_modules(unwrap_model(model)).values()}
    decayed, plain = [], []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        (decayed if param.dim() > 1 and id(param) not in binary else plain).append(param)
    groups = [{"params": plain, "weight_decay": 0.0}]
    if decayed:
        groups.append({"params": decayed, "weight_decay": config.weight_decay})
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)


def make_scheduler(optimizer, config, steps_per_epoch: int):
    """Per-batch LR factor over ``epochs × steps_per_epoch`` steps: cosine or linear decay to 0,
    or constant."""
    total = max(1, config.epochs * steps_per_epoch)
    if config.schedule == "cosine":
        def factor(step):
            return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    elif config.schedule == "linear":
        def factor(step):
            return max(0.0, 1.0 - step / total)
    else:
        def factor(step):
            return 1.0
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_one_epoch(model, loader, optimizer, scheduler, *, device, config, progress=False,
                    desc="train") -> dict:
    """Run one epoch; returns this rank's ``{"train_loss", "train_acc", "samples", "lr",
    "time_s"}``."""
    model.train()
    base = unwrap_model(model)
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    batches = loader
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(loader, desc=desc, unit="batch", leave=False)
    for x, y in batches:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y) + base.regularization_loss().to(device)
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
    return {"train_loss": total_loss / max(seen, 1), "train_acc": correct / max(seen, 1),
            "samples": seen, "lr": optimizer.param_groups[0]["lr"],
            "time_s": time.perf_counter() - start}


def evaluate_set(model, imageset, *, device, batch_size=500, progress=False, desc="eval") -> dict:
    """Loss and top-1 accuracy of the (unwrapped) model in eval mode on a whole ImageSet."""
    base = unwrap_model(model)
    logits = predict_logits(base, imageset.images, batch_size=batch_size, device=device,
                            progress=progress, desc=desc)
    labels = torch.from_numpy(imageset.labels.astype(np.int64))
    loss = float(F.cross_entropy(torch.from_numpy(logits), labels)) if len(labels) else 0.0
    acc = float((logits.argmax(1) == imageset.labels).mean()) if len(labels) else 0.0
    return {"loss": loss, "acc": acc}
