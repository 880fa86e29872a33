# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Centre crop, INTER_AREA resize and BGR->RGB are exact where they should be."""
import numpy as np
import pytest

from pynq_bnn.camera.capture import FrameSource
from pynq_bnn.camera.preprocess import center_crop, preprocess, preprocess_batch


def test_crop_resize_rgb_recovers_upscaled_image(cifar_images):
    image = cifar_images[0]
    big = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)
    frame = np.pad(big, ((0, 0), (40, 40), (0, 0)))[:, :, ::-1]  # wide BGR frame
    assert np.array_equal(preprocess(frame, (32, 32)), image)
    assert preprocess_batch([frame, frame]).shape == (2, 32, 32, 3)


def test_center_crop_is_a_centred_view():
    frame = np.arange(6 * 10, dtype=np.uint8).reshape(6, 10)
    crop = center_crop(frame)
    assert crop.shape == (6, 6) and np.shares_memory(crop, frame) and crop[0, 0] == 2
    assert center_crop(frame, aspect=2.0).shape == (5, 10)


def test_grey_and_bad_frames():
    assert preprocess(np.full((64, 64), 7, np.uint8), (28, 28)).shape == (28, 28, 3)
    with pytest.raises(ValueError, match="uint8"):
        preprocess(np.zeros((8, 8, 3), np.float32))


def test_frame_source_counts_drops_and_corrupt_frames():
    good = np.zeros((4, 4, 3), np.uint8)
    stream = [good, None, good, np.zeros((4, 4, 3), np.float32), None, None, good, None, None]
    source = FrameSource(stream, max_failures=5)
    assert len(list(source)) == 3
    assert (source.dropped, source.corrupt, source.delivered) == (3, 1, 3)


def test_missing_video_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot open"):
        FrameSource(str(tmp_path / "missing.avi"))
