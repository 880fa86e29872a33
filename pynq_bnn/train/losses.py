# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Task losses of the training loop.

* ``"ce"`` — cross entropy of the logits.
* ``"sqr_hinge"`` — squared hinge on ±1 one-hot targets,
  :math:`\frac{1}{NK}\sum_{n,k} \max(0, 1 - t_{nk} y_{nk})^2` with :math:`t_{nk} = +1` for the
  true class and :math:`-1` otherwise: the loss of BinaryNet (Courbariaux et al. 2016) and of
  the Brevitas ``bnn_pynq`` trainer (``SqrHingeLoss``, mean over batch and classes).
"""
import torch
import torch.nn.functional as F

__all__ = ["task_loss", "squared_hinge_loss"]


def squared_hinge_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean squared hinge loss of ``logits`` (N, K) against integer ``labels`` (N,)."""
    targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype) * 2.0 - 1.0
    return torch.clamp(1.0 - targets * logits, min=0.0).square().mean()


def task_loss(kind: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The task loss ``kind`` (``"ce"`` or ``"sqr_hinge"``) of float logits."""
    if kind == "sqr_hinge":
        return squared_hinge_loss(logits, labels)
    if kind == "ce":
        return F.cross_entropy(logits, labels)
    raise ValueError(f"unknown loss {kind!r}; use 'ce' or 'sqr_hinge'")
