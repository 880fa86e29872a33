# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Bit-plane input stage: byte decomposition, integer re-weighting, exported graph == torch."""
import numpy as np
import pytest
import torch

from pynq_bnn.nn.bitplane import BitPlaneEncoder, BitPlaneStage, bitplanes_reference
from pynq_bnn.nn.input_stage import build_input_stage

ALL_PIXELS = np.arange(256, dtype=np.uint8)


def all_pixel_image():
    r = ALL_PIXELS.reshape(16, 16)
    return np.stack([r, r[::-1], r.T])[None].copy()


def export_and_run(module, x, tmp_path, dynamo):
    """Export ``module`` like pynq_bnn.export does, run it with qonnx on each image of ``x``."""
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


def trained_stage(**options):
    """A small stage with non-trivial BN statistics (a few training-mode passes)."""
    stage = BitPlaneStage(plane_channels=4, **options)
    with torch.no_grad():
        for bn in (stage.plane_bn, stage.fuse_bn):
            bn.weight.uniform_(-1, 1)
            bn.bias.uniform_(-1, 1)
    stage.train()
    for _ in range(3):
        stage(torch.rand(4, 3, 16, 16))
    return stage.eval()


def test_planes_reconstruct_every_byte():
    image = all_pixel_image()
    planes = BitPlaneEncoder()(torch.from_numpy(image).float() / 255.0).numpy()
    np.testing.assert_array_equal(planes, bitplanes_reference(image))
    bits = (planes.reshape(1, 3, 8, 16, 16) + 1) // 2
    weights = (2 ** np.arange(8)).reshape(1, 1, 8, 1, 1)
    np.testing.assert_array_equal((bits * weights).sum(axis=2), image)


def test_plane_order_lsb_first_colour_major():
    image = np.array([1, 128, 6], dtype=np.uint8).reshape(1, 3, 1, 1)
    planes = BitPlaneEncoder()(torch.from_numpy(image).float() / 255.0).flatten().tolist()
    assert planes[:8] == [1, -1, -1, -1, -1, -1, -1, -1]
    assert planes[8:16] == [-1] * 7 + [1]
    assert planes[16:] == [-1, 1, 1, -1, -1, -1, -1, -1]


@pytest.mark.parametrize("kind, expected", [
    ("pow2", [1, 2, 4, 8, 16, 32, 64, 128]), ("paper", [1, 1, 2, 2, 4, 4, 8, 8])])
def test_fusion_weights_are_integer_and_structured(kind, expected):
    stage = BitPlaneStage(plane_channels=3, plane_weights=kind)
    w = stage.integer_plane_weights()
    assert w.shape == (9, 8)
    np.testing.assert_array_equal(w.numpy(), np.tile(expected, (9, 1)))
    kernel = stage.fuse_conv.quant_weight().value.detach()
    assert int((kernel != 0).sum()) == 9 * 8  # one nonzero per (fused channel, plane)
    assert not stage.fuse_conv.weight.requires_grad


def test_fusion_equals_weighted_plane_sum():
    stage = trained_stage()
    x = torch.from_numpy(all_pixel_image()).float() / 255.0
    u = stage.plane_act(stage.plane_bn(stage.plane_conv(stage.encoder(x))))  # (1, 24*4, H, W)
    fused = stage.fuse_conv(u)
    u = u.view(1, 3, 8, 4, 16, 16)
    expected = (u * torch.tensor([2.0 ** j for j in range(8)]).view(1, 1, 8, 1, 1, 1)).sum(2)
    torch.testing.assert_close(fused, expected.reshape(1, 12, 16, 16), rtol=0, atol=0)


def test_stage_output_is_binary_and_learnable_weights_stay_integer():
    stage, channels, is_binary = build_input_stage("bitplane", plane_channels=4,
                                                   plane_weights="learnable")
    assert (channels, is_binary) == (12, True)
    out = stage.train()(torch.rand(2, 3, 8, 8))
    assert out.shape == (2, 12, 8, 8) and set(out.unique().tolist()) <= {-1.0, 1.0}
    (out * torch.randn_like(out)).sum().backward()
    grad = stage.fuse_conv.weight.grad
    assert grad is not None and grad[~stage.fusion_mask].abs().sum() == 0
    assert grad[stage.fusion_mask].abs().sum() > 0
    with torch.no_grad():
        stage.fuse_conv.weight.add_(0.3 * stage.fusion_mask)
    w = stage.fuse_conv.quant_weight().value
    assert torch.equal(w, torch.round(w))


def test_input_stage_factory_kinds_and_errors():
    stage, channels, is_binary = build_input_stage("uint8")
    assert (channels, is_binary) == (3, False)
    x = torch.rand(1, 3, 4, 4)
    torch.testing.assert_close(stage(x), torch.round(x * 255))  # integer pixels, scale 1
    _, channels, is_binary = build_input_stage("thermometer", in_channels=1)
    assert (channels, is_binary) == (32, True)
    with pytest.raises(ValueError, match="unknown input stage"):
        build_input_stage("dorefa")
    with pytest.raises(ValueError, match="does not take"):
        build_input_stage("thermometer", plane_channels=4)
    with pytest.raises(ValueError, match="plane_weights"):
        BitPlaneStage(plane_weights="exp")


def test_real_cifar_images(data_dir):
    from pynq_bnn.data import load_dataset

    images = load_dataset("cifar10", "test", data_dir).images[:16]
    planes = BitPlaneEncoder()(torch.from_numpy(images).float() / 255.0)
    np.testing.assert_array_equal(planes.numpy(), bitplanes_reference(images))


@pytest.mark.parametrize("dynamo", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", ["pow2", "learnable"])
def test_exported_graph_equals_torch(tmp_path, dynamo, kind):
    stage = trained_stage(plane_weights=kind)
    image = all_pixel_image()
    x = np.concatenate([image.astype(np.float32) / np.float32(255.0),
                        np.random.rand(1, 3, 16, 16).astype(np.float32)])
    with torch.no_grad():
        expected = stage(torch.from_numpy(x)).numpy()
    out, wrapper = export_and_run(stage, x, tmp_path, dynamo)
    np.testing.assert_array_equal(out, expected)
    if dynamo:
        ops = [n.op_type for n in wrapper.graph.node if n.op_type not in ("BipolarQuant", "Quant")]
        assert ops == ["Gather", "Add", "Mod", "Sub", "Conv", "BatchNormalization", "Conv",
                       "BatchNormalization"]
