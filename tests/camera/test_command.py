# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``python -m pynq_bnn.camera`` on a small synthetic video, and transient DMA timeouts that are
retried and counted instead of ending the demo."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.camera import run_demo
from pynq_bnn.camera.__main__ import main
from pynq_bnn.camera.capture import FrameSource
from pynq_bnn.camera.preprocess import preprocess
from pynq_bnn.driver import BNNOverlay
from pynq_bnn.driver.device_sim import use_simulated_device
from pynq_bnn.driver.errors import DMATimeoutError

from ..driver.conftest import checksum_accelerator, write_small_package
from .conftest import write_video

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_overlay(tmp_path):
    write_small_package(tmp_path / "pkg")
    device = use_simulated_device(accelerator=checksum_accelerator)
    with BNNOverlay(tmp_path / "pkg", device=device, timeout_s=0.1) as overlay:
        yield overlay


def synthetic_frames(n, seed=0):
    """Random BGR frames (20x16: the small package's 5x4 input times 4)."""
    return [np.random.default_rng(seed + i).integers(0, 256, (20, 16, 3), dtype=np.uint8)
            for i in range(n)]


class StallOnce:
    """Stall the simulated accelerator at the given frames (the driver times out, resets)."""

    def __init__(self, overlay, stall_at):
        self.overlay, self.stall_at, self.calls = overlay, set(stall_at), 0
        self.classes, self.input_shape = overlay.classes, overlay.input_shape
        self.timing, self.estimate = overlay.timing, overlay.estimate

    def predict(self, images):
        self.overlay.device.accelerator.stall = self.calls in self.stall_at
        self.calls += 1
        return self.overlay.predict(images)


def test_transient_dma_timeout_is_retried_and_counted(small_overlay):
    frames = synthetic_frames(5)
    expected = np.stack([checksum_accelerator(preprocess(f, (5, 4))[None])[0] for f in frames])
    stats = run_demo(frames, StallOnce(small_overlay, stall_at={1, 4}))  # frames 1 and 3
    assert stats.frames == 5 and stats.dma_retries == 2
    np.testing.assert_array_equal(stats.predictions, expected)
    assert stats.timing == "simulated" and "simulated on the host CPU" in stats.summary()
    assert "2 DMA retries" in stats.summary()


def test_persistent_dma_timeout_ends_the_demo(small_overlay):
    with pytest.raises(DMATimeoutError):
        run_demo(synthetic_frames(3), StallOnce(small_overlay, stall_at={0, 1, 2}),
                 max_retries=2)


def test_camera_command_on_a_video_file(tmp_path, cifar_images, capsys, data_dir,
                                        package_cache_dir):
    from pynq_bnn.driver.demo import demo_package

    package = demo_package("cifar10", package_cache_dir, data_dir=data_dir)
    video = write_video(tmp_path / "clip.avi", cifar_images[:6])
    out = tmp_path / "annotated.avi"
    assert main(["--overlay", str(package), "--source", str(video), "--out", str(out),
                 "--sim"]) == 0
    printed = capsys.readouterr().out
    assert "6 frames (0 dropped, 0 corrupt, 0 DMA retries)" in printed
    assert "simulated on the host CPU (not hardware)" in printed
    assert len(list(FrameSource(str(out)))) == 6


def test_camera_command_user_errors_are_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pynq_bnn.camera", "--overlay",
                             str(tmp_path / "missing"), "--source", "clip.avi", "--sim"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and "Traceback" not in result.stderr
    assert "accelerator.json" in result.stderr
