# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``BNNOverlay``: classify uint8 images with an overlay package, on a board or simulated.

Data path of one batch (FINN's fold → pack → copy → run → copy → unpack, without the folds since
the hardware streams NHWC):

1. validate the images (uint8, ``(N, H, W, C)`` of the package's input shape),
2. pack them into the reused input DMA buffer (:func:`~pynq_bnn.driver.packing.pack_input`; for
   8-bit pixels on 64-bit words this is one ``memcpy``),
3. arm S2MM (results) then MM2S (images) of the AXI DMA, write ``num_images`` and ``ap_start`` to
   the accelerator (``ap_ctrl_hs``, registers of ``compiler/templates/CONTRACT.md``),
4. poll both DMA channels until idle, with a deadline (:class:`DMATimeoutError`) and a check of
   the error bits (:class:`DMAError`); after either error the overlay is downloaded again (the
   only way to reset an accelerator stuck mid-batch) so the next call works,
5. unpack the top-k class indices.

Everything goes through pynq (``pynq.Overlay``, ``pynq.allocate``, ``pynq.lib.dma.DMA``); off the
board the device is :class:`~pynq_bnn.driver.device_sim.SimulatedDevice`, so this module has no
simulation branch except choosing the device and the clock report.

Input rule (no guessing): ``predict`` takes ``(N, H, W, C)`` uint8 (or one ``(H, W, C)`` image);
pass ``layout="NCHW"`` for ``(N, C, H, W)`` arrays such as :mod:`pynq_bnn.data` images. Images of
another size are an error (resize them first, e.g. with :mod:`pynq_bnn.camera`).
"""
from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pynq

from pynq_bnn.driver.errors import DMAError, DMATimeoutError, InputError, decode_dma_status
from pynq_bnn.driver.hwh import verify_hwh
from pynq_bnn.driver.packing import pack_input, packed_words, unpack_output
from pynq_bnn.driver.spec import check_package_files, load_spec, spec_path

__all__ = ["BNNOverlay"]

log = logging.getLogger(__name__)

MM2S_DMASR, S2MM_DMASR, MM2S_DMACR = 0x04, 0x34, 0x00
DMA_ERROR_BITS, DMA_IDLE, DMA_RESET = 0x770, 0x2, 0x4
AP_CTRL, AP_START, NUM_IMAGES = 0x00, 0x1, 0x10


class BNNOverlay:
    """Driver of one overlay package ``overlays/<name>/``.

    Args:
        package_dir: folder holding ``accelerator.json`` (+ ``graph.json``/``params.npz``, and
            ``<name>.bit``/``<name>.hwh`` when synthesized).
        device: ``None`` (the board's device when there is one, else a simulated device),
            ``"sim"`` (always simulate), or a ``pynq.Device``.
        timeout_s: deadline of each DMA wait; raises :class:`DMATimeoutError` when exceeded.
        max_batch: images per DMA transfer (larger batches are split); bounds buffer memory.

    Raises:
        OverlayFileError, SpecError: missing/corrupt package files or ``accelerator.json``.
        HwhMismatchError: the ``.hwh`` disagrees with ``accelerator.json`` (board only).

    Example:
        >>> ol = BNNOverlay("overlays/cnv")                       # doctest: +SKIP
        >>> ol.predict(images_nhwc)[:, 0]                         # doctest: +SKIP
    """

    def __init__(self, package_dir, *, device=None, timeout_s: float = 5.0, max_batch: int = 1024):
        if timeout_s <= 0 or max_batch <= 0:
            raise ValueError("timeout_s and max_batch must be positive")
        self.package_dir = Path(package_dir)
        self.spec = load_spec(self.package_dir)
        self.timeout_s = float(timeout_s)
        self.max_batch = int(max_batch)
        self.device, self.simulated = _choose_device(device)
        if self.simulated:
            check_package_files(self.spec, self.package_dir, ("graph",))
            hwh = self.package_dir / self.spec.files.get("hwh", "-")
            if hwh.is_file():  # a synthesized package: its .hwh must still match
                verify_hwh(self.spec, hwh)
            bitfile = spec_path(self.package_dir)
        else:
            paths = check_package_files(self.spec, self.package_dir, ("bitstream", "hwh"))
            verify_hwh(self.spec, paths["hwh"])
            bitfile = paths["bitstream"]
        self.overlay = pynq.Overlay(str(bitfile), device=self.device)
        self.dma = getattr(self.overlay, self.spec.dma_name)
        self.ip = getattr(self.overlay, self.spec.accelerator_ip)
        self.clock_mhz = self._set_clock()
        self._in_buf = self._out_buf = None
        self._capacity = 0
        log.info("BNNOverlay %s on %s", self.spec.model, self.clock_description)

    # -- public API ------------------------------------------------------------------------------
    @property
    def classes(self) -> tuple:
        return self.spec.classes

    @property
    def input_shape(self) -> tuple:
        """Per-image input shape ``(H, W, C)``."""
        return self.spec.input.shape

    @property
    def clock_description(self) -> str:
        return ("simulated (nominal %g MHz)" % self.spec.clock_mhz if self.simulated
                else f"{self.clock_mhz:g} MHz")

    def predict(self, images, *, layout: str = "NHWC") -> np.ndarray:
        """Top-k class indices ``(N, k)`` (``int64``) of uint8 ``images``; see the input rule."""
        batch = self.prepare(images, layout=layout)
        out = np.empty((batch.shape[0], self.spec.output.shape[0]), dtype=np.int64)
        for start in range(0, batch.shape[0], self.max_batch):
            chunk = batch[start:start + self.max_batch]
            out[start:start + chunk.shape[0]] = self._run(chunk, {})
        return out

    def classify(self, images, *, layout: str = "NHWC") -> list:
        """Top-1 label names of ``images``."""
        return [self.spec.classes[i] for i in self.predict(images, layout=layout)[:, 0]]

    def prepare(self, images, *, layout: str = "NHWC") -> np.ndarray:
        """Validate ``images`` and return them as a C-contiguous uint8 ``(N, H, W, C)`` array."""
        images = np.asarray(images)
        expected = tuple(self.spec.input.shape)
        if images.dtype != np.uint8:
            raise InputError(f"images must be uint8 pixels (0..255), got dtype {images.dtype}; "
                             "for p/255 floats use (x * 255).round().astype(np.uint8)")
        if layout not in ("NHWC", "NCHW"):
            raise InputError(f"layout must be 'NHWC' or 'NCHW', got {layout!r}")
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4:
            raise InputError(f"images must be 4-D ({layout}) or one 3-D image, got {images.shape}")
        if layout == "NCHW":
            images = images.transpose(0, 2, 3, 1)
        if images.shape[1:] != expected:
            hint = ""
            if layout == "NHWC" and images.shape[1:] == (expected[2], *expected[:2]):
                hint = "; this looks like NCHW data: pass layout='NCHW'"
            else:
                hint = "; resize the images first (pynq_bnn.camera.preprocess)"
            raise InputError(f"{self.spec.model} expects images of shape (N, "
                             f"{', '.join(map(str, expected))}) in NHWC, got "
                             f"{images.shape[1:]} after layout {layout}{hint}")
        return np.ascontiguousarray(images)

    def benchmark(self, images, *, repeats: int = 10, layout: str = "NHWC") -> dict:
        """Time ``predict`` on one batch ``repeats`` times, stage by stage.

        Returns:
            dict with ``batch_size``, ``repeats``, ``fps`` (end-to-end, median call),
            ``latency_ms`` (``p50``/``p90``/``p99`` of a whole call), ``stage_ms`` (median per call:
            ``preprocess`` = validation/layout, ``pack`` = copy into the DMA buffer,
            ``hardware`` = DMA start to both channels idle incl. cache maintenance, ``unpack``),
            ``hardware_fps``, ``clock`` (``"simulated (...)"`` or the PL clock) and ``device``;
            simulated runs add ``accelerator_compute_ms`` (numpy reference time inside hardware).
        """
        if repeats < 1:
            raise ValueError("repeats must be >= 1")
        totals, stages, compute = [], {k: [] for k in ("preprocess", "pack", "hardware", "unpack")}, []
        n = 0
        for _ in range(repeats):
            timing = {}
            start = time.perf_counter()
            batch = self.prepare(images, layout=layout)
            timing["preprocess"] = time.perf_counter() - start
            n = batch.shape[0]
            if n > self.max_batch:
                raise InputError(f"benchmark batch of {n} exceeds max_batch={self.max_batch}")
            self._run(batch, timing)
            totals.append(time.perf_counter() - start)
            for key in stages:
                stages[key].append(timing[key])
            if self.simulated:
                compute.append(self.device.accelerator.last_compute_s)
        totals_ms = np.array(totals) * 1e3
        median_ms = float(np.median(totals_ms))
        result = {
            "batch_size": n, "repeats": repeats,
            "fps": n / (median_ms / 1e3),
            "latency_ms": {f"p{q}": float(np.percentile(totals_ms, q)) for q in (50, 90, 99)},
            "stage_ms": {k: float(np.median(v)) * 1e3 for k, v in stages.items()},
            "clock": self.clock_description,
            "clock_mhz": None if self.simulated else self.clock_mhz,
            "device": getattr(self.device, "name", type(self.device).__name__),
        }
        result["hardware_fps"] = n / (result["stage_ms"]["hardware"] / 1e3)
        if self.simulated:
            result["accelerator_compute_ms"] = float(np.median(compute)) * 1e3
        return result

    def close(self) -> None:
        """Free the DMA buffers (the overlay stays loaded)."""
        for buf in (self._in_buf, self._out_buf):
            if buf is not None:
                buf.freebuffer()
        self._in_buf = self._out_buf = None
        self._capacity = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals -------------------------------------------------------------------------------
    def _set_clock(self) -> float:
        if self.simulated:
            return float(self.spec.clock_mhz)
        pynq.Clocks.fclk0_mhz = self.spec.clock_mhz
        return float(pynq.Clocks.fclk0_mhz)

    def _ensure_buffers(self, n: int) -> None:
        if n <= self._capacity:
            return
        capacity = min(max(n, 2 * self._capacity), self.max_batch)
        self.close()
        self._in_buf = pynq.allocate((packed_words(self.spec.input, capacity),), np.uint64,
                                     target=self.device)
        self._out_buf = pynq.allocate((packed_words(self.spec.output, capacity),), np.uint64,
                                      target=self.device)
        self._capacity = capacity

    def _run(self, batch: np.ndarray, timing: dict) -> np.ndarray:
        n = batch.shape[0]
        self._ensure_buffers(n)
        t0 = time.perf_counter()
        pack_input(self.spec, batch, out=self._in_buf)
        t1 = time.perf_counter()
        self.dma.recvchannel.transfer(self._out_buf, nbytes=n * self.spec.output.bytes_per_image)
        self.dma.sendchannel.transfer(self._in_buf, nbytes=n * self.spec.input.bytes_per_image)
        if self.spec.ip_control == "ap_ctrl_hs":
            self.ip.write(NUM_IMAGES, n)
            self.ip.write(AP_CTRL, AP_START)
        self._wait(self.dma.sendchannel, "send", MM2S_DMASR)
        self._wait(self.dma.recvchannel, "recv", S2MM_DMASR)
        t2 = time.perf_counter()
        result = unpack_output(self.spec, self._out_buf, n)
        timing.update(pack=t1 - t0, hardware=t2 - t1, unpack=time.perf_counter() - t2)
        return result

    def _wait(self, channel, name: str, status_reg: int) -> None:
        deadline = time.perf_counter() + self.timeout_s
        while True:
            status = self.dma.mmio.read(status_reg)
            if status & DMA_ERROR_BITS:
                self._recover()
                raise DMAError(f"DMA {name} channel reported an error: {decode_dma_status(status)}"
                               "; the result buffer may be too small for the batch")
            if status & DMA_IDLE:
                break
            if time.perf_counter() > deadline:
                self._recover()
                raise DMATimeoutError(name, self.timeout_s, status)
        channel.wait()  # idle already: pynq invalidates the buffer and reads the byte count

    def _recover(self) -> None:
        """Bring the PL back to a known state after a failed transfer, so the next call can run.

        A DMA reset alone is not enough: the accelerator may be stuck mid-batch (it waits for
        images that never come), and only reprogramming the PL resets it. So the overlay is
        downloaded again (about a second on a board), then the DMA channels are restarted.
        """
        log.warning("DMA failure: reloading the overlay to reset the accelerator")
        self.dma.mmio.write(MM2S_DMACR, DMA_RESET)
        self.overlay.download()
        self.clock_mhz = self._set_clock()
        self.dma.sendchannel.start()
        self.dma.recvchannel.start()


def _choose_device(device):
    """``(device, simulated)`` for the ``device`` argument of :class:`BNNOverlay`."""
    from pynq_bnn.driver.device_sim import SimulatedDevice, use_simulated_device

    if isinstance(device, SimulatedDevice):
        return device, True
    if device == "sim":
        return use_simulated_device(), True
    if device is not None:
        return device, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        boards = [d for d in pynq.Device.devices if not isinstance(d, SimulatedDevice)]
    if boards:
        return boards[0], False
    log.info("no PYNQ board found: using the simulated device")
    return use_simulated_device(), True
