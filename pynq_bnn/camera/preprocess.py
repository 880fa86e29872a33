# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Camera frame → accelerator input: centre crop, area resize, BGR → RGB (all vectorized).

OpenCV delivers ``(H, W, 3)`` uint8 BGR frames; the models were trained on RGB images of a fixed
size (CIFAR-10: 32×32). The largest centred square (or the centred crop of the model's aspect
ratio) is cut out with a slice (no copy), shrunk with ``cv2.INTER_AREA`` (pixel-area averaging:
the right filter for downscaling, exact block means for integer factors), and the channel axis is
reversed. Grey frames ``(H, W)`` are expanded to three channels.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["center_crop", "preprocess", "preprocess_batch"]


def center_crop(frame: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Centred view of ``frame`` with width/height ratio ``aspect`` (a slice, no copy)."""
    height, width = frame.shape[:2]
    crop_w = min(width, int(round(height * aspect)))
    crop_h = min(height, int(round(crop_w / aspect)))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return frame[top:top + crop_h, left:left + crop_w]


def preprocess(frame: np.ndarray, size=(32, 32), *, bgr: bool = True) -> np.ndarray:
    """One frame → uint8 ``(H, W, C)`` RGB image of ``size = (H, W)`` for the overlay.

    Args:
        frame: uint8 ``(h, w, 3)`` (BGR when ``bgr``) or ``(h, w)`` grey frame.
        size: output ``(height, width)``.
        bgr: reverse the channel axis (OpenCV frames are BGR).
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"frames must be uint8 (h, w) or (h, w, 3), got {frame.dtype} {frame.shape}")
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    height, width = int(size[0]), int(size[1])
    cropped = center_crop(frame, width / height)
    if cropped.shape[:2] != (height, width):
        cropped = cv2.resize(cropped, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cropped[:, :, ::-1] if bgr else cropped)


def preprocess_batch(frames, size=(32, 32), *, bgr: bool = True) -> np.ndarray:
    """Stack of :func:`preprocess` results, uint8 ``(N, H, W, 3)``."""
    return np.stack([preprocess(f, size, bgr=bgr) for f in frames])
