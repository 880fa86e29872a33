# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
""".hwh consistency checks and the board-side file checks of BNNOverlay (no board needed: they
fail before pynq is asked to program anything)."""
import pytest

from pynq_bnn.driver import BNNOverlay, HwhMismatchError, OverlayFileError
from pynq_bnn.driver.hwh import read_hwh_modules, verify_hwh
from pynq_bnn.driver.spec import load_spec, save_spec

from .conftest import write_small_package

HWH = """<?xml version="1.0" encoding="UTF-8"?>
<EDKSYSTEM><MODULES>
 <MODULE INSTANCE="processing_system7_0" MODTYPE="processing_system7"
         VLNV="xilinx.com:ip:processing_system7:5.5"><PARAMETERS>
   <PARAMETER NAME="PCW_FPGA0_PERIPHERAL_FREQMHZ" VALUE="{clock}"/></PARAMETERS></MODULE>
 <MODULE INSTANCE="{dma}" MODTYPE="axi_dma" VLNV="xilinx.com:ip:axi_dma:7.1"><PARAMETERS>
   <PARAMETER NAME="C_INCLUDE_SG" VALUE="0"/>
   <PARAMETER NAME="C_M_AXIS_MM2S_TDATA_WIDTH" VALUE="{width}"/>
   <PARAMETER NAME="C_S_AXIS_S2MM_TDATA_WIDTH" VALUE="64"/></PARAMETERS></MODULE>
 <MODULE INSTANCE="bnn_top_0" MODTYPE="bnn_top" VLNV="xilinx.com:hls:bnn_top:1.0">{registers}
 </MODULE>
</MODULES></EDKSYSTEM>
"""


def write_board_package(tmp_path, **hwh):
    spec = write_small_package(tmp_path)
    spec = type(spec)(**{**spec.__dict__, "files": {**spec.files, "bitstream": "checksum.bit",
                                                      "hwh": "checksum.hwh"}})
    save_spec(spec, tmp_path)
    (tmp_path / "checksum.bit").write_bytes(b"\0" * 16)
    values = {"clock": "100.0", "dma": "axi_dma_0", "width": "64", "registers": "", **hwh}
    (tmp_path / "checksum.hwh").write_text(HWH.format(**values))
    return load_spec(tmp_path)


def test_matching_hwh_passes(tmp_path):
    spec = write_board_package(tmp_path)
    verify_hwh(spec, tmp_path / "checksum.hwh")


@pytest.mark.parametrize("change, message", [
    ({"width": "128"}, "C_M_AXIS_MM2S_TDATA_WIDTH = 128"),
    ({"dma": "axi_dma_1"}, "no DMA instance 'axi_dma_0'"),
    ({"clock": "150.0"}, "PL clock 0 is 150 MHz"),
])
def test_mismatches_are_named(tmp_path, change, message):
    spec = write_board_package(tmp_path, **change)
    with pytest.raises(HwhMismatchError, match=message):
        verify_hwh(spec, tmp_path / "checksum.hwh")


def test_board_path_checks_files_before_programming(tmp_path):
    write_board_package(tmp_path, width="128")
    board = object()  # any non-simulated device: the checks run before pynq.Overlay
    with pytest.raises(HwhMismatchError):
        BNNOverlay(tmp_path, device=board)
    (tmp_path / "checksum.hwh").write_text("<EDKSYSTEM><MODULES>")
    with pytest.raises(OverlayFileError, match="not a readable .hwh"):
        BNNOverlay(tmp_path, device=board)
    (tmp_path / "checksum.bit").unlink()
    with pytest.raises(OverlayFileError, match="bitstream file"):
        BNNOverlay(tmp_path, device=board)


def test_simulated_path_checks_a_present_hwh(tmp_path):
    write_board_package(tmp_path, clock="150.0")
    with pytest.raises(HwhMismatchError, match="150 MHz"):
        BNNOverlay(tmp_path, device="sim")


def test_simulated_path_needs_the_graph(small_package):
    (small_package / "graph.json").unlink()
    with pytest.raises(OverlayFileError, match="graph file"):
        BNNOverlay(small_package, device="sim")


def hls_registers(**offsets):
    """The REGISTERS block Vivado writes into a .hwh for an HLS IP (name + ADDRESS_OFFSET)."""
    rows = "".join(f'<REGISTER NAME="{name}"><PROPERTY NAME="ADDRESS_OFFSET" VALUE="{offset}"/>'
                   '</REGISTER>' for name, offset in offsets.items())
    return f"<MEMORYMAP><ADDRESSBLOCK><REGISTERS>{rows}</REGISTERS></ADDRESSBLOCK></MEMORYMAP>"


def test_hwh_registers_must_match_the_register_map(tmp_path):
    good = hls_registers(CTRL="0x00", num_images="0x10", identity="0x18", identity_ctrl="0x1c")
    spec = write_board_package(tmp_path / "a", registers=good)
    assert read_hwh_modules(tmp_path / "a" / "checksum.hwh")["bnn_top_0"]["registers"] == {
        "CTRL": 0, "num_images": 0x10, "identity": 0x18, "identity_ctrl": 0x1C}
    verify_hwh(spec, tmp_path / "a" / "checksum.hwh")
    moved = hls_registers(CTRL="0x00", num_images="0x10", identity="0x20")
    spec = write_board_package(tmp_path / "b", registers=moved)
    with pytest.raises(HwhMismatchError, match="identity is at 0x20 but accelerator.json says 0x18"):
        verify_hwh(spec, tmp_path / "b" / "checksum.hwh")
    old_build = hls_registers(CTRL="0x00", num_images="0x10")
    spec = write_board_package(tmp_path / "c", registers=old_build)
    with pytest.raises(HwhMismatchError, match="no identity register"):
        verify_hwh(spec, tmp_path / "c" / "checksum.hwh")
