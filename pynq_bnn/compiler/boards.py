# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""PYNQ boards: FPGA part, resource capacity, AXI port width and default fabric clock.

Capacities are the device totals of the programmable logic (Xilinx product tables, as used by
FINN's ``pynq_part_map``). BRAM is counted in 18 Kb blocks (``BRAM18 = 2 x BRAM36``), the unit of
every estimate in :mod:`pynq_bnn.compiler.cost`; URAM blocks are 288 Kb (UltraScale+ only).

The AXI width is the PS high-performance port the AXI DMA streams through: 64 bit on Zynq-7000
(``S_AXI_HP``), 128 bit on Zynq UltraScale+ (``S_AXI_HP*_FPD``). The default clock is the fabric
clock a build uses when none is given: 100 MHz on Zynq-7000 (BNN-PYNQ, finn-examples), 200 MHz on
UltraScale+ (FracBNN's released Ultra96 block design); all designs here are plain streaming
dataflow that closes timing comfortably at those clocks.

Example:
    >>> get_board("pynq-z2").bram18
    280
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Board", "BOARDS", "get_board", "list_boards", "UnknownBoardError"]


class UnknownBoardError(KeyError):
    """The requested board name is not one of :data:`BOARDS`."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@dataclass(frozen=True)
class Board:
    """One PYNQ board (all counts are whole-device totals of the programmable logic).

    Attributes:
        name: canonical board name (``"Pynq-Z2"``).
        part: Xilinx part number used for synthesis.
        family: ``"zynq7"`` (Zynq-7000) or ``"zynquplus"`` (Zynq UltraScale+).
        lut, ff: 6-input LUTs and flip-flops.
        bram18: 18 Kb block RAMs (twice the BRAM36 count).
        uram: 288 Kb UltraRAM blocks (0 on Zynq-7000 and the xczu3eg).
        dsp: DSP48 slices.
        axi_width: data width in bits of the PS port the DMA uses.
        clock_mhz: default fabric clock in MHz.
    """

    name: str
    part: str
    family: str
    lut: int
    ff: int
    bram18: int
    uram: int
    dsp: int
    axi_width: int
    clock_mhz: float

    def capacity(self) -> dict:
        """Resource totals keyed like :class:`~pynq_bnn.compiler.hw.base.Resources` fields."""
        return {"lut": self.lut, "ff": self.ff, "bram18": self.bram18, "dsp": self.dsp,
                "uram": self.uram}

    def as_dict(self) -> dict:
        return asdict(self)


_XC7Z020 = dict(part="xc7z020clg400-1", family="zynq7", lut=53_200, ff=106_400, bram18=2 * 140,
                uram=0, dsp=220, axi_width=64, clock_mhz=100.0)

BOARDS: dict = {
    b.name: b
    for b in (
        Board(name="Pynq-Z1", **_XC7Z020),
        Board(name="Pynq-Z2", **_XC7Z020),
        Board(name="Ultra96-V2", part="xczu3eg-sbva484-1-i", family="zynquplus", lut=70_560,
              ff=141_120, bram18=2 * 216, uram=0, dsp=360, axi_width=128, clock_mhz=200.0),
        Board(name="KV260", part="xck26-sfvc784-2LV-c", family="zynquplus", lut=117_120,
              ff=234_240, bram18=2 * 144, uram=64, dsp=1_248, axi_width=128, clock_mhz=200.0),
        Board(name="ZCU104", part="xczu7ev-ffvc1156-2-e", family="zynquplus", lut=230_400,
              ff=460_800, bram18=2 * 312, uram=96, dsp=1_728, axi_width=128, clock_mhz=200.0),
    )
}


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def list_boards() -> list:
    """Canonical names of all known boards."""
    return list(BOARDS)


def get_board(board) -> Board:
    """Look a board up by name, case- and punctuation-insensitively (``"ultra96v2"`` works).

    Args:
        board: a board name or an existing :class:`Board` (returned unchanged).

    Raises:
        UnknownBoardError: the name is unknown; the message lists the known boards.
    """
    if isinstance(board, Board):
        return board
    if not isinstance(board, str):
        raise TypeError(f"board must be a name or a Board, got {type(board).__name__}")
    wanted = _key(board)
    for name, entry in BOARDS.items():
        if _key(name) == wanted:
            return entry
    raise UnknownBoardError(f"unknown board {board!r}; known boards: {', '.join(BOARDS)}")
