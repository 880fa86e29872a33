# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The csim headers behave like Vitis HLS's where the generated code depends on it.

* ``ap_axi_sdata.h``: zero-width side channels (``user``/``id``/``dest`` of
  ``ap_axiu<W, 0, 0, 0>``) are absent (Vitis 2020.2-2021.x) or a disabled type that cannot be
  assigned (2022.1+): assigning them must not compile here either.
* ``ap_int.h``: ``AP_INT_MAX_W`` counts only when defined before the first include; a word wider
  than the limit then in force must fail here as it aborts Vitis csim.

Each check is shown to bite on the defect it guards against (the old ``axi.hpp`` assignment, the
old include order) and to pass on the generated code. Compiles are ``-fsyntax-only`` (fast).
"""
import subprocess

import pytest

from pynq_bnn.compiler.hls.csim import ap_types_dir, templates_dir
from pynq_bnn.compiler.hls.project import render_project

FLAVOURS = {"vitis-2022.1+": [], "vitis-2020.2-2021.x": ["-DPYNQ_BNN_AXIS_2021"]}


def _syntax(tmp_path, source: str, defines=()) -> subprocess.CompletedProcess:
    tdir = templates_dir()
    path = tmp_path / "check.cpp"
    path.write_text(source)
    cmd = ["g++", "-std=c++14", "-fsyntax-only", "-Wno-unknown-pragmas", *defines, "-I",
           str(tdir / "csim"), "-I", str(tdir), "-isystem", str(ap_types_dir()), str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


OLD_STREAM_TO_AXI = """
#include <ap_axi_sdata.h>
#include <hls_stream.h>
void old(hls::stream<ap_axiu<64, 0, 0, 0> >& out) {
  ap_axiu<64, 0, 0, 0> word;
  word.data = 1; word.keep = -1; word.strb = -1; word.last = 1;
  word.user = 0; word.id = 0; word.dest = 0;   // the old axi.hpp
  out.write(word);
}
"""

CURRENT_AXI = """
#include "bnn/axi.hpp"
void now(hls::stream<ap_uint<64> >& in, hls::stream<ap_axiu<64, 0, 0, 0> >& out,
         hls::stream<ap_axiu<64, 0, 0, 0> >& back, hls::stream<ap_uint<64> >& again) {
  bnn::stream_to_axi<64, 3>(in, out, 2);
  bnn::axi_to_stream<64, 3>(back, again, 2);
}
"""


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_zero_width_side_channels_cannot_be_assigned(tmp_path, flavour):
    proc = _syntax(tmp_path, OLD_STREAM_TO_AXI, FLAVOURS[flavour])
    assert proc.returncode != 0, "assigning user/id/dest of ap_axiu<64,0,0,0> must not compile"
    assert "user" in proc.stderr


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_axi_template_compiles_with_vitis_side_channels(tmp_path, flavour):
    proc = _syntax(tmp_path, CURRENT_AXI, FLAVOURS[flavour])
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_nonzero_side_channels_exist(tmp_path, flavour):
    src = ("#include <ap_axi_sdata.h>\nint f() { ap_axiu<32, 2, 3, 4> w; w.user = 3; w.id = 5; "
           "w.dest = 9; return (int)(w.user + w.id + w.dest); }\n")
    proc = _syntax(tmp_path, src, FLAVOURS[flavour])
    assert proc.returncode == 0, proc.stderr[-3000:]


WIDE_STREAM = """
#include "bnn/streams.hpp"
void wide(hls::stream<ap_uint<1168> >& in, hls::stream<ap_uint<1168> >& out) {
  bnn::copy_stream<1168, 4>(in, out, 1);
}
"""


def test_macro_defined_after_first_ap_int_include_fails(tmp_path):
    """The old order: bnn_top.hpp included ap_int.h, then common.hpp defined AP_INT_MAX_W."""
    late = "#include <ap_int.h>\n#define AP_INT_MAX_W 4096\n" + WIDE_STREAM
    proc = _syntax(tmp_path, late)
    assert proc.returncode != 0 and "AP_INT_MAX_W" in proc.stderr
    first = "#define AP_INT_MAX_W 4096\n#include <ap_int.h>\n" + WIDE_STREAM
    proc = _syntax(tmp_path, first)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_generated_top_header_defines_the_limit_first(tmp_path, canonical_graph):
    """bnn_top.hpp (included first by bnn_top.cpp and tb.cpp) sets the limit before any include,
    so wide words compile after it; without those lines (the old header) they do not."""
    files, _ = render_project(canonical_graph, "pynq-z2", 100)
    header = files["hls/src/bnn_top.hpp"]
    assert header.index("#define AP_INT_MAX_W 4096") < header.index("#include")
    (tmp_path / "bnn_top.hpp").write_text(header)
    proc = _syntax(tmp_path, '#include "bnn_top.hpp"\n' + WIDE_STREAM, ["-I", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    old = "\n".join(line for line in header.splitlines() if "AP_INT_MAX_W" not in line)
    (tmp_path / "bnn_top.hpp").write_text(old)
    proc = _syntax(tmp_path, '#include "bnn_top.hpp"\n' + WIDE_STREAM, ["-I", str(tmp_path)])
    assert proc.returncode != 0 and "AP_INT_MAX_W" in proc.stderr


def test_no_template_header_defines_the_limit():
    """A definition inside a library header comes after bnn_top.hpp's include: too late."""
    for header in (templates_dir() / "bnn").glob("*.hpp"):
        assert "#define AP_INT_MAX_W" not in header.read_text(), header.name
