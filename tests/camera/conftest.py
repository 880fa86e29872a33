# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Camera fixtures: real CIFAR-10 test images and a lossless video made from them."""
import cv2
import numpy as np
import pytest

from pynq_bnn.data import load_dataset

UPSCALE = 4


@pytest.fixture(scope="session")
def cifar_images(data_dir):
    """First 24 CIFAR-10 test images, uint8 NHWC RGB."""
    return load_dataset("cifar10", "test", data_dir=data_dir).images[:24].transpose(0, 2, 3, 1).copy()


def write_video(path, images_rgb, *, upscale=UPSCALE, border=0, fourcc="FFV1"):
    """Frames = images upscaled (nearest) ×``upscale``, padded left/right by ``border`` px, BGR."""
    height, width = images_rgb.shape[1] * upscale, images_rgb.shape[2] * upscale + 2 * border
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (width, height))
    assert writer.isOpened(), f"codec {fourcc} unavailable"
    for image in images_rgb:
        big = np.repeat(np.repeat(image, upscale, axis=0), upscale, axis=1)[:, :, ::-1]
        writer.write(np.ascontiguousarray(np.pad(big, ((0, 0), (border, border), (0, 0)),
                                                 constant_values=255)))
    writer.release()
    return path


@pytest.fixture(scope="session")
def cifar_overlay(data_dir, package_cache_dir):
    """BNNOverlay (simulated device) of a real compiled CNV package (cached, see demo_package)."""
    from pynq_bnn.driver import BNNOverlay
    from pynq_bnn.driver.demo import demo_package

    package = demo_package("cifar10", package_cache_dir,
                           data_dir=data_dir)
    with BNNOverlay(package, device="sim") as overlay:
        yield overlay
