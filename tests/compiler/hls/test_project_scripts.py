# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Generated Tcl and Makefile: hostile values stay literal, Vivado refuses a bitstream with
negative slack, the DMA stream widths and board preset are set, no machine paths are written.

The Vivado script is run by a real ``tclsh`` with the Vivado commands stubbed (``unknown``), so
Tcl's own substitution rules decide whether an injected ``[exec ...]`` would run.
"""
import shutil
import subprocess

import pytest

from pynq_bnn.compiler.hls.csim import ap_types_dir
from pynq_bnn.compiler.hls.project import make_word, render_project, tcl_word

HOSTILE = ["x[exec touch PWNED]", "a b", "$x", ";", "q\"uote", "{brace", "back\\slash",
           "semi;exec touch PWNED", "#hash"]
needs_tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")

VIVADO_STUBS = r"""
proc unknown {args} { return "" }
proc get_board_parts {args} { return [list tul.com.tw:pynq-z2:part0:1.0] }
proc get_property {name args} {
  switch -- $name {
    STATS.WNS { return $::WNS }
    STATS.WHS { return 0.05 }
    PROGRESS { return "100%" }
    DIRECTORY { return run_dir }
    default { return "" }
  }
}
rename glob _glob
proc glob {args} { return [list gen/sources_1/bd/bnn/hw_handoff/bnn.hwh] }
rename file _file
proc file {args} {
  if {[lindex $args 0] eq "copy"} { lappend ::copies [lindex $args end]; return }
  return [_file {*}$args]
}
rename exit _exit
proc exit {args} {}
set ::copies {}
if {[catch {source vivado.tcl} msg]} { puts "ERROR: $msg" }
puts "COPIES: $::copies"
"""


def _tclsh(tmp_path, script: str) -> str:
    (tmp_path / "stub.tcl").write_text(script)
    proc = subprocess.run(["tclsh", "stub.tcl"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@needs_tclsh
@pytest.mark.parametrize("value", HOSTILE)
def test_tcl_word_is_one_literal_word(tmp_path, value):
    out = _tclsh(tmp_path, f"set v {tcl_word(value)}\nputs -nonewline $v\n")
    assert out == value
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("value", ["", "-force", "new\nline", "tab\there"])
def test_unsafe_values_are_refused(value):
    with pytest.raises(ValueError):
        tcl_word(value)
    with pytest.raises(ValueError):
        make_word(value)


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize("value", HOSTILE)
def test_make_word_is_one_literal_shell_word(tmp_path, value):
    (tmp_path / "Makefile").write_text(f"V := {make_word(value)}\nall:\n\t@printf '%s' $(V)\n")
    proc = subprocess.run(["make", "-s"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == value
    assert not (tmp_path / "PWNED").exists()


@needs_tclsh
@pytest.mark.parametrize("name", ["canonical", "x[exec touch PWNED]", "a b;c"])
def test_vivado_script_with_hostile_name_copies_literal_files(tmp_path, canonical_graph, name):
    files, _ = render_project(canonical_graph, "pynq-z2", 100, name=name)
    (tmp_path / "vivado.tcl").write_text(files["vivado/vivado.tcl"])
    out = _tclsh(tmp_path, "set ::WNS 0.3\n" + VIVADO_STUBS)
    assert "ERROR" not in out, out
    assert f"./{name}.bit" in out and f"./{name}.hwh" in out
    assert not (tmp_path / "PWNED").exists()


@needs_tclsh
def test_vivado_script_refuses_negative_slack(tmp_path, canonical_graph):
    files, _ = render_project(canonical_graph, "pynq-z2", 100, name="canonical")
    (tmp_path / "vivado.tcl").write_text(files["vivado/vivado.tcl"])
    out = _tclsh(tmp_path, "set ::WNS -0.12\n" + VIVADO_STUBS)
    assert "timing not met" in out and "WNS -0.12" in out
    assert "COPIES: \n" in out or out.rstrip().endswith("COPIES:")


@pytest.mark.parametrize("board,width", [("pynq-z2", 64), ("ultra96-v2", 128)])
def test_vivado_script_sets_stream_widths_and_board_preset(canonical_graph, board, width):
    files, _ = render_project(canonical_graph, board, 100)
    tcl = files["vivado/vivado.tcl"]
    for key in ("c_m_axis_mm2s_tdata_width", "c_s_axis_s2mm_tdata_width",
                "c_m_axi_s2mm_data_width", "c_m_axi_mm2s_data_width"):
        assert f"CONFIG.{key} {width} " in tcl, key
    assert 'apply_board_preset "1"' in tcl and "set_property board_part $board_part" in tcl


def test_no_machine_paths_in_generated_files(canonical_graph, tmp_path):
    import os
    import sys

    files, _ = render_project(canonical_graph, "pynq-z2", 100)
    machine = {str(ap_types_dir()), os.getcwd(), sys.prefix, os.path.expanduser("~")}
    for rel, text in files.items():
        for path in machine:
            assert path not in text, f"{rel} contains the machine path {path}"


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_makefile_takes_ap_types_from_the_command_line(canonical_graph, tmp_path):
    from pynq_bnn.compiler.hls.project import write_project

    hls = write_project(canonical_graph, tmp_path / "proj", "pynq-z2").hls_dir
    proc = subprocess.run(["make", "-n", "csim"], cwd=hls, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and "AP_TYPES is not set" in proc.stderr
    proc = subprocess.run(["make", "-n", "csim", f"AP_TYPES={ap_types_dir()}"], cwd=hls,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and f"-isystem {ap_types_dir()}" in proc.stdout
