# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""BNNOverlay on the simulated device: pynq.Overlay + allocate + pynq's DMA driver end to end,
input rules, buffer reuse, timeouts and DMA errors (with an injected stand-in accelerator)."""
import json

import numpy as np
import pynq
import pytest

from pynq_bnn.driver import BNNOverlay, DMAError, DMATimeoutError, InputError
from pynq_bnn.driver.device_sim import SimulatedDevice, use_simulated_device
from pynq_bnn.driver.errors import SimulatedDeviceWarning
from pynq_bnn.driver.timing import format_benchmark

from .conftest import checksum_accelerator, write_small_package, random_images





def test_runs_through_pynq_objects(overlay):
    assert isinstance(overlay.overlay, pynq.Overlay)
    assert type(overlay.dma).__name__ == "DMA"  # pynq.lib.dma.DMA bound from the metadata
    assert pynq.Device.active_device is overlay.device
    assert isinstance(overlay.device, SimulatedDevice)
    images = random_images(7)
    assert np.array_equal(overlay.predict(images), checksum_accelerator(images))
    assert isinstance(overlay._in_buf, pynq.buffer.PynqBuffer)


@pytest.mark.parametrize("ip_control", ["ap_ctrl_hs", "ap_ctrl_none"])
@pytest.mark.parametrize("word_bits", [64, 128])
def test_any_batch_size_and_buffer_growth(tmp_path, ip_control, word_bits):
    write_small_package(tmp_path, ip_control=ip_control, word_bits=word_bits)
    device = use_simulated_device(accelerator=checksum_accelerator)
    ol = BNNOverlay(tmp_path, device=device, max_batch=16)
    for n in (1, 3, 40, 2):  # 40 > max_batch: split into transfers
        images = random_images(n, seed=n)
        assert np.array_equal(ol.predict(images), checksum_accelerator(images))
    assert ol._capacity == 16
    assert device.accelerator.images_processed == 46


def test_layouts_and_single_image(overlay):
    images = random_images(3)
    nchw = images.transpose(0, 3, 1, 2).copy()
    assert np.array_equal(overlay.predict(nchw, layout="NCHW"), overlay.predict(images))
    assert overlay.predict(images[0]).shape == (1, 2)
    assert overlay.classify(images[:1]) == [f"c{checksum_accelerator(images[:1])[0, 0]}"]


def test_bad_inputs_are_clear(overlay):
    with pytest.raises(InputError, match="uint8"):
        overlay.predict(random_images(2).astype(np.float32))
    with pytest.raises(InputError, match="layout='NCHW'"):
        overlay.predict(random_images(2).transpose(0, 3, 1, 2))
    with pytest.raises(InputError, match=r"\(N, 5, 4, 3\)"):
        overlay.predict(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(InputError, match="4-D"):
        overlay.predict(np.zeros((5, 4), np.uint8))


def test_stalled_accelerator_times_out_then_recovers(overlay):
    overlay.device.accelerator.stall = True
    with pytest.raises(DMATimeoutError) as info:
        overlay.predict(random_images(2))
    assert info.value.channel == "send" and "running, busy" in str(info.value)
    images = random_images(4)
    assert np.array_equal(overlay.predict(images), checksum_accelerator(images))


def test_missing_results_time_out_on_recv(overlay):
    images = random_images(3)
    overlay._ensure_buffers(3)
    overlay.dma.recvchannel.transfer(overlay._out_buf, nbytes=3 * 8)
    overlay.dma.sendchannel.transfer(overlay._in_buf, nbytes=2 * 64)  # 2 images sent
    overlay.ip.write(0x10, 3)  # ...but 3 announced: the accelerator waits for the third
    overlay.ip.write(0x00, 1)
    overlay._wait(overlay.dma.sendchannel, "send", 0x04)
    with pytest.raises(DMATimeoutError, match="recv"):
        overlay._wait(overlay.dma.recvchannel, "recv", 0x34)
    overlay._recover("test")  # what _run does after any failed wait
    assert np.array_equal(overlay.predict(images), checksum_accelerator(images))


def test_too_small_result_buffer_is_a_dma_error(overlay):
    overlay._ensure_buffers(4)
    overlay.dma.recvchannel.transfer(overlay._out_buf, nbytes=8)  # room for 1 result
    overlay.dma.sendchannel.transfer(overlay._in_buf, nbytes=4 * 64)
    overlay.ip.write(0x10, 4)
    overlay.ip.write(0x00, 1)
    with pytest.raises(DMAError, match="DMAIntErr"):
        overlay._wait(overlay.dma.recvchannel, "recv", 0x34)
    overlay._recover("test")
    images = random_images(4)
    assert np.array_equal(overlay.predict(images), checksum_accelerator(images))


def test_benchmark_reports_stages(overlay):
    result = overlay.benchmark(random_images(8), repeats=5)
    assert result["batch_size"] == 8 and result["repeats"] == 5
    assert result["timing"] == "simulated"
    assert result["clock"].startswith("simulated") and result["clock_mhz"] is None
    assert set(result["latency_ms"]) == {"p50", "p90", "p99"}
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    assert set(result["stage_ms"]) == {"preprocess", "pack", "simulated_accelerator", "unpack"}
    assert result["fps"] > 0 and result["simulated_accelerator_fps"] >= result["fps"]
    assert 0 <= result["simulated_compute_ms"] <= result["stage_ms"]["simulated_accelerator"]
    assert not [key for key in _all_keys(result) if "hardware" in key]  # nothing simulated is
    assert result["estimated"] is None  # called hardware; this package has no report.json
    assert "simulated on the host CPU" in format_benchmark(result)
    assert "no hardware estimate" in format_benchmark(result)


def _all_keys(tree):
    for key, value in tree.items():
        yield key
        if isinstance(value, dict):
            yield from _all_keys(value)


def test_benchmark_shows_the_package_estimate_beside_simulated_time(small_package):
    report = {"steps": {"estimate": {"clock_mhz": 100.0, "pipeline": {
        "fps": 10960.1, "latency_us": 1143.87}}}}
    (small_package / "report.json").write_text(json.dumps(report))
    device = use_simulated_device(accelerator=checksum_accelerator)
    result = BNNOverlay(small_package, device=device).benchmark(random_images(4), repeats=2)
    assert result["estimated"]["fps"] == pytest.approx(10960.1)
    assert result["estimated"]["latency_ms"] == pytest.approx(1.14387)
    line = format_benchmark(result)
    assert line.startswith("simulated on the host CPU (numpy model, not hardware)")
    assert "hardware estimate: 10,960 img/s, latency 1.144 ms" in line and "100 MHz" in line


def test_device_none_without_board_warns(small_package, monkeypatch):
    monkeypatch.setattr(pynq.Device, "_devices", [], raising=False)  # no board
    monkeypatch.setattr("pynq_bnn.driver.device_sim.compiled_accelerator",
                        lambda package_dir, spec: checksum_accelerator)
    with pytest.warns(SimulatedDeviceWarning, match="device='sim'"):
        ol = BNNOverlay(small_package)
    assert ol.simulated and ol.timing == "simulated"


def test_probe_and_explicit_activation(small_package, monkeypatch):
    monkeypatch.delenv("PYNQ_BNN_SIMULATE", raising=False)
    assert SimulatedDevice._probe_() == []
    monkeypatch.setenv("PYNQ_BNN_SIMULATE", "1")
    assert [type(d) for d in SimulatedDevice._probe_()] == [SimulatedDevice]
    device = use_simulated_device(small_package, accelerator=checksum_accelerator)
    assert pynq.Device.active_device is device and device.spec.model == "checksum"
    assert device in pynq.Device.devices
