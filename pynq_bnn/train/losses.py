# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Task losses of the training loop.

* ``"ce"`` — cross entropy of the logits.
* ``"sqr_hinge"`` — squared hinge on ±1 one-hot targets,
  :math:`\frac{1}{NK}\sum_{n,k} \max(0, 1 - t_{nk} y_{nk})^2` with :math:`t_{nk} = +1` for the
  true class and :math:`-1` otherwise: the loss of BinaryNet (Courbariaux et al. 2016) and of
  the Brevitas ``bnn_pynq`` trainer (``SqrHingeLoss``, mean over batch and classes).
* :func:`distribution_loss` — ReActNet's distributional loss (Liu et al., "ReActNet: Towards
  Precise Binary Neural Network with Generalized Activation Functions", ECCV 2020, eq. 4): the
  KL divergence from a full-precision teacher's softmax :math:`p^T` to the binary student's
  :math:`p^S`, :math:`\frac{1}{N}\sum_n\sum_c p^T_{nc} \log(p^T_{nc} / p^S_{nc})`, which makes
  the student mimic the teacher's whole output distribution instead of one-hot labels.
"""
import torch
import torch.nn.functional as F

__all__ = ["task_loss", "squared_hinge_loss", "distribution_loss"]


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


def distribution_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """ReActNet's distributional loss ``KL(p_teacher || p_student)``, mean over the batch."""
    teacher_log_p = F.log_softmax(teacher_logits.float(), dim=1)
    student_log_p = F.log_softmax(student_logits.float(), dim=1)
    return F.kl_div(student_log_p, teacher_log_p, reduction="batchmean", log_target=True)
