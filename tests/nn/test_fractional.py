# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""FracBNN fractional activations and the gated binary conv: values, gate, gradients, export."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pynq_bnn.nn.fractional import (FracActivation, FracBinaryConv2d, frac_codes, frac_planes,
                                    frac_quantize, gate_target_loss)

LEVELS = [-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0]


def export_and_run(module, x, tmp_path, dynamo):
    """Export ``module`` like pynq_bnn.export does, run it with qonnx on each sample of ``x``."""
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    path = str(tmp_path / "module.onnx")
    export_qonnx(module.eval(), torch.from_numpy(x[:1]), path, input_names=["global_in"],
                 dynamo=dynamo)
    wrapper = cleanup_model(ModelWrapper(path))
    out_name = wrapper.graph.output[0].name
    outs = [execute_onnx(wrapper, {"global_in": x[i:i + 1]})[out_name] for i in range(len(x))]
    return np.concatenate(outs), wrapper


def frac_input(shape, seed=0):
    """2-bit activations q (all four levels present)."""
    g = torch.Generator().manual_seed(seed)
    return frac_quantize(torch.rand(shape, generator=g) * 2.4 - 1.2)


def unit_weights(conv):
    return conv.quant_weight().value.detach()


def test_four_levels_and_ties_to_even():
    x = torch.linspace(-3, 3, 10001)
    q = frac_quantize(x)
    torch.testing.assert_close(q.unique(), torch.tensor(LEVELS))
    codes = frac_codes(torch.tensor([-2 / 3, -0.5, 0.0, 0.5, 2 / 3, 1.0]))
    assert codes.tolist() == [0.0, 1.0, 2.0, 2.0, 2.0, 3.0]
    expected = torch.round((x.clamp(-1, 1) + 1) / (2 / 3)) * (2 / 3) - 1
    torch.testing.assert_close(q, expected)


def test_msb_lsb_identity():
    q = torch.tensor(LEVELS)
    msb, lsb = frac_planes(q)
    assert msb.tolist() == [-1, -1, 1, 1] and lsb.tolist() == [-1, 1, -1, 1]
    torch.testing.assert_close(2 / 3 * msb + 1 / 3 * lsb, q)
    codes = frac_codes(q)
    assert torch.equal((msb > 0).float() * 2 + (lsb > 0).float(), codes)


def test_activation_ste_gradient_and_train_eval_agree():
    x = torch.tensor([-1.5, -0.9, 0.2, 1.0, 1.2], requires_grad=True)
    act = FracActivation()
    act.train()(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert torch.equal(act.train()(x).detach(), act.eval()(x))


@pytest.mark.parametrize("stride", [1, 2])
def test_gate_open_is_full_conv_and_closed_is_msb_only(stride):
    q = frac_input((2, 5, 8, 8))
    conv = FracBinaryConv2d(5, 4, 3, stride, 1, gate_init=-1e9).eval()
    w = unit_weights(conv)
    assert set(w.unique().tolist()) == {-1.0, 1.0}
    torch.testing.assert_close(conv(q), F.conv2d(q, w, stride=stride, padding=1))
    assert conv.skip_fraction() == 0.0
    with torch.no_grad():
        conv.delta.fill_(1e9)
    msb, _ = frac_planes(q)
    torch.testing.assert_close(conv(q), 2 / 3 * F.conv2d(msb, w, stride=stride, padding=1))
    assert conv.skip_fraction() == 1.0


def integer_reference(conv, q):
    """Independent integer computation: acc = 2·acc_M + mask·acc_L, mask = [(2/3)acc_M > δ]."""
    w = unit_weights(conv).numpy().astype(np.int64)
    codes = frac_codes(q).numpy().astype(np.int64)
    planes = [torch.from_numpy((2 * (codes >> 1) - 1).astype(np.float32)),
              torch.from_numpy((2 * (codes & 1) - 1).astype(np.float32))]
    acc_m, acc_l = (F.conv2d(p, torch.from_numpy(w.astype(np.float32)), padding=1).numpy()
                    .astype(np.int64) for p in planes)
    delta = conv.delta.detach().numpy().reshape(1, -1, 1, 1)
    mask = (acc_m * np.float32(2 / 3)).astype(np.float32) > delta
    return 2 * acc_m + mask * acc_l, mask


def test_output_is_exact_function_of_integer_accumulator():
    q = frac_input((3, 6, 7, 7), seed=1)
    conv = FracBinaryConv2d(6, 5, 3, 1, 1, gate_init=0.0).eval()
    with torch.no_grad():
        conv.delta.copy_(torch.linspace(-6, 6, 5))
    acc, mask = integer_reference(conv, q)
    y = conv(q).detach().numpy()
    np.testing.assert_array_equal(y, (acc.astype(np.float32) * np.float32(1 / 3)))
    assert 0 < mask.mean() < 1
    assert conv.skip_fraction() == pytest.approx(1 - mask.mean())


def test_backward_lsb_path_only_where_gate_open():
    q = frac_input((2, 4, 6, 6), seed=2).requires_grad_(True)
    conv = FracBinaryConv2d(4, 3, 3, 1, 1).train()
    with torch.no_grad():
        conv.delta.fill_(2.0)
    y = conv(q)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    w = unit_weights(conv)
    msb, lsb = frac_planes(q.detach())
    acc_m = F.conv2d(msb, w, padding=1)
    acc_l = F.conv2d(lsb, w, padding=1)
    mask = (acc_m * (2 / 3) > 2.0).float()
    assert 0 < mask.mean() < 1
    # dL/dq = conv^T(g·(2 + m)/3): full 2-bit gradient where open, MSB-only where closed
    expected_q = F.conv_transpose2d(g * (2 + mask) / 3, w, padding=1)
    torch.testing.assert_close(q.grad, expected_q)
    # dL/dδ = -Σ g·acc_L/3 (straight-through gate), zero contribution from closed gates' LSB
    expected_delta = -(g * acc_l / 3).sum(dim=(0, 2, 3))
    torch.testing.assert_close(conv.delta.grad, expected_delta)


def test_lsb_weight_gradient_is_sparse():
    q = frac_input((1, 2, 5, 5), seed=3)
    conv = FracBinaryConv2d(2, 1, 3, 1, 1).train()
    with torch.no_grad():
        conv.delta.fill_(1e9)  # every gate closed: the LSB plane must not reach the weights
    conv(q).sum().backward()
    msb, _ = frac_planes(q)
    w_ref = unit_weights(conv).requires_grad_(True)
    (2 / 3 * F.conv2d(msb, w_ref, padding=1)).sum().backward()
    torch.testing.assert_close(conv.weight.grad, w_ref.grad)  # the MSB-only weight gradient


def test_gate_target_loss_value_and_gradient():
    conv = FracBinaryConv2d(3, 4, 3, padding=1, gate_init=-1.0, gate_target=3.0)
    loss = conv.gate_loss()
    assert float(loss) == pytest.approx(1e-5 * 0.5 * 4 * 16.0)
    loss.backward()
    torch.testing.assert_close(conv.delta.grad, torch.full((4,), 1e-5 * -4.0))
    assert float(gate_target_loss(torch.tensor([3.0]), 3.0, 1.0)) == 0.0


def test_skip_fraction_needs_forward_and_rejects_reflect_padding():
    conv = FracBinaryConv2d(2, 2, 3, padding=1)
    with pytest.raises(RuntimeError, match="forward"):
        conv.skip_fraction()
    with pytest.raises(ValueError, match="zero padding"):
        FracBinaryConv2d(2, 2, 3, padding=1, padding_mode="reflect")


def test_train_and_eval_forward_agree():
    q = frac_input((2, 4, 6, 6), seed=4)
    conv = FracBinaryConv2d(4, 4, 3, 1, 1, gate_init=1.0)
    assert torch.equal(conv.train()(q).detach(), conv.eval()(q))


class _ActConv(torch.nn.Module):
    """x (a per-channel function of an integer tensor) -> frac activation -> gated conv."""

    def __init__(self):
        super().__init__()
        self.act = FracActivation()
        self.conv = FracBinaryConv2d(4, 6, 3, 2, 1)
        with torch.no_grad():
            self.conv.delta.copy_(torch.linspace(-4, 4, 6))

    def forward(self, x):
        return self.conv(self.act(x))


@pytest.mark.parametrize("dynamo", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_exported_graph_equals_torch(tmp_path, dynamo):
    module = _ActConv().eval()
    codes = np.random.default_rng(0).integers(-24, 25, size=(3, 4, 8, 8))
    x = (codes * 2.0 ** -4).astype(np.float32)  # int8-stream values, ties at ±2/3 included
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    out, wrapper = export_and_run(module, x, tmp_path, dynamo)
    np.testing.assert_array_equal(out, expected)
    if dynamo:
        ops = {n.op_type for n in wrapper.graph.node}
        assert {"Round", "Greater", "Cast", "Conv", "BipolarQuant"} <= ops
        assert sum(n.op_type == "Conv" for n in wrapper.graph.node) == 2
