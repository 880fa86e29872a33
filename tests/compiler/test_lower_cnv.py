# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CNV end to end on real CIFAR-10 images (random weights, non-trivial BN statistics); the
shipped checkpoints when they exist; the known tie-breaking effect of non-unit weight scales."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import execute, streamline, verify
from pynq_bnn.data import load_dataset

_spec = importlib.util.spec_from_file_location("lfc_helpers", Path(__file__).with_name(
    "test_lower_lfc.py"))
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


@pytest.fixture(scope="module")
def cnv(tmp_path_factory):
    return helpers.build_compiled("cnv", tmp_path_factory.mktemp("cnv"))


@pytest.fixture(scope="module")
def cifar(data_dir):
    test = load_dataset("cifar10", "test", data_dir)
    return test.images, test.labels


def test_cnv_lowers_to_the_expected_layers(cnv):
    _, _, graph, _ = cnv
    kinds = [layer.kind for layer in graph]
    assert kinds.count("SlidingWindow") == 6 and kinds.count("MVAU") == 9
    assert kinds.count("MaxPool") == 2 and kinds[-1] == "LabelSelect"
    first = graph.layers[1]
    assert first.in_type == "UINT8" and first.weight_type == "BIPOLAR" and first.MW == 27
    assert graph.layers[-2].num_thresholds == 0  # raw accumulators into label select


def test_cnv_top1_and_layers_identical_on_cifar10(cnv, cifar):
    model, qonnx_model, graph, streamlined = cnv
    report = verify(model, qonnx_model, graph, cifar[0][:64], cifar[1][:64], layer_images=1,
                    streamlined=streamlined)
    assert report.top1_mismatches == 0 and report.layer_mismatches == 0, str(report)
    assert len(report.layers) == 11  # 9 MVAUs + 2 max-pools


@pytest.mark.slow
def test_cnv_top1_identical_on_1000_cifar10_images(cnv, cifar):
    model, qonnx_model, graph, streamlined = cnv
    report = verify(model, qonnx_model, graph, cifar[0][:1000], cifar[1][:1000],
                    layer_images=3, streamlined=streamlined)
    assert report.ok, str(report)


def _shipped():
    from pynq_bnn.checkpoint import pretrained_manifest

    try:
        return sorted(name for name in pretrained_manifest() if name in ("lfc", "cnv"))
    except Exception:  # noqa: BLE001 - a broken manifest is the checkpoint tests' business
        return []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lfc", "cnv"])
def test_shipped_checkpoint_compiles_bit_exactly(name, tmp_path, data_dir):
    if name not in _shipped():
        pytest.skip(f"no shipped {name} checkpoint in pynq_bnn/zoo/pretrained yet")
    from pynq_bnn.checkpoint import load_model, pretrained_path
    from pynq_bnn.compiler.lower import RULES, lower_model
    from pynq_bnn.export import export_qonnx

    model, _ = load_model(pretrained_path(name))
    qonnx_model = export_qonnx(model, tmp_path / f"{name}.onnx")
    streamlined = streamline(qonnx_model)
    graph = lower_model(streamlined, RULES)
    test = load_dataset("mnist" if name == "lfc" else "cifar10", "test", data_dir)
    report = verify(model, qonnx_model, graph, test.images[:1000], test.labels[:1000],
                    layer_images=2, streamlined=streamlined)
    assert report.layer_mismatches == 0, str(report)
    assert report.top1_mismatches == report.tie_mismatches, str(report)
    hw = execute(graph, np.ascontiguousarray(test.images[:1000].transpose(0, 2, 3, 1)))[:, 0]
    assert np.mean(hw == test.labels[:1000]) == report.hw_accuracy
