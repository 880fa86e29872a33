# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Label and FPS drawn onto a BGR frame (in place, OpenCV primitives)."""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["draw_label"]


def draw_label(frame: np.ndarray, label: str, fps: float | None = None, *,
               fps_label: str = "") -> np.ndarray:
    """Write ``label`` (and ``fps`` + ``fps_label``, e.g. ``" (sim)"`` for simulated timing) in
    the top-left corner of ``frame`` on a dark band."""
    scale = max(frame.shape[0] / 480.0, 0.35)
    thickness = max(int(round(2 * scale)), 1)
    text = label if fps is None else f"{label}  {fps:5.1f} FPS{fps_label}"
    (text_w, text_h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(frame, (0, 0), (text_w + 8, text_h + base + 8), (0, 0, 0), thickness=-1)
    cv2.putText(frame, text, (4, text_h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                thickness, cv2.LINE_AA)
    return frame
