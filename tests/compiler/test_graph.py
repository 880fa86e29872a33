# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""DataflowGraph: save/load round trip, validation and clear errors for bad files."""
import json

import numpy as np
import pytest

from pynq_bnn.compiler import DataflowGraph, GraphFormatError, execute, load_graph, save_graph
from pynq_bnn.compiler.hw.label_select import LabelSelect
from pynq_bnn.compiler.hw.mvau import MVAU
from pynq_bnn.compiler.hw.thresholding import Thresholding


def tiny_graph(seed=0):
    rng = np.random.default_rng(seed)
    thr = Thresholding("thr", ["img"], "bits", {"thresholds": np.array([[128]])}, shape=[4, 4, 1],
                       in_type="UINT8", out_type="BIPOLAR", num_thresholds=1)
    fc = MVAU("fc", ["bits"], "scores", {"weights": rng.choice([-1, 1], (3, 16)).astype(np.int8)},
              MW=16, MH=3, in_shape=[16], in_type="BIPOLAR", weight_type="BIPOLAR",
              out_type="INT6")
    top = LabelSelect("top", ["scores"], "label", labels=3, k=2, in_type="INT6")
    return DataflowGraph([thr, fc, top], "img", (4, 4, 1), "UINT8", "label", {"name": "tiny"})


def test_save_load_round_trip_executes_identically(tmp_path):
    graph = tiny_graph()
    save_graph(graph, tmp_path / "g")
    loaded = load_graph(tmp_path / "g")
    images = np.random.default_rng(1).integers(0, 256, (20, 4, 4, 1)).astype(np.uint8)
    np.testing.assert_array_equal(execute(loaded, images), execute(graph, images))
    assert loaded.meta == {"name": "tiny"} and [l.kind for l in loaded] == ["Thresholding",
                                                                              "MVAU", "LabelSelect"]
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["graph.json", "params.npz"]


def test_missing_and_corrupt_files_raise_clear_errors(tmp_path):
    with pytest.raises(GraphFormatError, match="graph.json is missing"):
        load_graph(tmp_path)
    save_graph(tiny_graph(), tmp_path)
    (tmp_path / "params.npz").write_bytes(b"not a zip")
    with pytest.raises(GraphFormatError, match="params.npz is corrupt"):
        load_graph(tmp_path)
    save_graph(tiny_graph(), tmp_path)
    (tmp_path / "graph.json").write_text("{broken")
    with pytest.raises(GraphFormatError, match="not valid JSON"):
        load_graph(tmp_path)


def test_version_unknown_kind_and_missing_params(tmp_path):
    save_graph(tiny_graph(), tmp_path)
    data = json.loads((tmp_path / "graph.json").read_text())
    (tmp_path / "graph.json").write_text(json.dumps(dict(data, format_version=99)))
    with pytest.raises(GraphFormatError, match="format_version"):
        load_graph(tmp_path)
    data["layers"][1]["kind"] = "Bogus"
    (tmp_path / "graph.json").write_text(json.dumps(data))
    with pytest.raises(GraphFormatError, match="unknown HW layer kind 'Bogus'"):
        load_graph(tmp_path)
    data["layers"][1]["kind"] = "MVAU"
    data["layers"][1]["name"] = "renamed"
    (tmp_path / "graph.json").write_text(json.dumps(data))
    with pytest.raises(GraphFormatError, match="lacks parameters"):
        load_graph(tmp_path)


def test_validate_names_the_offending_layer():
    graph = tiny_graph()
    graph.layers[1].inputs = ["nowhere"]
    with pytest.raises(GraphFormatError, match="layer 'fc' reads stream 'nowhere'"):
        graph.validate()
    graph = tiny_graph()
    graph.layers.reverse()
    with pytest.raises(GraphFormatError, match="before any layer writes it"):
        graph.validate()
