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


@pytest.mark.slow
def test_small_cnv_on_cifar10_csim_equals_numpy(tmp_path, data_dir):
    """A zoo CNV (narrow) through export -> compile -> fold -> HLS -> csim on real images:
    sliding windows, 8-bit input MVAU, max-pools and width converters all bit-exact."""
    import torch

    from pynq_bnn import zoo
    from pynq_bnn.compiler import compile_qonnx
    from pynq_bnn.compiler.folding import apply_folding, get_folding
    from pynq_bnn.data import load_dataset
    from pynq_bnn.export import export_qonnx

    torch.manual_seed(0)
    model = zoo.build("cnv", convs=((8, False), (8, True), (16, False), (16, True), (16, False),
                                    (16, False)), fcs=(32, 32)).eval()
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            mod.running_mean.uniform_(-5, 5)
            mod.weight.data.uniform_(-1, 1)
    export_qonnx(model, tmp_path / "cnv.onnx")
    graph = compile_qonnx(tmp_path / "cnv.onnx")
    folding = get_folding(graph)
    for name, axes in folding.items():  # mixed PE/SIMD so that width converters appear
        space = graph.layer(name).folding_space()
        for axis in axes:
            axes[axis] = space[axis][min(2, len(space[axis]) - 1)]
    apply_folding(graph, folding)
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name="cnv_small")
    assert "bnn::resize<" in (project.hls_dir / "src" / "bnn_top.cpp").read_text()
    images = load_dataset("cifar10", "test", data_dir).images[:24].transpose(0, 2, 3, 1)
    report = verify_csim(graph, project, images, batch=8)
    assert report.passed, report.as_dict()
