# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The driver survives what users do: Ctrl-C during a transfer, empty batches, a DMA that never
comes back from reset; and recovery never reloads the bitstream under live DMA buffers."""
import numpy as np
import pytest

from pynq_bnn.driver import BNNOverlay, InputError
from pynq_bnn.driver.device_sim import use_simulated_device
from pynq_bnn.driver.errors import DMAResetError

from .conftest import checksum_accelerator, random_images

MM2S_DMASR_ADDRESS = 0x4040_0000 + 0x04





def interrupt_status_reads(device, after: int):
    """Make the ``after``-th read of the MM2S status register raise KeyboardInterrupt (Ctrl-C
    arriving while the driver polls the DMA)."""
    original = device.read_registers
    count = {"reads": 0}

    def read_registers(address, length):
        if address == MM2S_DMASR_ADDRESS:
            count["reads"] += 1
            if count["reads"] == after:
                raise KeyboardInterrupt
        return original(address, length)

    device.read_registers = read_registers
    return lambda: setattr(device, "read_registers", original)


def test_ctrl_c_during_dma_wait_leaves_a_usable_overlay(overlay):
    overlay.device.accelerator.stall = True  # the transfer is in flight when Ctrl-C comes
    restore = interrupt_status_reads(overlay.device, after=3)
    with pytest.raises(KeyboardInterrupt):
        overlay.predict(random_images(4))
    restore()
    batch = random_images(6, seed=1)
    np.testing.assert_array_equal(overlay.predict(batch), checksum_accelerator(batch))
    assert overlay.recoveries == 1


def test_second_ctrl_c_during_recovery_is_repaired_by_the_next_call(overlay, monkeypatch):
    real_recover = overlay._recover
    calls = []

    def interrupted_recover(reason):
        calls.append(reason)
        if len(calls) == 1:  # Ctrl-C pressed again while the first recovery runs
            overlay.dma.mmio.write(0x00, 0x4)  # it got as far as resetting the DMA
            raise KeyboardInterrupt
        real_recover(reason)

    monkeypatch.setattr(overlay, "_recover", interrupted_recover)
    overlay.device.accelerator.stall = True
    restore = interrupt_status_reads(overlay.device, after=2)
    with pytest.raises(KeyboardInterrupt):
        overlay.predict(random_images(3))
    restore()
    overlay.device.accelerator.stall = False  # the transfer would have finished
    assert overlay.dma.sendchannel.running is False  # the DMA was left in reset: unusable as is
    batch = random_images(4, seed=4)
    np.testing.assert_array_equal(overlay.predict(batch), checksum_accelerator(batch))
    assert calls == ["KeyboardInterrupt during a transfer", "an earlier call was interrupted"]


def test_ctrl_c_after_the_accelerator_finished_does_not_reload(overlay, monkeypatch):
    downloads = []
    monkeypatch.setattr(overlay.overlay, "download", lambda *a, **k: downloads.append(1))
    restore = interrupt_status_reads(overlay.device, after=1)
    with pytest.raises(KeyboardInterrupt):
        overlay.predict(random_images(2))  # the simulated run completed: the accelerator is idle
    restore()
    assert downloads == []  # an idle accelerator needs only the DMA reset
    batch = random_images(3, seed=2)
    np.testing.assert_array_equal(overlay.predict(batch), checksum_accelerator(batch))


def test_recovery_frees_buffers_before_reloading_the_bitstream(overlay, monkeypatch):
    seen = []
    original = overlay.overlay.download

    def download(*args, **kwargs):
        seen.append((overlay._in_buf, overlay._out_buf, overlay.device.dma.pending.copy()))
        return original(*args, **kwargs)

    monkeypatch.setattr(overlay.overlay, "download", download)
    overlay.device.accelerator.stall = True
    with pytest.raises(TimeoutError):
        overlay.predict(random_images(2))
    assert seen == [(None, None, {})]  # no live buffer, no transfer pending at the reload
    batch = random_images(5, seed=3)
    np.testing.assert_array_equal(overlay.predict(batch), checksum_accelerator(batch))


def test_dma_reset_has_a_deadline(overlay):
    overlay.device.accelerator.stall = True
    overlay.device.dma.reset_stuck = True
    with pytest.raises(DMAResetError, match="AXI DMA reset did not complete within 0.2 s"):
        overlay.predict(random_images(2))


def test_empty_batches(overlay):
    empty = np.zeros((0, 5, 4, 3), np.uint8)
    out = overlay.predict(empty)
    assert out.shape == (0, 2) and out.dtype == np.int64
    assert overlay.classify(empty) == []
    assert overlay.device.accelerator.images_processed == 0
    with pytest.raises(InputError, match="at least one image"):
        overlay.benchmark(empty, repeats=2)
    assert overlay.recoveries == 0


def test_dma_start_has_a_deadline(small_package):
    """pynq's DMA driver would spin forever on a DMA that never leaves Halted (no PL clock)."""
    device = use_simulated_device(accelerator=checksum_accelerator)
    device.dma_halt_stuck = True
    with pytest.raises(DMAResetError, match="AXI DMA start"):
        BNNOverlay(small_package, device=device, timeout_s=0.1)
