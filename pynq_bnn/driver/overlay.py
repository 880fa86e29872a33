# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``BNNOverlay``: classify uint8 images with an overlay package, on a board or simulated.

Data path of one batch (FINN's fold → pack → copy → run → copy → unpack, without the folds since
the hardware streams NHWC):

1. validate the images (uint8 **RGB**, ``(N, H, W, C)`` of the package's input shape),
2. pack them into the reused input DMA buffer (:func:`~pynq_bnn.driver.packing.pack_input`; for
   8-bit pixels on 64-bit words this is one ``memcpy``),
3. arm S2MM (results) then MM2S (images) of the AXI DMA, write ``num_images`` and ``ap_start`` to
   the accelerator (``ap_ctrl_hs``; register map in ``accelerator.json``/``docs/pynq_contract.md``),
4. poll both DMA channels until idle, with a deadline (:class:`DMATimeoutError`) and a check of
   the error bits (:class:`DMAError`),
5. unpack the top-k class indices.

Failure and interruption (a timeout, a DMA error, or Ctrl-C / ``KeyboardInterrupt`` while waiting,
common in Jupyter) all go through :meth:`BNNOverlay._recover`, which leaves the overlay usable:
soft-reset the DMA and wait (with a deadline) for the reset to complete, so the engine stops
writing to memory; free the DMA buffers; then, only if the accelerator is not idle (stuck
mid-batch: only reprogramming the PL resets an HLS ``ap_ctrl_hs`` block), download the bitstream
again -- never under live buffers; finally restart both channels (deadline again). The exception
(or the ``KeyboardInterrupt``) is then re-raised; the next ``predict`` allocates new buffers.

At load time the driver checks the model **identity**: it starts one empty run (``num_images =
0``), waits for ``ap_idle`` and compares the identity register with ``accelerator.json``
(:mod:`~pynq_bnn.driver.identity`), refusing the bitstream of another model even when its
stream widths (all the ``.hwh`` shows) agree.

Everything goes through pynq (``pynq.Overlay``, ``pynq.allocate``, ``pynq.lib.dma.DMA``); off the
board the device is :class:`~pynq_bnn.driver.device_sim.SimulatedDevice`, so this module has no
simulation branch except choosing the device and the clock report.

Input rule (no guessing): ``predict`` takes ``(N, H, W, C)`` uint8 **RGB** pixels (channel 0 =
red, as the datasets and PIL/matplotlib deliver them; OpenCV frames are BGR -- convert them, e.g.
with :func:`pynq_bnn.camera.preprocess`, which the camera demo uses) or one ``(H, W, C)`` image;
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

from pynq_bnn.driver.errors import (DMAError, DMAResetError, DMATimeoutError,
                                    IdentityMismatchError, InputError, SimulatedDeviceWarning,
                                    decode_dma_status)
from pynq_bnn.driver.hwh import verify_hwh
from pynq_bnn.driver.identity import format_identity
from pynq_bnn.driver.packing import pack_input, packed_words, unpack_output
from pynq_bnn.driver.spec import check_package_files, load_spec, spec_path
from pynq_bnn.driver.timing import MEASURED, SIMULATED, package_estimate

__all__ = ["BNNOverlay"]

log = logging.getLogger(__name__)

MM2S_DMASR, S2MM_DMASR, MM2S_DMACR, S2MM_DMACR = 0x04, 0x34, 0x00, 0x30
DMA_ERROR_BITS, DMA_IDLE, DMA_HALTED, DMA_RESET, DMA_RUN = 0x770, 0x2, 0x1, 0x4, 0x1
DMA_IOC_IRQ_EN = 0x1000
AP_START, AP_IDLE = 0x1, 0x4


class BNNOverlay:
    """Driver of one overlay package ``overlays/<name>/``.

    Args:
        package_dir: folder holding ``accelerator.json`` (+ ``graph.json``/``params.npz``, and
            ``<name>.bit``/``<name>.hwh`` when synthesized).
        device: ``"sim"`` (the simulated device, chosen explicitly), a ``pynq.Device``, or
            ``None``: the board's device when there is one, else the simulated device with a
            :class:`~pynq_bnn.driver.errors.SimulatedDeviceWarning`.
        timeout_s: deadline of each wait (DMA transfers, DMA reset, the identity run); raises
            :class:`DMATimeoutError` / :class:`DMAResetError` when exceeded.
        max_batch: images per DMA transfer (larger batches are split); bounds buffer memory.

    Raises:
        OverlayFileError, SpecError: missing/corrupt package files or ``accelerator.json``.
        HwhMismatchError: the ``.hwh`` disagrees with ``accelerator.json`` (board only).
        IdentityMismatchError: the PL computes another model than ``accelerator.json`` names.

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
        self._start_dma()  # before pynq's DMA driver, whose own start() waits without a deadline
        self.dma = getattr(self.overlay, self.spec.dma_name)
        self.ip = getattr(self.overlay, self.spec.accelerator_ip)
        self.clock_mhz = self._set_clock()
        self._in_buf = self._out_buf = None
        self._capacity = 0
        self.registers = dict(self.spec.registers)
        self.estimate = package_estimate(self.package_dir)
        self.recoveries = 0
        self._needs_recovery = False  # a transfer or a recovery was cut short (e.g. two Ctrl-C)
        self.identity = self._check_identity()
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

    @property
    def timing(self) -> str:
        """``"simulated"`` (host-CPU time of the simulated device) or ``"measured"`` (board)."""
        return SIMULATED if self.simulated else MEASURED

    def predict(self, images, *, layout: str = "NHWC") -> np.ndarray:
        """Top-k class indices ``(N, k)`` (``int64``) of uint8 RGB ``images``; see the input rule.

        An empty batch returns an empty ``(0, k)`` array without touching the hardware.
        """
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
        """Time ``predict`` on one batch ``repeats`` times, stage by stage, with honest labels.

        Returns:
            dict with ``timing`` (``"measured"`` on a board, ``"simulated"`` on the simulated
            device), ``batch_size``, ``repeats``, ``fps`` (end to end, median call),
            ``latency_ms`` (``p50``/``p90``/``p99`` of a whole call), ``stage_ms`` (median per
            call: ``preprocess`` = validation/layout, ``pack`` = copy into the DMA buffer, the
            accelerator stage -- ``hardware`` on a board (DMA start to both channels idle, incl.
            cache maintenance) or ``simulated_accelerator`` on the simulated device (the numpy
            model on the host CPU) -- and ``unpack``), ``clock``, ``clock_mhz``, ``device`` and
            ``estimated`` (the package's predicted hardware ``fps``/``latency_ms``/``source``,
            :func:`~pynq_bnn.driver.timing.package_estimate`, or ``None``). A board run adds
            ``hardware_fps``; a simulated one ``simulated_accelerator_fps`` and
            ``simulated_compute_ms`` (numpy time inside the simulated accelerator). Nothing
            simulated is called hardware. :func:`~pynq_bnn.driver.timing.format_benchmark`
            prints it in one labelled line.

        Raises:
            InputError: no images, or more than ``max_batch``.
        """
        if repeats < 1:
            raise ValueError("repeats must be >= 1")
        accel = "simulated_accelerator" if self.simulated else "hardware"
        totals, compute = [], []
        stages = {k: [] for k in ("preprocess", "pack", accel, "unpack")}
        n = 0
        for _ in range(repeats):
            timing = {}
            start = time.perf_counter()
            batch = self.prepare(images, layout=layout)
            timing["preprocess"] = time.perf_counter() - start
            n = batch.shape[0]
            if n == 0:
                raise InputError("benchmark needs at least one image (got an empty batch)")
            if n > self.max_batch:
                raise InputError(f"benchmark batch of {n} exceeds max_batch={self.max_batch}")
            self._run(batch, timing)
            totals.append(time.perf_counter() - start)
            timing[accel] = timing.pop("accelerator")
            for key in stages:
                stages[key].append(timing[key])
            if self.simulated:
                compute.append(self.device.accelerator.last_compute_s)
        totals_ms = np.array(totals) * 1e3
        median_ms = float(np.median(totals_ms))
        result = {
            "timing": self.timing, "batch_size": n, "repeats": repeats,
            "fps": n / (median_ms / 1e3),
            "latency_ms": {f"p{q}": float(np.percentile(totals_ms, q)) for q in (50, 90, 99)},
            "stage_ms": {k: float(np.median(v)) * 1e3 for k, v in stages.items()},
            "clock": self.clock_description,
            "clock_mhz": None if self.simulated else self.clock_mhz,
            "device": getattr(self.device, "name", type(self.device).__name__),
            "estimated": dict(self.estimate) if self.estimate else None,
        }
        result[f"{accel}_fps"] = n / (result["stage_ms"][accel] / 1e3)
        if self.simulated:
            result["simulated_compute_ms"] = float(np.median(compute)) * 1e3
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
        if n == 0:  # pynq reads nbytes=0 as "the whole buffer": never start an empty transfer
            timing.update(pack=0.0, accelerator=0.0, unpack=0.0)
            return np.empty((0, self.spec.output.shape[0]), dtype=np.int64)
        if self._needs_recovery:
            self._recover("an earlier call was interrupted")
        self._ensure_buffers(n)
        t0 = time.perf_counter()
        pack_input(self.spec, batch, out=self._in_buf)
        t1 = time.perf_counter()
        self._needs_recovery = True
        try:
            self.dma.recvchannel.transfer(self._out_buf,
                                          nbytes=n * self.spec.output.bytes_per_image)
            self.dma.sendchannel.transfer(self._in_buf, nbytes=n * self.spec.input.bytes_per_image)
            if self.spec.ip_control == "ap_ctrl_hs":
                self.ip.write(self.registers["num_images"], n)
                self.ip.write(self.registers["ap_ctrl"], AP_START)
            self._wait(self.dma.sendchannel, "send", MM2S_DMASR)
            self._wait(self.dma.recvchannel, "recv", S2MM_DMASR)
        except BaseException as err:  # incl. KeyboardInterrupt: leave the overlay usable
            self._recover(f"{type(err).__name__} during a transfer")
            raise
        self._needs_recovery = False
        t2 = time.perf_counter()
        result = unpack_output(self.spec, self._out_buf, n)
        timing.update(pack=t1 - t0, accelerator=t2 - t1, unpack=time.perf_counter() - t2)
        return result

    def _wait(self, channel, name: str, status_reg: int) -> None:
        deadline = time.perf_counter() + self.timeout_s
        while True:
            status = self.dma.mmio.read(status_reg)
            if status & DMA_ERROR_BITS:
                raise DMAError(f"DMA {name} channel reported an error: {decode_dma_status(status)}"
                               "; the result buffer may be too small for the batch")
            if status & DMA_IDLE:
                break
            if time.perf_counter() > deadline:
                raise DMATimeoutError(name, self.timeout_s, status)
        channel.wait()  # idle already: pynq invalidates the buffer and reads the byte count

    def _poll(self, read, done, what: str) -> None:
        """Call ``read()`` until ``done(value)``; :class:`DMAResetError` after ``timeout_s``.

        Used for every wait on the PL other than a transfer: DMA start and reset, the identity
        run. (pynq's own ``DMAChannel.start``/``wait`` loop without a deadline.)
        """
        deadline = time.perf_counter() + self.timeout_s
        while True:
            value = read()
            if done(value):
                return
            if time.perf_counter() > deadline:
                raise DMAResetError(f"{what} did not complete within {self.timeout_s:g} s (last "
                                    f"value 0x{value:08x}); the PL is wedged: reboot the board "
                                    "(or power-cycle it) and load the overlay again")

    def _recover(self, reason: str) -> None:
        """Bring the DMA and the accelerator back to a known state (see the module doc).

        Order matters: the DMA is reset first (and the reset awaited) so nothing writes to the
        buffers; the buffers are freed; only then, and only if the accelerator is not idle, the
        bitstream is downloaded again; the channels are restarted last.
        """
        self.recoveries += 1
        self._needs_recovery = True  # until the last step below is done
        mmio = self.dma.mmio
        mmio.write(MM2S_DMACR, DMA_RESET)  # resets both channels (PG021)
        self._poll(lambda: mmio.read(MM2S_DMACR), lambda v: not v & DMA_RESET, "AXI DMA reset")
        self.close()
        reloaded = False
        if self.spec.ip_control != "ap_ctrl_hs" or \
                not self.ip.read(self.registers["ap_ctrl"]) & AP_IDLE:
            self.overlay.download()  # the only reset of an HLS block stuck mid-batch
            self.clock_mhz = self._set_clock()
            reloaded = True
        for channel, control, status in ((self.dma.sendchannel, MM2S_DMACR, MM2S_DMASR),
                                         (self.dma.recvchannel, S2MM_DMACR, S2MM_DMASR)):
            interrupt = DMA_IOC_IRQ_EN if getattr(channel, "_interrupt", None) else 0
            mmio.write(control, DMA_RUN | interrupt)
            self._poll(lambda s=status: mmio.read(s), lambda v: not v & DMA_HALTED,
                       "AXI DMA restart")
            channel.start()  # running already: pynq only resets its own bookkeeping
        self._needs_recovery = False
        log.warning("%s: DMA reset%s; the overlay is ready again", reason,
                    ", accelerator reset by reloading the bitstream" if reloaded else "")

    def _start_dma(self) -> None:
        """Set run/stop on both DMA channels and wait (deadline) until neither is halted."""
        info = self.overlay.ip_dict.get(self.spec.dma_name)
        if info is None:
            return  # pynq's attribute lookup below names the missing instance
        mmio = pynq.MMIO(info["phys_addr"], 0x40, device=self.device)
        for control, status in ((MM2S_DMACR, MM2S_DMASR), (S2MM_DMACR, S2MM_DMASR)):
            mmio.write(control, mmio.read(control) | DMA_RUN)
            self._poll(lambda s=status: mmio.read(s), lambda v: not v & DMA_HALTED,
                       "AXI DMA start (is the PL clock running?)")

    def _check_identity(self):
        """Run the accelerator once on zero images and compare its identity register.

        Returns:
            The identity read (``int``), or ``None`` for free-running (``ap_ctrl_none``) IPs,
            which have no control registers.

        Raises:
            IdentityMismatchError: the value differs from ``accelerator.json``'s ``identity``.
        """
        if self.spec.ip_control != "ap_ctrl_hs":
            return None
        self.ip.write(self.registers["num_images"], 0)
        self.ip.write(self.registers["ap_ctrl"], AP_START)
        self._poll(lambda: self.ip.read(self.registers["ap_ctrl"]), lambda v: v & AP_IDLE,
                   "the accelerator's empty identity run")
        value = self.ip.read(self.registers["identity"])
        expected = self.spec.identity_value
        if expected is None:
            log.warning("%s: accelerator.json records no identity, so the bitstream cannot be "
                        "checked against the compiled model; rebuild the package to add it",
                        self.package_dir)
        elif value != expected:
            raise IdentityMismatchError(
                f"the PL's identity register reads {format_identity(value)} but "
                f"{self.package_dir}/accelerator.json expects {self.spec.identity}: the loaded "
                "bitstream (or graph) was built from another model or other parameters. Copy the "
                ".bit/.hwh of the same build as accelerator.json, or rebuild the package")
        return value


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
    warnings.warn("no PYNQ board found: BNNOverlay runs on the simulated device (exact results, "
                  "simulated timing); pass device='sim' to choose it explicitly",
                  SimulatedDeviceWarning, stacklevel=3)
    return use_simulated_device(), True
