# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Brevitas export traps: our binary layers export graphs that compute what torch computes.

Edge values matter most for a BNN: ``sign(0)`` must be +1 in torch, in the QONNX graph
(``BipolarQuant``) and in the hardware's ``acc >= threshold`` compare. The two traps of DESIGN.md
are demonstrated on plain Brevitas layers and shown to be avoided by the project's recipes.
"""
import numpy as np
import pytest
import torch
from brevitas.nn import QuantConv2d, QuantIdentity

from pynq_bnn.export.verify import run_qonnx
from pynq_bnn.nn import BinaryActivation, BinaryConv2d, BinaryLinear

EDGE_VALUES = [-3.0, -1.0, -0.5, -1e-7, -0.0, 0.0, 1e-7, 0.5, 1.0, 3.0]


def export_module(module, example, tmp_path):
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    path = tmp_path / "m.onnx"
    export_qonnx(module.eval(), args=example, export_path=str(path), input_names=["global_in"],
                 dynamo=False)
    return cleanup_model(ModelWrapper(str(path)))


def test_binary_activation_exports_sign_with_zero_to_plus_one(tmp_path):
    act = BinaryActivation().eval()
    x = torch.tensor([EDGE_VALUES])
    wrapper = export_module(act, x, tmp_path)
    assert [n.op_type for n in wrapper.graph.node] == ["BipolarQuant"]
    expected = [-1, -1, -1, -1, 1, 1, 1, 1, 1, 1]  # -0.0 >= 0 is true: +1 as well
    assert act(x).tolist() == [expected]
    np.testing.assert_array_equal(run_qonnx(wrapper, x.numpy()), [expected])


@pytest.mark.parametrize("grad", ["ste", "approx_sign"])
def test_binary_activation_value_is_independent_of_the_surrogate(grad):
    x = torch.tensor(EDGE_VALUES, requires_grad=True)
    act = BinaryActivation(grad).train()
    assert act(x).tolist() == BinaryActivation("ste").eval()(x).tolist()


def test_binary_linear_with_zero_weights_and_zero_inputs_matches_export(tmp_path):
    layer = BinaryLinear(6, 4).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.0, -0.0, 0.3, -0.3, 1.0, -1.0]] * 4) *
                           torch.tensor([[1.0], [-1.0], [0.0], [2.0]]))
    x = torch.tensor([[1.0, -1.0, 0.0, 1.0, -1.0, 1.0], [0.0] * 6, [1.0] * 6])
    wrapper = export_module(layer, x[:1], tmp_path)
    assert "BipolarQuant" in {n.op_type for n in wrapper.graph.node}
    signs = torch.where(layer.weight >= 0, 1.0, -1.0)
    scale = float(layer.quant_weight().scale)
    reference = x @ signs.T * scale  # sign(0) = +1 for weights too
    for i in range(len(x)):
        torch_out = layer(x[i:i + 1])
        np.testing.assert_allclose(torch_out.detach().numpy(), reference[i:i + 1], atol=1e-6)
        np.testing.assert_allclose(run_qonnx(wrapper, x[i:i + 1].numpy()),
                                   torch_out.detach().numpy(), atol=1e-6)


def test_binary_conv_matches_export_on_pm1_inputs(tmp_path):
    conv = BinaryConv2d(3, 4, 3, padding=1).eval()
    x = torch.where(torch.rand(1, 3, 6, 6) < 0.5, -1.0, 1.0)
    wrapper = export_module(conv, x, tmp_path)
    np.testing.assert_allclose(run_qonnx(wrapper, x.numpy()), conv(x).detach().numpy(), atol=1e-5)


def test_trap_1_quantidentity_bit_width_1_exports_wrong_and_binaryact_does_not(tmp_path):
    """``QuantIdentity(bit_width=1)`` is {-s, 0} in torch but exports as ``BipolarQuant`` (±s)."""
    x = torch.tensor([[-1.0, -0.25, 0.25, 1.0]])
    naive = QuantIdentity(bit_width=1, return_quant_tensor=False).eval()
    torch_values = naive(x)
    assert (torch_values == 0).any(), "trap gone? QuantIdentity(bit_width=1) no longer gives 0"
    (tmp_path / "naive").mkdir()
    naive_graph = export_module(naive, x, tmp_path / "naive")
    assert "BipolarQuant" in {n.op_type for n in naive_graph.graph.node}
    assert not np.allclose(run_qonnx(naive_graph, x.numpy()), torch_values.numpy())
    ours = BinaryActivation().eval()
    (tmp_path / "ours").mkdir()
    ours_graph = export_module(ours, x, tmp_path / "ours")
    np.testing.assert_array_equal(run_qonnx(ours_graph, x.numpy()), ours(x).numpy())
    assert set(ours(x).flatten().tolist()) == {-1.0, 1.0}


def test_trap_2_weight_bit_width_1_without_binary_quant_gives_nan_and_ours_does_not():
    """``QuantConv2d(weight_bit_width=1)`` with the default int quantizer has NaN weights."""
    naive = QuantConv2d(2, 2, 3, weight_bit_width=1, return_quant_tensor=False)
    assert torch.isnan(naive.quant_weight().value).any(), "trap gone? weights are no longer NaN"
    ours = BinaryConv2d(2, 2, 3)
    weights = ours.quant_weight().value
    scale = float(ours.quant_weight().scale)
    assert torch.isfinite(weights).all() and set(weights.abs().unique().tolist()) == {scale}
