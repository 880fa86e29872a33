# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Board table: published capacities, lookup by name, clear errors."""
import pytest

from pynq_bnn.compiler.boards import BOARDS, UnknownBoardError, get_board, list_boards


def test_all_five_boards_with_reference_capacities():
    assert set(list_boards()) == {"Pynq-Z1", "Pynq-Z2", "Ultra96-V2", "KV260", "ZCU104"}
    z2 = get_board("Pynq-Z2")
    assert (z2.lut, z2.ff, z2.bram18, z2.dsp, z2.uram) == (53_200, 106_400, 280, 220, 0)
    assert z2.axi_width == 64
    assert get_board("Pynq-Z1").part == z2.part == "xc7z020clg400-1"
    u96 = get_board("Ultra96-V2")
    assert (u96.lut, u96.bram18, u96.dsp, u96.axi_width) == (70_560, 432, 360, 128)
    kv = get_board("KV260")
    assert (kv.lut, kv.bram18, kv.uram, kv.dsp) == (117_120, 288, 64, 1_248)
    zcu = get_board("ZCU104")
    assert (zcu.lut, zcu.bram18, zcu.uram, zcu.dsp) == (230_400, 624, 96, 1_728)


def test_axi_width_follows_family():
    for board in BOARDS.values():
        assert board.axi_width == (64 if board.family == "zynq7" else 128)
        assert board.clock_mhz > 0


@pytest.mark.parametrize("alias", ["pynq-z2", "PYNQ_Z2", "pynqz2"])
def test_lookup_ignores_case_and_punctuation(alias):
    assert get_board(alias) is BOARDS["Pynq-Z2"]


def test_board_instance_passes_through():
    board = BOARDS["KV260"]
    assert get_board(board) is board


def test_unknown_board_lists_known_ones():
    with pytest.raises(UnknownBoardError) as info:
        get_board("zedboard")
    message = str(info.value)
    assert "zedboard" in message and "Pynq-Z2" in message and "ZCU104" in message
