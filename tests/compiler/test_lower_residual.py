# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Residual BNNs written with plain Brevitas layers (tests/compiler/user_nets.py) compile with
the generic scaled-stream / residual / head rules and verify on 500 real CIFAR-10 images:
0 real mismatches against the float64 model; float32 near-ties are reported apart."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from pynq_bnn.compiler import verify
from pynq_bnn.compiler.frontend import compile_qonnx
from pynq_bnn.compiler.ir import UnsupportedGraphError
from pynq_bnn.compiler.lower.residual import integer_alignment
from pynq_bnn.data import load_dataset
from pynq_bnn.export import export_qonnx

_spec = importlib.util.spec_from_file_location("user_nets",
                                               Path(__file__).with_name("user_nets.py"))
nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nets)

CASES = {
    # Bi-Real: identity + binary 1x1 stride-2 conv shortcut, learned float residual scales
    "bireal_float": dict(blocks=(("identity", 1), ("conv", 2))),
    # ReActNet block: RSign (per-channel shift before the sign) + RPReLU after the add
    "reactnet": dict(blocks=(("identity", 1),), rsign=True, rprelu=True),
    "bireal_pow2": dict(blocks=(("identity", 1), ("conv", 2)), scale=2 ** -4),
    "avgpool_conv": dict(blocks=(("avgpool_conv", 2),)),
    "avgpool_dup": dict(blocks=(("avgpool_dup", 2),), scale=2 ** -4),
}


@pytest.fixture(scope="module")
def cifar(data_dir):
    return load_dataset("cifar10", "test", data_dir).subset(500)


@pytest.mark.parametrize("name", ["reactnet",
                                  pytest.param("bireal_float", marks=pytest.mark.slow),
                                  pytest.param("bireal_pow2", marks=pytest.mark.slow),
                                  pytest.param("avgpool_conv", marks=pytest.mark.slow),
                                  pytest.param("avgpool_dup", marks=pytest.mark.slow)])
def test_residual_net_compiles_and_verifies_on_500_cifar_images(tmp_path, cifar, name):
    torch.manual_seed(0)
    model = nets.calibrate(nets.BiRealNet(**CASES[name]), cifar.images[:100])
    wrapper = export_qonnx(model, tmp_path / f"{name}.onnx", input_shape=(3, 32, 32))
    graph = compile_qonnx(wrapper)
    kinds = [layer.kind for layer in graph.layers]
    assert "AddStreams" in kinds and "SumPool" in kinds and kinds[-2] == "MVAU", kinds
    report = verify(model, wrapper, graph, cifar.images, cifar.labels)
    assert report.ok and report.images == 500 and report.real_mismatches == 0, str(report)
    # residual streams are compared too (scaled streams as integers)
    compared = {check.kind for check in report.layers}
    assert {"Requantize", "SumPool"} <= compared, compared
    if "scale" in CASES[name]:  # power-of-two residual: the sum itself is a graph tensor
        assert "AddStreams" in compared, compared
    from pynq_bnn.zoo import to_model_input
    with torch.no_grad():
        assert len(set(model(to_model_input(cifar.images)).argmax(1).tolist())) > 1


def test_integer_alignment_separates_every_requantizer_step():
    sa, sb = 0.05008849501609802, 0.07081655412912369
    na, nb = (g.ravel() for g in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128),
                                              indexing="ij"))
    v = na * sa + nb * sb
    codes = np.clip(np.round(v / 0.06), -128, 127).astype(np.int64)[:, None]
    a, b = integer_alignment(sa, sb, na, nb, codes, 1)
    total = a * na + b * nb
    order = np.argsort(total, kind="stable")
    assert np.all(np.diff(codes[order, 0]) >= 0)  # codes are a monotone function of the sum
    # the unit weights (a plain integer add) are not exact for these scales
    order = np.argsort(na + nb, kind="stable")
    assert not np.all(np.diff(codes[order, 0]) >= 0)


def test_float_residual_without_quantizer_is_refused_naming_the_add(tmp_path):
    class FloatResidual(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nets.BiRealNet(blocks=(("identity", 1),))

        def forward(self, x):
            body = self.net.body[0]
            x = self.net.stem_q(self.net.stem_bn(self.net.stem(self.net.inp(x))))
            x = body.bn(body.conv(body.sign(x))) + x  # branch not quantized before the add
            return self.net.fc(torch.flatten(self.net.pool_q(self.net.pool(x)), 1))

    model = nets.randomize_bn(FloatResidual())
    wrapper = export_qonnx(model, tmp_path / "m.onnx", input_shape=(3, 32, 32))
    with pytest.raises(UnsupportedGraphError) as err:
        compile_qonnx(wrapper)
    assert err.value.op_type == "Add"
    assert "add a QuantIdentity on the residual path" in str(err.value)
    assert err.value.node_name in {n.name for n in wrapper.graph.node}
