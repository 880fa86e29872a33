# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering of the thermometer and bit-plane input stages from real exports, bit-exact vs torch.

Each test exports a tiny zoo-style model (input stage -> binary 3x3 conv -> BN/sign -> binary FC),
compiles it with the input-stage rules in front of the default rules, and checks: the HW layers
that appear, the encoded stream against the torch module on every pixel value, and top-1 on real
CIFAR-10 images.
"""
import numpy as np
import pytest
import torch
from qonnx.core.datatype import DataType

from pynq_bnn.compiler import compile_qonnx, execute
from pynq_bnn.compiler.lower import RULES
from pynq_bnn.compiler.lower.bitplane import BitPlaneRule
from pynq_bnn.compiler.lower.thermometer import ThermometerRule
from pynq_bnn.export import export_qonnx
from pynq_bnn.nn.bitplane import BitPlaneStage
from pynq_bnn.nn.layers import BinaryActivation, BinaryConv2d, BinaryLinear
from pynq_bnn.nn.thermometer import ThermometerEncoder
from pynq_bnn.zoo.base import BNNModel

SIZE = 16
INPUT_RULES = [ThermometerRule(), BitPlaneRule()]


class TinyStageNet(BNNModel):
    """input stage -> binary conv 3x3 (pad 1) -> BN -> sign -> binary FC to 10 logits."""

    input_shape = (3, SIZE, SIZE)

    def __init__(self, stage, channels):
        super().__init__({"name": "tiny_input_stage"})
        self.stage = stage
        self.conv = BinaryConv2d(channels, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.act = BinaryActivation()
        self.fc = BinaryLinear(8 * SIZE * SIZE, 10)

    def forward_impl(self, x):
        return self.fc(torch.flatten(self.act(self.bn(self.conv(self.stage(x)))), 1))


def randomize_batchnorms(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            n = bn.num_features
            bn.running_mean.copy_(torch.randn(n, generator=generator) * 2)
            bn.running_var.copy_(torch.rand(n, generator=generator) * 3 + 0.5)
            bn.weight.copy_(torch.randn(n, generator=generator))
            bn.bias.copy_(torch.randn(n, generator=generator))
    return model.eval()


def compile_with_input_rules(model, tmp_path):
    wrapper = export_qonnx(model, tmp_path / "model.onnx")
    # Until the streamline step annotates quantizer outputs itself: a BipolarQuant output is ±1.
    for node in wrapper.graph.node:
        if node.op_type == "BipolarQuant":
            wrapper.set_tensor_datatype(node.output[0], DataType["BIPOLAR"])
    return compile_qonnx(wrapper, rules=INPUT_RULES + RULES)


def all_values_images(count=2, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([np.stack([rng.permutation(256).reshape(SIZE, SIZE) for _ in range(3)])
                     for _ in range(count)]).astype(np.uint8)


def real_images(data_dir, count=64):
    from pynq_bnn.data import load_dataset

    images = load_dataset("cifar10", "test", data_dir).images[:count]
    return np.ascontiguousarray(images[:, :, 8:8 + SIZE, 8:8 + SIZE])    # centre crops


def torch_run(module, images_nchw):
    with torch.no_grad():
        return module(torch.from_numpy(images_nchw).float() / 255.0).numpy()


def check_stage_and_top1(model, graph, stage_layer_kind, data_dir):
    """Encoded stream and the first conv's ±1 output equal torch bit for bit; top-1 equals torch
    wherever torch's float logits are not a (float-rounded) tie."""
    layer = next(l for l in graph.layers if l.kind == stage_layer_kind)
    images = np.concatenate([all_values_images(), real_images(data_dir)])
    streams = execute(graph, images.transpose(0, 2, 3, 1), return_all=True)
    encoded = 2 * streams[layer.output].transpose(0, 3, 1, 2).astype(np.int64) - 1
    np.testing.assert_array_equal(encoded, torch_run(model.stage, images))
    first_conv = next(l for l in graph.layers if l.kind in ("MVAU", "FracMVAU"))
    hidden = torch_run(lambda x: model.act(model.bn(model.conv(model.stage(x)))), images)
    bits = 2 * streams[first_conv.output].astype(np.int64) - 1
    np.testing.assert_array_equal(bits.transpose(0, 3, 1, 2), hidden)
    logits = torch_run(model, images)
    top2 = np.sort(logits, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-3
    assert clear.mean() > 0.5
    top1 = streams[graph.output_name][:, 0]
    np.testing.assert_array_equal(top1[clear], logits.argmax(axis=1)[clear])
    return streams


def test_thermometer_lowered_and_bit_exact(tmp_path, data_dir):
    torch.manual_seed(0)
    model = randomize_batchnorms(TinyStageNet(ThermometerEncoder(3), 96), seed=1)
    graph = compile_with_input_rules(model, tmp_path)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds[0] == "Thermometer" and "Gather" not in " ".join(kinds)
    thermo = graph.layers[0]
    assert thermo.out_shape() == (SIZE, SIZE, 96)
    # thresholds read off the exported graph equal FracBNN's documented constants
    assert thermo.params["thresholds"][0, :4].tolist() == [5, 12, 21, 28]
    assert thermo.params["thresholds"][2, -1] == 252
    check_stage_and_top1(model, graph, "Thermometer", data_dir)


@pytest.mark.parametrize("plane_weights", ["pow2", pytest.param("paper", marks=pytest.mark.slow)])
def test_bitplane_lowered_and_bit_exact(tmp_path, data_dir, plane_weights):
    torch.manual_seed(0)
    stage = BitPlaneStage(3, plane_channels=4, plane_weights=plane_weights)
    model = randomize_batchnorms(TinyStageNet(stage, 12), seed=2)
    with torch.no_grad():
        stage.fuse_bn.running_mean.mul_(30)      # thresholds spread over the fused-sum range
    graph = compile_with_input_rules(model, tmp_path)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds[:2] == ["BitPlanes", "BitPlaneConv"]
    conv = graph.layers[1]
    expected = {"pow2": [1, 2, 4, 8, 16, 32, 64, 128], "paper": [1, 1, 2, 2, 4, 4, 8, 8]}
    expected = expected[plane_weights]
    assert np.all(conv.params["fuse_weights"] == expected)
    streams = check_stage_and_top1(model, graph, "BitPlaneConv", data_dir)
    planes = streams[graph.layers[0].output].astype(np.int64)          # (N, H, W, 24) bits
    bytes_back = planes.reshape(planes.shape[:3] + (3, 8)) @ (2 ** np.arange(8))
    pixels = np.concatenate([all_values_images(), real_images(data_dir)]).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(bytes_back, pixels)


def test_non_encoding_gather_is_not_matched(tmp_path):
    """A plain 8-bit input model (no Gather chain) is left to the default rules."""
    from pynq_bnn.nn.layers import Uint8InputQuant

    model = randomize_batchnorms(TinyStageNet(Uint8InputQuant(), 3), seed=3)
    graph = compile_with_input_rules(model, tmp_path)
    assert not {"Thermometer", "BitPlanes"} & {layer.kind for layer in graph.layers}


@pytest.mark.slow
def test_thermometer_project_csim_matches_numpy(tmp_path, data_dir):
    """The rendered Thermometer stage inside a whole HLS project (g++ csim) equals execute()."""
    import shutil

    if shutil.which("g++") is None:
        pytest.skip("g++ not found: HLS csim needs a C++ compiler")
    from pynq_bnn.compiler.folding import fold_for_fps
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.verify import verify_csim

    model = randomize_batchnorms(TinyStageNet(ThermometerEncoder(3), 96), seed=1)
    graph = compile_with_input_rules(model, tmp_path)
    fold_for_fps(graph, 2000, "Pynq-Z2")
    project = write_project(graph, tmp_path / "project", "pynq-z2")
    images = np.concatenate([all_values_images(), real_images(data_dir, 30)])
    report = verify_csim(graph, project, np.ascontiguousarray(images.transpose(0, 2, 3, 1)))
    assert report.images == 32 and report.mismatches == 0
