# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""User MLPs in Brevitas' bnn_pynq style (plain Brevitas layers, no ``config``) compile and
verify on real MNIST images: 1-bit binarized pixels (lfc_1w1a), 1-bit input with 2-bit
activations (tfc_1w2a), 2-bit everything, an 8-bit input; and unsupported models are refused
with the user's node, the reason and the fix."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pynq_bnn.compiler import verify
from pynq_bnn.compiler.frontend import compile_qonnx
from pynq_bnn.compiler.ir import UnsupportedGraphError
from pynq_bnn.data import load_dataset
from pynq_bnn.deployable import check_deployable
from pynq_bnn.export import export_qonnx

_spec = importlib.util.spec_from_file_location("user_nets",
                                               Path(__file__).with_name("user_nets.py"))
nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nets)


@pytest.fixture(scope="module")
def mnist(data_dir):
    return load_dataset("mnist", "test", data_dir).subset(500)


@pytest.mark.parametrize("bits, first", [((1, 1, 1), "Thresholding"),   # lfc_1w1a
                                         ((1, 1, 2), "Thresholding"),   # tfc_1w2a
                                         ((2, 2, 2), "Thresholding"),   # tfc_2w2a
                                         ((8, 1, 1), "Thresholding")])  # 8-bit pixels
def test_bnn_pynq_mlp_compiles_and_verifies_on_500_mnist_images(tmp_path, mnist, bits, first):
    torch.manual_seed(0)
    model = nets.calibrate(nets.BnnPynqMLP(*bits, hidden=(32, 32)), mnist.images[:200])
    wrapper = export_qonnx(model, tmp_path / "mlp.onnx", input_shape=(1, 28, 28))
    graph = compile_qonnx(wrapper)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds[0] == first and kinds.count("MVAU") == 3, kinds
    if bits[0] == 1:  # binarized pixels: one threshold per pixel, p >= T <=> 2p/255 - 1 >= 0
        thresholds = graph.layers[0].params["thresholds"]
        assert thresholds.shape == (1, 1) and int(thresholds[0, 0]) == 128
    report = verify(model, wrapper, graph, mnist.images, mnist.labels)
    assert report.ok and report.images == 500, str(report)
    assert report.layers and all(c.images == 2 for c in report.layers)
    with torch.no_grad():
        from pynq_bnn.zoo import to_model_input
        classes = model(to_model_input(mnist.images)).argmax(1)
    assert len(set(classes.tolist())) > 2  # not trivially one constant class


class _Refused(nn.Module):
    """A small MLP with one unsupported feature."""

    def __init__(self, defect: str):
        super().__init__()
        self.defect = defect
        self.inp = nets.QuantIdentity(act_quant=nets.ConstActQuant, bit_width=1)
        self.fc1 = nets.QuantLinear(784, 16, bias=False, weight_quant=nets.ConstWeightQuant,
                                    weight_bit_width=1)
        self.bn = nn.BatchNorm1d(16)
        self.act = nets.QuantIdentity(act_quant=nets.ConstActQuant, bit_width=1)
        self.fc2 = nets.QuantLinear(16, 10, bias=False, weight_quant=nets.ConstWeightQuant,
                                    weight_bit_width=1)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        if self.defect == "square_input":
            x = x * x
        x = self.inp(2 * x - 1)
        y = self.bn(self.fc1(x))
        if self.defect == "sigmoid":
            y = torch.sigmoid(y)
        y = self.act(y) + y if self.defect == "float_residual" else self.act(y)
        y = self.fc2(y)
        return torch.softmax(y, 1) if self.defect == "softmax" else y


@pytest.mark.parametrize("defect, op, words", [
    ("sigmoid", "Sigmoid", "use a quantized activation"),
    ("softmax", "Softmax", "drop it after the classifier"),
    ("float_residual", "Add", "add a QuantIdentity on the residual path"),
    ("square_input", "Mul", "QuantIdentity"),
])
def test_unsupported_user_models_are_refused_naming_the_users_node(tmp_path, defect, op, words):
    model = nets.randomize_bn(_Refused(defect))
    wrapper = export_qonnx(model, tmp_path / "m.onnx", input_shape=(1, 28, 28))
    user_nodes = {n.name: n.op_type for n in wrapper.graph.node}
    with pytest.raises(UnsupportedGraphError) as err:
        compile_qonnx(wrapper)
    assert err.value.op_type == op and user_nodes.get(err.value.node_name) == op, str(err.value)
    assert words in str(err.value)
    assert "PixelsToUnit" not in str(err.value)
    report = check_deployable(model, input_shape=(1, 28, 28))
    assert not report.ok and report.first_problem.node_name == err.value.node_name


def test_check_deployable_takes_any_module_and_asks_for_a_shape():
    model = nets.randomize_bn(nets.BnnPynqMLP(1, 1, 1, hidden=(16,)))
    assert not hasattr(model, "config")
    report = check_deployable(model)
    assert not report.ok and report.first_problem.stage == "export"
    assert "input_shape=(C, H, W)" in report.first_problem.reason
    report = check_deployable(model, input_shape=(1, 28, 28))
    assert report.ok and report.model_name == "BnnPynqMLP", str(report)


def test_compile_module_records_origin_and_verification(mnist, tmp_path):
    from pynq_bnn.compiler.graph import load_graph, save_graph
    from pynq_bnn.compiler.user_model import compile_module

    torch.manual_seed(0)
    model = nets.calibrate(nets.BnnPynqMLP(1, 1, 1, hidden=(16,)), mnist.images[:100])
    graph, report = compile_module(model, mnist.images[:100], mnist.labels[:100])
    origin = graph.meta["origin"]
    assert origin["class"] == "BnnPynqMLP" and len(origin["qonnx_sha256"]) == 64
    assert origin["verification"]["images"] == 100 and report.ok
    assert load_graph(save_graph(graph, tmp_path / "g")).meta["origin"] == origin


class _Float32Flip(nn.Module):
    """The inner model, except that in float32 the first image of a batch gets negated logits
    (a stand-in for float32 rounding flipping a decision; float64 is left exact)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        y = self.inner(x)
        if x.dtype == torch.float32:
            y = torch.cat([-y[:1], y[1:]])
        return y


def test_verify_fails_on_real_mismatches_and_separates_float32_near_ties(tmp_path, mnist):
    torch.manual_seed(0)
    model = nets.calibrate(nets.BnnPynqMLP(1, 1, 1, hidden=(32, 32)), mnist.images[:200])
    wrapper = export_qonnx(model, tmp_path / "mlp.onnx", input_shape=(1, 28, 28))
    graph = compile_qonnx(wrapper)
    images = mnist.images[:200]
    flipped = verify(_Float32Flip(model), wrapper, graph, images, layer_images=0)
    assert flipped.ok and flipped.real_mismatches == 0, str(flipped)
    assert flipped.top1_mismatches == flipped.near_ties == 1, str(flipped)
    mvau = next(layer for layer in graph.layers if layer.kind == "MVAU")
    mvau.params["thresholds"] = mvau.params["thresholds"] + 7  # a wrong threshold table
    broken = verify(model, wrapper, graph, images, layer_images=1)
    assert not broken.ok and broken.layer_mismatches > 0, str(broken)
    assert broken.real_mismatches == broken.top1_mismatches > 0, str(broken)


def test_compile_onnx_file_verifies_against_the_file(tmp_path, mnist):
    from pynq_bnn.compiler.onnx_source import compile_onnx_file

    torch.manual_seed(0)
    model = nets.calibrate(nets.BnnPynqMLP(1, 1, 2, hidden=(16,)), mnist.images[:100])
    path = tmp_path / "user.onnx"
    export_qonnx(model, path, input_shape=(1, 28, 28))
    graph, report = compile_onnx_file(path, mnist.images[:30], mnist.labels[:30])
    assert report.ok and report.top1_mismatches == 0 and report.layers, str(report)
    assert graph.meta["origin"]["file"] == "user.onnx"
    assert graph.meta["origin"]["verification"]["images"] == 30
    with pytest.raises(FileNotFoundError):
        compile_onnx_file(tmp_path / "missing.onnx", mnist.images[:2])
