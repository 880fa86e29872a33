# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LFC end to end: Brevitas -> QONNX -> HW layers; top-1 identical on 1,000 real MNIST test
images, integer tensors identical at every HW-layer boundary, save/load, verify() report."""
import numpy as np
import pytest
import torch

from pynq_bnn import zoo
import copy

from pynq_bnn.compiler import execute, load_graph, save_graph, streamline, verify
from pynq_bnn.compiler.lower import RULES, lower_model
from pynq_bnn.data import load_dataset
from pynq_bnn.export import export_qonnx


def randomize_batchnorm(model, seed):
    """Non-trivial BN statistics, about a third of them with negative gamma."""
    gen = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=gen) * 5)
            mod.running_var.copy_(torch.rand(c, generator=gen) * 50 + 1)
            mod.weight.data.copy_(torch.randn(c, generator=gen))
            mod.bias.data.copy_(torch.randn(c, generator=gen) * 0.5)
    return model.eval()


def build_compiled(name, tmp_dir):
    """(model, qonnx model, graph, streamlined model) of a randomly initialised zoo model
    (``compile_qonnx`` = ``streamline`` + ``lower_model``, split to reuse the streamlined one).
    The binary weights have scale 1, so the float graph is exact (see verify.py)."""
    torch.manual_seed(0)
    model = randomize_batchnorm(zoo.build(name), seed=1)
    qonnx_model = export_qonnx(model, tmp_dir / f"{name}.onnx")
    streamlined = streamline(qonnx_model)
    return model, qonnx_model, lower_model(streamlined, RULES), streamlined


@pytest.fixture(scope="module")
def lfc(tmp_path_factory):
    return build_compiled("lfc", tmp_path_factory.mktemp("lfc"))


@pytest.fixture(scope="module")
def mnist(data_dir):
    test = load_dataset("mnist", "test", data_dir)
    return test.images[:1000], test.labels[:1000]


def test_lfc_lowers_to_the_expected_layers(lfc):
    _, _, graph, _ = lfc
    assert [layer.kind for layer in graph] == ["Thresholding"] + ["MVAU"] * 4 + ["LabelSelect"]
    assert graph.layers[0].params["thresholds"].tolist() == [[128]]  # p/255 - 0.5 >= 0
    assert all(layer.is_binary() for layer in graph.layers[2:5])
    assert any(layer.params["neg"].any() for layer in graph.layers[1:4])  # negative gammas


def test_lfc_top1_identical_on_1000_mnist_images(lfc, mnist):
    model, qonnx_model, graph, streamlined = lfc
    images, labels = mnist
    report = verify(model, qonnx_model, graph, images, labels, layer_images=2,
                    streamlined=streamlined)
    assert report.images == 1000
    assert report.top1_mismatches == 0, str(report)
    assert report.layers and report.layer_mismatches == 0, str(report)
    assert report.ok and report.hw_accuracy == report.torch_accuracy


def test_lfc_save_load_round_trip(lfc, mnist, tmp_path):
    _, _, graph, _ = lfc
    images = np.ascontiguousarray(mnist[0][:200].transpose(0, 2, 3, 1))
    loaded = load_graph(save_graph(graph, tmp_path))
    np.testing.assert_array_equal(execute(loaded, images), execute(graph, images))


def test_top5_order_matches_torch_topk(lfc, mnist):
    model, _, graph, _ = lfc
    graph = copy.deepcopy(graph)
    graph.layers[-1].attrs["k"] = 5
    images = mnist[0][:100]
    with torch.no_grad():
        logits = model(zoo.to_model_input(images)).numpy()
    ours = execute(graph, np.ascontiguousarray(images.transpose(0, 2, 3, 1)))
    assert ours.shape == (100, 5)
    np.testing.assert_array_equal(ours, np.argsort(-logits, axis=1, kind="stable")[:, :5])


def test_verify_names_the_first_corrupted_layer(lfc, mnist):
    model, qonnx_model, graph, streamlined = lfc
    broken = copy.deepcopy(graph)
    broken.layers[2].params["thresholds"] = broken.layers[2].params["thresholds"] + 7
    report = verify(model, qonnx_model, broken, mnist[0][:50], layer_images=1,
                    streamlined=streamlined)
    assert not report.ok
    bad = report.first_layer_mismatch
    assert bad.layer == broken.layers[2].name and bad.first_mismatch[0] == 0
    assert f"first layer mismatch: layer {bad.layer!r}" in str(report)
    with pytest.raises(AssertionError, match="verification failed"):
        report.raise_if_failed()
