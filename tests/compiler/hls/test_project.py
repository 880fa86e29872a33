# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""HLS project rendering (snapshots), atomic writing, and whole-accelerator csim vs numpy.

Snapshots live in ``tests/compiler/hls/snapshots/``; after an intended change of the generated
code, regenerate them with ``PYNQ_BNN_UPDATE_SNAPSHOTS=1 python -m pytest tests/compiler/hls``
and review the diff.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import execute
from pynq_bnn.compiler.hls.project import render_project, write_project
from pynq_bnn.compiler.hls.topgen import HlsRenderError
from pynq_bnn.compiler.hls.verify import run_csim, verify_csim

SNAPSHOTS = Path(__file__).parent / "snapshots"
SNAPSHOT_FILES = ("hls/src/bnn_top.cpp", "hls/src/bnn_top.hpp", "hls/src/params/L_fc1.hpp",
                  "hls/hls.tcl", "vivado/vivado.tcl", "project.json")


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("PYNQ_BNN_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing snapshot {path}; create it with PYNQ_BNN_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"generated {name} differs from its snapshot"


def _portable(text: str) -> str:
    """Drop the machine-specific ap_types path (Makefile) from snapshot text."""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("AP_TYPES ?=")) + "\n"


@pytest.mark.parametrize("board", ["pynq-z2", "ultra96-v2"])
def test_rendered_project_matches_snapshots(canonical_graph, board):
    files, info = render_project(canonical_graph, board, clock_mhz=100, name="canonical")
    for rel in SNAPSHOT_FILES:
        _check_snapshot(f"{board}/{rel.replace('/', '__')}", _portable(files[rel]))
    assert info["axi_width"] == (64 if board == "pynq-z2" else 128)
    assert info["input"]["words"] == (2 if board == "pynq-z2" else 1)  # 16 pixels of 8 bits


def test_top_level_inserts_width_converters(canonical_graph):
    files, _ = render_project(canonical_graph, "pynq-z2", 100)
    top = files["hls/src/bnn_top.cpp"]
    # fc1 emits 2-lane words, fc2 reads 8-lane words: one resize 2 -> 8 bits, 4 words -> 1.
    assert "bnn::resize<2, 8, 4, 1>(s_hidden, s_hidden_w8, num_images);" in top
    # label indices widened to bytes before the AXI packer.
    assert "bnn::widen<1, 8, 8" not in top and "bnn::resize<8, 64, 2, 1>" in top
    assert "#pragma HLS DATAFLOW" in top and "s_axilite port = num_images" in top


def test_layer_without_lanes_is_a_clear_error(canonical_graph, tmp_path):
    layer = canonical_graph.layers[1]
    original = layer.render_hls()
    original.in_lanes = []
    layer.render_hls = lambda: original
    with pytest.raises(HlsRenderError, match="fc1.*in_lanes"):
        write_project(canonical_graph, tmp_path / "proj", "pynq-z2")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_write_project_is_atomic_and_replaces(canonical_graph, tmp_path):
    out = tmp_path / "proj"
    first = write_project(canonical_graph, out, "pynq-z2", name="canonical")
    (out / "stale.txt").write_text("old")
    second = write_project(canonical_graph, out, "pynq-z2", name="canonical")
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    assert first.to_dict() == second.to_dict()
    info = json.loads((out / "project.json").read_text())
    assert info["dma_name"] == "axi_dma_0" and info["control_registers"]["num_images"] == 16
    assert (out / "hls" / "src" / "bnn" / "mvau.hpp").is_file()


@pytest.mark.slow
def test_canonical_accelerator_csim_equals_numpy(canonical_graph, tmp_path):
    project = write_project(canonical_graph, tmp_path / "proj", "pynq-z2", name="canonical")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(37, 4, 4, 1), dtype=np.uint8)
    report = verify_csim(canonical_graph, project, images, batch=5)  # several batches + a tail
    assert report.passed, report.as_dict()
    got = run_csim(project, images[:3])
    np.testing.assert_array_equal(got, execute(canonical_graph, images[:3]))
