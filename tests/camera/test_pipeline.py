# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The demo loop on a lossless video of real CIFAR-10 test images: the per-frame predictions equal
the overlay's predictions on the original images."""
import cv2
import numpy as np
import pytest

from pynq_bnn.camera import run_demo
from pynq_bnn.camera.capture import FrameSource

from .conftest import write_video


class RecordingOverlay:
    """Wraps an overlay and records the exact images it was asked to classify."""

    def __init__(self, overlay):
        self.overlay, self.seen = overlay, []
        self.classes, self.input_shape = overlay.classes, overlay.input_shape

    def predict(self, images):
        self.seen.append(images.copy())
        return self.overlay.predict(images)


def test_video_frames_reach_the_overlay_pixel_exact(tmp_path, cifar_images, cifar_overlay):
    video = write_video(tmp_path / "cifar.avi", cifar_images, border=16)
    recorder = RecordingOverlay(cifar_overlay)
    stats = run_demo(str(video), recorder, display="video", output=tmp_path / "out.avi")
    assert stats.frames == len(cifar_images) and stats.dropped == 0 and stats.corrupt == 0
    assert np.array_equal(np.concatenate(recorder.seen), cifar_images)
    assert np.array_equal(stats.predictions, cifar_overlay.predict(cifar_images))
    assert set(stats.stage_ms) == {"capture", "preprocess", "accelerator", "display"}
    annotated = list(FrameSource(str(tmp_path / "out.avi")))
    assert len(annotated) == len(cifar_images) and annotated[0].shape == (128, 160, 3)


def test_loop_survives_bad_frames_and_stops_at_max_frames(cifar_images, cifar_overlay):
    frames = [np.ascontiguousarray(np.repeat(np.repeat(im, 2, 0), 2, 1)[:, :, ::-1])
              for im in cifar_images[:6]]
    stream = [frames[0], None, frames[1], b"garbage", frames[2], None, None, frames[3], frames[4]]
    stats = run_demo(stream, cifar_overlay, max_frames=4)
    assert (stats.frames, stats.dropped, stats.corrupt) == (4, 3, 1)
    assert np.array_equal(stats.predictions, cifar_overlay.predict(cifar_images[:4]))


def test_widget_display_updates_one_image(cifar_images, cifar_overlay, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda widget: shown.append(widget))
    frames = [np.ascontiguousarray(im[:, :, ::-1]) for im in cifar_images[:3]]
    stats = run_demo(frames, cifar_overlay, display="widget")
    assert stats.frames == 3 and len(shown) == 1
    decoded = cv2.imdecode(np.frombuffer(shown[0].value, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (32, 32, 3)


def test_bad_display_arguments(cifar_overlay):
    with pytest.raises(ValueError, match="output"):
        run_demo([], cifar_overlay, display="video")
    with pytest.raises(ValueError, match="display"):
        run_demo([], cifar_overlay, display="screen")
