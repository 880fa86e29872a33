# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Sign binarizers with explicit surrogate gradients.

Forward (both): :math:`\operatorname{sign}(x) = +1` if :math:`x \ge 0` else :math:`-1` (zero maps
to +1, as QONNX ``BipolarQuant`` and the hardware threshold compare ``acc >= T`` do).

Backward:

* ``sign_ste`` — clipped straight-through estimator (Courbariaux et al., 2016):
  :math:`\partial y/\partial x = \mathbb{1}[|x| \le 1]`.
* ``approx_sign`` — ApproxSign of Bi-Real Net (Liu et al., ECCV 2018), the derivative of the
  piecewise quadratic :math:`F(x)`: :math:`\partial y/\partial x = (2 - 2|x|)\,\mathbb{1}[|x| < 1]`.

Hardware mapping: the forward function is the only thing deployed; in a streaming layer it is the
``>=`` compare of an accumulator with a per-channel integer threshold (BN folded in). The
gradient choice leaves no trace in the exported graph.

Example:
    >>> import torch
    >>> x = torch.tensor([-2.0, -0.5, 0.0, 0.5], requires_grad=True)
    >>> approx_sign(x).sum().backward()
    >>> x.grad.tolist()
    [0.0, 1.0, 2.0, 1.0]
"""
import torch

__all__ = ["sign_ste", "approx_sign", "binary_sign", "get_binarizer", "BINARIZERS"]


def binary_sign(x: torch.Tensor) -> torch.Tensor:
    """Sign with ``sign(0) = +1`` (no gradient)."""
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return binary_sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (x.abs() <= 1).to(grad_out.dtype)


class _ApproxSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return binary_sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.clamp(2.0 - 2.0 * x.abs(), min=0.0)


def sign_ste(x: torch.Tensor) -> torch.Tensor:
    """Sign with the clipped straight-through gradient ``1[|x| <= 1]``."""
    return _SignSTE.apply(x)


def approx_sign(x: torch.Tensor) -> torch.Tensor:
    """Sign with Bi-Real Net's ApproxSign gradient ``max(0, 2 - 2|x|)``."""
    return _ApproxSign.apply(x)


BINARIZERS = {"ste": sign_ste, "approx_sign": approx_sign}


def get_binarizer(name: str):
    """Return the binarizer function registered under ``name`` ("ste" or "approx_sign")."""
    try:
        return BINARIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown binarizer {name!r}; choose one of {sorted(BINARIZERS)}"
        ) from None
