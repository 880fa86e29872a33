# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Register-level models of the overlay's PL: host memory, the AXI DMA and the accelerator.

Used by :class:`~pynq_bnn.driver.device_sim.SimulatedDevice`. pynq's own drivers (``MMIO``,
``pynq.lib.dma.DMA``, ``DefaultIP``) talk to these models through the device's
``read_registers``/``write_registers``, exactly as they would talk to the PL on a board.

AXI DMA, simple (direct register) mode, Xilinx PG021 register map, per channel at offset
``o`` (MM2S/send ``o = 0x00``, S2MM/recv ``o = 0x30``):

=======  ==========  ==========================================================================
offset   register    behaviour modelled
=======  ==========  ==========================================================================
o+0x00   DMACR       bit 0 RS (run/stop: clears/sets Halted), bit 2 Reset (both channels)
o+0x04   DMASR       bit 0 Halted, 1 Idle, 4 DMAIntErr, 12 IOC_Irq (write 1 to clear)
o+0x18   SA / DA     buffer physical address (low 32 bits; o+0x1C high 32 bits)
o+0x28   LENGTH      writing it starts the transfer; after completion: bytes transferred
=======  ==========  ==========================================================================

Accelerator (the HLS ``bnn_top`` of ``compiler/templates/CONTRACT.md``), ``ap_ctrl_hs`` on
``s_axilite``: 0x00 control (bit 0 ap_start, 1 ap_done (clear on read), 2 ap_idle), 0x10
``num_images``, 0x18 ``identity`` (read-only; 0 until the first run, then the package identity
of :mod:`~pynq_bnn.driver.identity`, written at the start of every run). It consumes
``num_images`` images from MM2S and writes their results to S2MM with TLAST on the last word; a
run with ``num_images = 0`` finishes at once (``ap_done``/``ap_idle``) without touching the
streams, which is how the driver reads the identity. With ``ap_ctrl_none`` it is free-running: every whole image that
arrives is processed and S2MM completes once its buffer is full.

Simulation boundary: the stream contents are exact (same packing as the hardware), the timing is
not: a transfer completes at the register write that makes the accelerator runnable (the whole
batch is computed then by the numpy reference). Stalls are modelled where the hardware would
stall: too little input (S2MM never completes), too small an output buffer (DMAIntErr).
"""
from __future__ import annotations

import logging
import time
import weakref

import numpy as np

from pynq_bnn.driver.packing import pack_stream, unpack_stream

__all__ = ["SimMemory", "SimAxiDma", "SimAccelerator"]

log = logging.getLogger(__name__)

HALTED, IDLE, DMA_INT_ERR, IOC_IRQ = 0x1, 0x2, 0x10, 0x1000
IRQ_BITS = 0x7000
DMACR, DMASR, ADDR, ADDR_MSB, LENGTH = 0x00, 0x04, 0x18, 0x1C, 0x28
MM2S, S2MM = 0x00, 0x30
AP_CTRL, NUM_IMAGES, IDENTITY = 0x00, 0x10, 0x18
DMACR_RESET = 0x4
AP_START, AP_DONE, AP_IDLE = 0x1, 0x2, 0x4


class SimMemory:
    """Host DDR seen by the PL: buffers handed out by ``allocate`` with fake physical addresses."""

    BASE = 0x1000_0000
    ALIGN = 4096

    def __init__(self):
        self._next = self.BASE
        self._buffers = {}  # physical address -> (nbytes, weakref to the PynqBuffer)

    def register(self, buffer) -> int:
        """Give ``buffer`` a physical address; returns it."""
        address = self._next
        self._next += -(-max(buffer.nbytes, 1) // self.ALIGN) * self.ALIGN
        self._buffers[address] = (buffer.nbytes, weakref.ref(buffer))
        return address

    def view(self, address: int, nbytes: int) -> np.ndarray:
        """Writable ``uint8`` view of ``nbytes`` at ``address`` (one allocated buffer)."""
        for base, (size, ref) in list(self._buffers.items()):
            buffer = ref()
            if buffer is None:
                del self._buffers[base]
                continue
            if base <= address and address + nbytes <= base + size:
                start = address - base
                return buffer.reshape(-1).view(np.uint8)[start:start + nbytes]
        raise _DecodeError(f"no allocated buffer covers 0x{address:x}+{nbytes}")


class _DecodeError(Exception):
    pass


class SimAccelerator:
    """The accelerator IP: AXI-lite control registers + the compiled model on the stream data.

    Args:
        spec: the package's :class:`~pynq_bnn.driver.spec.AcceleratorSpec`.
        compute: function ``uint8 images (N, H, W, C) -> (N, k)`` class indices (the compiled
            dataflow graph's ``execute``).
        identity: the value the identity register takes at every run (the constant the HLS top
            was compiled with).
    """

    def __init__(self, spec, compute, identity: int = 0):
        self.spec = spec
        self.compute = compute
        self.identity = int(identity) & 0xFFFFFFFF
        self.free_running = spec.ip_control == "ap_ctrl_none"
        self.regs = {AP_CTRL: AP_IDLE, NUM_IMAGES: 0, IDENTITY: 0}
        self.stall = False  # fault injection: the PL never produces output
        self.last_compute_s = 0.0
        self.images_processed = 0

    @property
    def started(self) -> bool:
        return self.free_running or bool(self.regs[AP_CTRL] & AP_START)

    def read(self, offset: int) -> int:
        value = self.regs.get(offset, 0)
        if offset == AP_CTRL:
            self.regs[AP_CTRL] &= ~AP_DONE  # clear on read
        return value

    def write(self, offset: int, value: int) -> None:
        if offset == AP_CTRL:
            self.regs[AP_CTRL] = (self.regs[AP_CTRL] & ~AP_START) | (value & AP_START)
            if value & AP_START:
                self.regs[AP_CTRL] &= ~AP_IDLE
                self.regs[IDENTITY] = self.identity  # the top's first statement
                if not self.free_running and self.regs[NUM_IMAGES] == 0:
                    self.regs[AP_CTRL] = AP_IDLE | AP_DONE  # zero-trip loops: done at once
        elif offset == IDENTITY:
            pass  # read-only
        else:
            self.regs[offset] = value & 0xFFFFFFFF

    def run(self, in_bytes: np.ndarray, n_images: int) -> np.ndarray:
        """Unpack ``n_images`` from the input bytes, run the model, return packed result bytes."""
        images = unpack_stream(self.spec.input, in_bytes, n_images)
        start = time.perf_counter()
        top = np.asarray(self.compute(images))
        self.last_compute_s = time.perf_counter() - start
        k = self.spec.output.shape[0]
        if top.shape != (n_images, k):
            raise RuntimeError(f"compiled accelerator returned shape {top.shape}, accelerator.json "
                               f"says ({n_images}, {k})")
        self.images_processed += n_images
        if not self.free_running:
            self.regs[AP_CTRL] = AP_IDLE | AP_DONE
        out_dtype = np.dtype(self.spec.output.dtype)
        return pack_stream(self.spec.output, top.astype(out_dtype)).reshape(-1).view(np.uint8)


class SimAxiDma:
    """AXI DMA (simple mode) moving data between :class:`SimMemory` and a :class:`SimAccelerator`."""

    def __init__(self, memory: SimMemory, accelerator: SimAccelerator | None = None):
        self.memory = memory
        self.accelerator = accelerator
        self.regs = {}
        self.pending = {}
        self.reset_stuck = False  # fault injection: a soft reset that never completes
        self.halt_stuck = False  # fault injection: channels never leave Halted (no PL clock)
        for channel in (MM2S, S2MM):
            self._reset(channel)

    def _reset(self, channel: int) -> None:
        for reg in (DMACR, ADDR, ADDR_MSB, LENGTH):
            self.regs[channel + reg] = 0
        self.regs[channel + DMASR] = HALTED
        self.pending.pop(channel, None)

    def read(self, offset: int) -> int:
        return self.regs.get(offset, 0)

    def write(self, offset: int, value: int) -> None:
        channel, reg = (S2MM, offset - S2MM) if offset >= S2MM else (MM2S, offset)
        if reg == DMACR:
            if value & DMACR_RESET:  # soft reset resets the whole DMA (PG021)
                if self.reset_stuck:  # the reset bit stays set (a transfer that never ends)
                    self.regs[offset] |= DMACR_RESET
                    return
                self._reset(MM2S)
                self._reset(S2MM)
                return
            self.regs[offset] = value
            status = self.regs[channel + DMASR]
            running = value & 1 and not self.halt_stuck
            self.regs[channel + DMASR] = status & ~HALTED if running else status | HALTED
        elif reg == DMASR:
            self.regs[offset] &= ~(value & IRQ_BITS)
        elif reg == LENGTH:
            self._start_transfer(channel, value)
        else:
            self.regs[offset] = value & 0xFFFFFFFF

    def _start_transfer(self, channel: int, nbytes: int) -> None:
        status = self.regs[channel + DMASR]
        if status & HALTED:
            log.warning("DMA %s LENGTH written while halted: ignored", _name(channel))
            return
        self.regs[channel + DMASR] = status & ~IDLE
        self.regs[channel + LENGTH] = nbytes
        address = (self.regs[channel + ADDR_MSB] << 32) | self.regs[channel + ADDR]
        self.pending[channel] = (address, nbytes)
        self.kick()

    def _complete(self, channel: int, nbytes: int, error: int = 0) -> None:
        self.pending.pop(channel, None)
        self.regs[channel + LENGTH] = nbytes
        self.regs[channel + DMASR] |= IDLE | IOC_IRQ | error | (HALTED if error else 0)

    def kick(self) -> None:
        """Run the accelerator when input, output and (for ap_ctrl_hs) ap_start are all ready."""
        acc = self.accelerator
        if acc is None or acc.stall or MM2S not in self.pending or S2MM not in self.pending:
            return
        if not acc.started:
            return
        (src, in_len), (dst, out_len) = self.pending[MM2S], self.pending[S2MM]
        try:
            in_view = self.memory.view(src, in_len)
            out_view = self.memory.view(dst, out_len)
        except _DecodeError as err:
            log.warning("DMA decode error: %s", err)
            for channel in (MM2S, S2MM):
                self._complete(channel, 0, error=0x40)
            return
        whole = in_len // self.accelerator.spec.input.bytes_per_image
        wanted = whole if acc.free_running else acc.regs[NUM_IMAGES]
        if wanted == 0 or whole < wanted:
            self._complete(MM2S, in_len)  # the input is consumed, the accelerator waits for more
            return
        result = acc.run(in_view, wanted)
        used_in = wanted * acc.spec.input.bytes_per_image
        if used_in == in_len:
            self._complete(MM2S, in_len)  # otherwise back-pressure keeps MM2S busy
        if result.size > out_len:
            out_view[:] = result[:out_len]
            self._complete(S2MM, out_len, error=0 if acc.free_running else DMA_INT_ERR)
        elif acc.free_running and result.size < out_len:
            out_view[:result.size] = result  # no TLAST: S2MM waits for the rest of its buffer
        else:
            out_view[:result.size] = result
            self._complete(S2MM, result.size)


def _name(channel: int) -> str:
    return "MM2S" if channel == MM2S else "S2MM"
