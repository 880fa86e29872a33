# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CIFAR-style augmentation in torch (torchvision is not available): random crop + flip.

Both operate on a whole batch at once: the batch is zero-padded by ``padding`` pixels, each image
gets its own random offset (one gather over precomputed index grids, no Python loop per image) and
a horizontal flip with probability 1/2. Zero padding keeps the input contract (values in [0, 1]).
"""
import torch

__all__ = ["random_crop_flip"]


def random_crop_flip(x: torch.Tensor, padding: int = 4, generator: torch.Generator = None) -> torch.Tensor:
    """Randomly crop (after zero padding) and horizontally flip each image of ``x`` (N, C, H, W)."""
    if x.dim() != 4:
        raise ValueError(f"random_crop_flip expects (N, C, H, W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = (dy[:, None] + torch.arange(h)[None, :])  # (N, H)
    cols = torch.arange(w)[None, :].expand(n, w)
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + dx[:, None]  # (N, W)
    batch = torch.arange(n)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()
