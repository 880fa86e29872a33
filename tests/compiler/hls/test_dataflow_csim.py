# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Dataflow csim with bounded FIFOs (one thread per process, FIFOs at their declared depths):
bit-exact on the seed graph (fork + residual add + windows), peak occupancy per stream, and a
2-deep shortcut FIFO deadlocks with the blocked streams named."""
import sys
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler.hls.dataflow_csim import (DataflowDeadlock, build_dataflow_csim,
                                                 declared_depths, run_dataflow_csim,
                                                 sized_depths, threaded_top,
                                                 verify_dataflow_csim)
from pynq_bnn.compiler.hls.project import render_project, write_project

sys.path.insert(0, str(Path(__file__).parent))
from test_seed_templates import seed_graph  # noqa: E402


def test_threaded_top_spawns_every_process_with_declared_depths(canonical_graph):
    files, _ = render_project(canonical_graph, "pynq-z2", 100)
    top = files["hls/src/bnn_top.cpp"]
    text = threaded_top(top)
    calls = [ln for ln in top.splitlines() if ln.strip().startswith("bnn::")]
    assert text.count("dataflow.spawn([&]() { bnn::") == len(calls) > 0
    assert 'hls::stream<ap_uint<8> > s_pixels("s_pixels", 2);' in text
    assert "#pragma HLS STREAM" not in text and text.rstrip().endswith("dataflow.run();\n}")
    assert declared_depths(top)["s_hidden"] == 2


@pytest.fixture(scope="module")
def seed_dataflow(tmp_path_factory):
    graph = seed_graph()
    project = write_project(graph, tmp_path_factory.mktemp("df") / "proj", "pynq-z2")
    build_dataflow_csim(project, opt="-O1")
    return graph, project


def test_seed_graph_dataflow_csim_is_bit_exact_and_measures_peaks(seed_dataflow):
    graph, project = seed_dataflow
    images = np.random.default_rng(3).integers(0, 256, size=(5, 4, 4, 4), dtype=np.uint8)
    result = verify_dataflow_csim(graph, project, images, batch=2)
    depths = declared_depths((project.hls_dir / "src" / "bnn_top.cpp").read_text())
    assert result.depths == depths
    assert set(result.peaks) == set(depths)
    assert all(1 <= result.peaks[s] <= depths[s] for s in depths)
    # the shortcut holds more than a default FIFO while conv2's window reads its frame
    assert max(result.peaks["s_f1_r0"], result.peaks["s_sc_w2"]) > 2
    sized = sized_depths(result)
    assert all(sized[s] >= max(2, result.peaks[s] + 1) for s in sized)


def test_two_deep_shortcut_fifo_deadlocks(seed_dataflow):
    """The shortcut of the fork s_f1 goes through s_f1_r0 -> Requantize -> s_sc -> s_sc_w2 into
    AddStreams; with 2-deep FIFOs there it cannot hold the image the main branch's frame-
    buffered window reads before emitting: every process blocks."""
    _, project = seed_dataflow
    images = np.random.default_rng(4).integers(0, 256, size=(2, 4, 4, 4), dtype=np.uint8)
    with pytest.raises(DataflowDeadlock) as info:
        run_dataflow_csim(project, images, depths={"s_f1_r0": 2, "s_sc_w2": 2}, batch=2)
    assert "write s_f1_r0 (full 2/2)" in info.value.blocked
    assert any(b.startswith("read ") for b in info.value.blocked)


def test_unknown_override_is_refused(seed_dataflow):
    _, project = seed_dataflow
    from pynq_bnn.compiler.hls.csim import CsimError

    with pytest.raises(CsimError, match="nope"):
        run_dataflow_csim(project, np.zeros((1, 4, 4, 4), np.uint8), depths={"nope": 3})


@pytest.mark.slow
def test_sized_fifo_depths_are_emitted_and_validated(seed_dataflow, tmp_path):
    """Measure -> size (peak + margin) -> validate at the sized depths -> emit: the re-rendered
    top carries the measured depths, passes the static checks and runs without deadlock."""
    from pynq_bnn.compiler.hls.static_check import check_project
    from pynq_bnn.compiler.hls.dataflow_csim import size_fifos

    graph, project = seed_dataflow
    images = np.random.default_rng(8).integers(0, 256, size=(4, 4, 4, 4), dtype=np.uint8)
    generated = declared_depths((project.hls_dir / "src" / "bnn_top.cpp").read_text())
    depths = size_fifos(graph, project, images, batch=2)
    assert graph.meta["fifo_depths"] == depths
    assert all(2 <= depths[s] <= generated[s] for s in depths)
    resized = write_project(graph, tmp_path / "sized", "pynq-z2")
    assert declared_depths((resized.hls_dir / "src" / "bnn_top.cpp").read_text()) == depths
    assert check_project(resized.hls_dir) == []
    verify_dataflow_csim(graph, resized, images, batch=2)
    del graph.meta["fifo_depths"]
