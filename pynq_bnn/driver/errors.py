# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Exceptions of the driver: each failure mode has its own class and a message saying what to do.

All inherit from :class:`DriverError`, and also from the closest built-in exception
(``ValueError``, ``FileNotFoundError``, ``TimeoutError``) so generic handlers keep working.
"""

__all__ = ["DriverError", "SpecError", "OverlayFileError", "HwhMismatchError",
           "IdentityMismatchError", "InputError", "DMAError", "DMATimeoutError", "DMAResetError",
           "SimulatedDeviceWarning", "decode_dma_status"]

# AXI DMA status register (DMASR) bits, PG021 "MM2S_DMASR / S2MM_DMASR".
DMASR_BITS = {
    0x0001: "Halted",
    0x0002: "Idle",
    0x0008: "SGIncld",
    0x0010: "DMAIntErr",
    0x0020: "DMASlvErr",
    0x0040: "DMADecErr",
    0x0100: "SGIntErr",
    0x0200: "SGSlvErr",
    0x0400: "SGDecErr",
    0x1000: "IOC_Irq",
    0x2000: "Dly_Irq",
    0x4000: "Err_Irq",
}


def decode_dma_status(status: int) -> str:
    """Human-readable names of the bits set in an AXI DMA status register value.

    >>> decode_dma_status(0x1002)
    '0x00001002 (Idle, IOC_Irq)'
    >>> decode_dma_status(0)
    '0x00000000 (running, busy)'
    """
    names = [name for bit, name in DMASR_BITS.items() if status & bit]
    return f"0x{status:08x} ({', '.join(names) if names else 'running, busy'})"


class DriverError(Exception):
    """Base class of every error raised by :mod:`pynq_bnn.driver`."""


class SpecError(DriverError, ValueError):
    """``accelerator.json`` is malformed: a missing or invalid field, or an unknown schema version."""


class OverlayFileError(DriverError, FileNotFoundError):
    """A file of the overlay package (accelerator.json, graph, bitstream, hwh) is missing/corrupt."""


class HwhMismatchError(DriverError):
    """The ``.hwh`` hardware description disagrees with ``accelerator.json`` (stale package)."""


class IdentityMismatchError(HwhMismatchError):
    """The PL's identity register names another compiled model than ``accelerator.json``."""


class InputError(DriverError, ValueError):
    """Images given to the driver have the wrong shape, layout or dtype."""


class DMAError(DriverError, RuntimeError):
    """The AXI DMA reported an error in its status register."""


class DMATimeoutError(DriverError, TimeoutError):
    """A DMA transfer did not complete within ``timeout_s``.

    Attributes:
        channel: ``"send"`` (MM2S) or ``"recv"`` (S2MM).
        status: raw value of the channel's status register when the wait gave up.
    """

    def __init__(self, channel: str, timeout_s: float, status: int):
        self.channel = channel
        self.timeout_s = timeout_s
        self.status = status
        hint = ("the accelerator did not produce all results; check that the bitstream matches "
                "accelerator.json (input size, words per image) and that the PL clock runs")
        super().__init__(f"DMA {channel} channel did not finish within {timeout_s:g} s; status "
                         f"{decode_dma_status(status)}: {hint}")


class DMAResetError(DriverError, TimeoutError):
    """The AXI DMA (or the accelerator) did not come back from a reset within the deadline."""


class SimulatedDeviceWarning(UserWarning):
    """No PYNQ board was found and the driver fell back to the simulated device."""
