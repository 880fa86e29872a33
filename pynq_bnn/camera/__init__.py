# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Live camera demo: capture → centre-crop/resize/RGB → overlay → label + FPS on the frame.

* :mod:`~pynq_bnn.camera.capture` — frames from a camera index, a video file or any iterable,
  counting dropped and corrupt frames.
* :mod:`~pynq_bnn.camera.preprocess` — vectorized centre crop, ``cv2.INTER_AREA`` resize, BGR→RGB.
* :mod:`~pynq_bnn.camera.draw` — label and FPS drawn on the frame.
* :mod:`~pynq_bnn.camera.pipeline` — :func:`run_demo`, timing capture/preprocess/accelerator/display.
"""
from pynq_bnn.camera.capture import FrameSource
from pynq_bnn.camera.draw import draw_label
from pynq_bnn.camera.pipeline import DemoStats, run_demo
from pynq_bnn.camera.preprocess import preprocess, preprocess_batch

__all__ = ["FrameSource", "preprocess", "preprocess_batch", "draw_label", "run_demo", "DemoStats"]
