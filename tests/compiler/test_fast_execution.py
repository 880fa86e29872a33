# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The fast numpy execution equals the previous (legacy) layer bodies bit for bit, on real
images, for every shipped preset overlay — every stream, every chunking."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import execute
from pynq_bnn.compiler.graph import load_graph

_spec = importlib.util.spec_from_file_location(
    "legacy_reference", Path(__file__).with_name("legacy_reference.py"))
legacy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(legacy)

OVERLAYS = Path(__file__).resolve().parents[2] / "overlays"
PRESETS = sorted(p.name for p in OVERLAYS.iterdir() if (p / "graph.json").is_file()) \
    if OVERLAYS.is_dir() else []


def _images(graph, data_dir, count):
    from pynq_bnn.data import load_dataset

    dataset = "mnist" if tuple(graph.input_shape)[:2] == (28, 28) else "cifar10"
    images = load_dataset(dataset, "test", data_dir).images[:count]
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)).reshape(
        (count,) + tuple(graph.input_shape))


@pytest.mark.parametrize("preset", PRESETS)
def test_fast_execution_equals_legacy_layers_on_real_images(preset, data_dir):
    graph = load_graph(OVERLAYS / preset)
    images = _images(graph, data_dir, 8)
    oracle = legacy.legacy_streams(graph, images)
    streams = execute(graph, images, return_all=True, batch_size=3)
    assert set(streams) == set(oracle)
    for name, want in oracle.items():
        got = streams[name]
        assert got.shape == np.asarray(want).shape, name
        np.testing.assert_array_equal(np.asarray(got, np.int64), np.asarray(want, np.int64),
                                      err_msg=f"{preset}: stream {name}")
    top = execute(graph, images, threads=2)
    np.testing.assert_array_equal(top, oracle[graph.output_name])
    assert top.dtype == np.asarray(oracle[graph.output_name]).dtype


def test_the_comparison_catches_a_changed_layer(data_dir):
    """The oracle comparison is not vacuous: one flipped weight in fracbnn's first gated conv
    changes its stream."""
    graph = load_graph(OVERLAYS / "fracbnn")
    layer = next(l for l in graph.layers if l.kind == "FracMVAU" and l.in_dtype == "FRAC2")
    images = _images(graph, data_dir, 2)
    before = execute(graph, images, return_all=True)[layer.output]
    layer.params["weights"] = np.array(layer.params["weights"], copy=True)
    layer.params["weights"][0, :8] *= -1
    after = execute(graph, images, return_all=True)[layer.output]
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, legacy.legacy_streams(graph, images)[layer.output])


@pytest.mark.parametrize("preset", [p for p in PRESETS if p in ("fracbnn", "cnv")])
def test_fused_producer_paths_equal_the_two_references(preset, data_dir):
    """Every producer/consumer pair execute() fuses (Requantize -> FracMVAU, SlidingWindow ->
    MVAU) gives the consumer's reference of the producer's reference, on real streams."""
    import importlib

    execute_module = importlib.import_module("pynq_bnn.compiler.execute")
    graph = load_graph(OVERLAYS / preset)
    images = _images(graph, data_dir, 4)
    streams = execute(graph, images, return_all=True)
    fused = execute_module._fused_producers(graph)
    assert fused, "nothing fused"
    for i, (source, function) in fused.items():
        layer = graph.layers[i]
        x = streams[source.inputs[0]].reshape((4,) + tuple(source.in_shapes()[0]))
        np.testing.assert_array_equal(np.asarray(function(x), np.int64),
                                      np.asarray(streams[layer.output], np.int64),
                                      err_msg=f"{preset}: {source.name} -> {layer.name}")


def test_frac_mvau_without_a_table_applies_its_function_directly(data_dir, monkeypatch):
    """Where the accumulator range is too wide for an output table, FracMVAU evaluates its
    output function on the accumulators: same stream."""
    from pynq_bnn.compiler import kernels

    graph = load_graph(OVERLAYS / "fracbnn")
    layer = next(l for l in graph.layers if l.kind == "FracMVAU" and l.in_dtype == "FRAC2")
    x = np.random.default_rng(0).integers(0, 4, (3,) + tuple(layer.in_shapes()[0]))
    want = legacy.frac_mvau(layer, x)
    np.testing.assert_array_equal(layer.reference(x), want)
    monkeypatch.setattr(kernels, "TABLE_MAX_ENTRIES", 1)
    layer.__dict__.pop("_kernel_cache", None)
    assert layer._output_table() is None
    np.testing.assert_array_equal(layer.reference(x.astype(np.float64)), want)
