# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The static checks of a generated project: clean on the generated code, and each rule bites
on the defect it guards against (the old code's, reproduced by editing the generated text)."""
import re
import sys
from pathlib import Path

import pytest

from pynq_bnn.compiler.hls.project import render_project, write_project
from pynq_bnn.compiler.hls.static_check import (StaticCheckError, assert_project_clean,
                                                check_sources)

sys.path.insert(0, str(Path(__file__).parent))
from test_seed_templates import seed_graph  # noqa: E402


@pytest.fixture(scope="module")
def seed_files():
    files, _ = render_project(seed_graph(), "pynq-z2", 100, name="seed")
    return files


def _rules(files) -> set:
    return {f.rule for f in check_sources(files)}


def _edit(files, rel, old, new, count=1):
    text = files[rel]
    assert old in text, old
    return {**files, rel: text.replace(old, new, count)}


TOP = "hls/src/bnn_top.cpp"


def test_generated_projects_are_clean(seed_files, canonical_graph, tmp_path):
    assert check_sources(seed_files) == []
    project = write_project(canonical_graph, tmp_path / "proj", "pynq-z2")
    assert_project_clean(project.hls_dir)


def test_shortcut_fork_fifo_holds_exactly_one_image(seed_files):
    """s_f1 (4x4x8 FRAC2, 2 lanes per word = 64 words per image) forks to conv2 (main, depth 2)
    and the shortcut Requantize (one image), never 'one image + 16'."""
    top = seed_files[TOP]
    assert "#pragma HLS STREAM variable = s_f1_f0 depth = 2\n" in top
    assert "#pragma HLS STREAM variable = s_f1_r0 depth = 64\n" in top
    assert len(re.findall(r"STREAM variable = s_sc_w2 depth", top)) == 1  # AddStreams' pragma


def test_two_depth_pragmas_on_one_stream_bite(seed_files):
    """The old fracbnn defect: the fork's depth and AddStreams' FIFO_DEPTH on the same stream."""
    bad = _edit(seed_files, TOP, "#pragma HLS STREAM variable = s_f1_r0 depth = 64\n",
                "#pragma HLS STREAM variable = s_f1_r0 depth = 80\n"
                "#pragma HLS STREAM variable = s_f1_r0 depth = 2\n")
    assert "one-depth" in _rules(bad)


def test_stream_without_depth_pragma_bites(seed_files):
    bad = _edit(seed_files, TOP, "#pragma HLS STREAM variable = s_f1_simd depth = 2\n", "")
    assert "one-depth" in _rules(bad)


def test_second_reader_of_a_stream_bites(seed_files):
    line = next(ln for ln in seed_files[TOP].splitlines() if "bnn::frac_mvau<" in ln)
    bad = _edit(seed_files, TOP, line, line + "\n" + line.replace("s_acc2", "s_extra"))
    bad = _edit(bad, TOP, '#pragma HLS DATAFLOW\n', '#pragma HLS DATAFLOW\n  hls::stream<ap_uint<'
                '64> > s_extra("s_extra");\n#pragma HLS STREAM variable = s_extra depth = 2\n')
    findings = [f for f in check_sources(bad) if f.rule == "one-producer"]
    assert findings and any("consumers" in f.message for f in findings)


def test_dropped_consumer_bites(seed_files):
    line = next(ln for ln in seed_files[TOP].splitlines() if "bnn::add_streams<" in ln)
    assert "one-producer" in _rules(_edit(seed_files, TOP, line, ""))


def test_partition_on_a_function_argument_bites(seed_files):
    """The old mvau.hpp/bitplane.hpp: the pragma on the reference argument `weights`."""
    rel = "hls/src/bnn/frac_mvau.hpp"
    bad = _edit(seed_files, rel, "  Planes<SIMD, PLANES, HAS_VALID> vec[SF];\n",
                "  Planes<SIMD, PLANES, HAS_VALID> vec[SF];\n"
                "#pragma HLS ARRAY_PARTITION variable = weights.words complete dim = 1\n")
    assert "partition-placement" in _rules(bad)


def test_params_outside_the_top_bite(seed_files):
    top = seed_files[TOP]
    includes = re.findall(r'#include "params/[^"]+"\n', top)
    moved = top
    for inc in includes:
        moved = moved.replace(inc, "")
    moved = moved.replace("void bnn_top(", "".join(includes) + "\nvoid bnn_top(", 1)
    assert "partition-placement" in _rules({**seed_files, TOP: moved})


def test_unpartitioned_thresholds_bite(seed_files):
    """Thresholds read NT per lane per cycle: without dim 3 the FracMVAU loop cannot reach II=1."""
    rel = next(k for k, v in seed_files.items() if k.startswith("hls/src/params/")
               and "Thresholds<" in v and re.search(r"_act.thr complete dim = 3", v))
    var = re.search(r"variable = (\w+_act.thr) complete dim = 3", seed_files[rel]).group(1)
    bad = _edit(seed_files, rel, f"#pragma HLS ARRAY_PARTITION variable = {var} complete "
                "dim = 3\n", "")
    assert "partition-ii" in _rules(bad)


def test_unpartitioned_weights_bite(seed_files):
    rel = "hls/src/params/L_conv2.hpp"
    bad = _edit(seed_files, rel, "#pragma HLS ARRAY_PARTITION variable = L_conv2_w.words "
                "complete dim = 1\n", "")
    assert "partition-ii" in _rules(bad)


def test_wide_stream_bites(seed_files):
    bad = _edit(seed_files, TOP, 'hls::stream<ap_uint<24> > s_f1_simd("s_f1_simd");',
                'hls::stream<ap_uint<5000> > s_f1_simd("s_f1_simd");')
    assert "width" in _rules(bad)


def test_late_or_missing_width_limit_bites(seed_files):
    bad = _edit(seed_files, "hls/src/bnn_top.hpp", "#define AP_INT_MAX_W 4096", "")
    assert "width" in _rules(bad)


def test_loop_in_dataflow_region_bites(seed_files):
    bad = _edit(seed_files, TOP, "  bnn::stream_to_axi<",
                "  for (unsigned i = 0; i < num_images; i++) { }\n  bnn::stream_to_axi<")
    assert "dataflow" in _rules(bad)


def test_runtime_loop_bound_in_a_process_bites(seed_files):
    rel = "hls/src/bnn/streams.hpp"
    bad = _edit(seed_files, rel, "for (unsigned i = 0; i < reps * WORDS; i++) {",
                "for (unsigned i = 0; i < reps * WORDS + limit; i++) {")
    assert "loop-bound" in _rules(bad)


def test_assert_project_clean_lists_findings(canonical_graph, tmp_path):
    project = write_project(canonical_graph, tmp_path / "proj", "pynq-z2")
    top = project.hls_dir / "src" / "bnn_top.cpp"
    top.write_text(top.read_text().replace("#pragma HLS STREAM variable = s_bits depth = 2\n", ""))
    with pytest.raises(StaticCheckError, match=r"one-depth.*s_bits"):
        assert_project_clean(project.hls_dir)


def test_constant_port_assignment_is_allowed_but_computation_is_not(seed_files):
    """A read-only register set to a constant (e.g. an identity word) is fine; anything
    computed in the DATAFLOW region is not a process and is flagged."""
    ok = _edit(seed_files, TOP, "#pragma HLS DATAFLOW\n",
               "#pragma HLS DATAFLOW\n  *identity = 0x424E4E01u;\n")
    assert check_sources(ok) == []
    bad = _edit(seed_files, TOP, "#pragma HLS DATAFLOW\n",
                "#pragma HLS DATAFLOW\n  *identity = compute(num_images);\n")
    assert "dataflow" in _rules(bad)
