# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Bit-plane input stage: HW references vs the torch modules on all 256 pixel values."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.boards import get_board
from pynq_bnn.compiler.folding import fold_for_fps, validate_folding
from pynq_bnn.compiler.hw.bitplane import BitPlaneConv, BitPlanes, bit_planes_reference
from pynq_bnn.nn.bitplane import BitPlaneEncoder, BitPlaneStage


def all_pixel_values_image(channels: int, seed: int = 0) -> np.ndarray:
    """uint8 (1, C, 16, 16): every channel holds each of the 256 values once (shuffled)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(256).reshape(16, 16) for _ in range(channels)])[None].astype(
        np.uint8)


def sign_thresholds(bn_then_sign, lo: int, hi: int, channels: int):
    """(T (C, 1), neg (C,)) such that sign(bn(a)) == +1 iff (neg ? -a : a) >= T, for lo <= a <= hi.

    Evaluates the float32 torch tail on every integer of the range (the compiler's method)."""
    values = torch.arange(lo, hi + 1, dtype=torch.float32)
    with torch.no_grad():
        out = bn_then_sign(values.view(-1, 1, 1, 1).expand(-1, channels, 1, 1).contiguous())
    positive = (out.view(len(values), channels) > 0).numpy()
    thresholds, neg = np.zeros((channels, 1), np.int64), np.zeros(channels, np.uint8)
    grid = np.arange(lo, hi + 1)
    for c in range(channels):
        col = positive[:, c]
        if np.all(np.diff(col.astype(int)) >= 0):        # increasing step
            thresholds[c, 0] = grid[col].min() if col.any() else hi + 1
        else:                                            # decreasing: -a >= T
            assert np.all(np.diff(col.astype(int)) <= 0)
            neg[c] = 1
            thresholds[c, 0] = -grid[col].max() if col.any() else -lo + 1
    return thresholds, neg


def randomize_bn(bn, generator):
    channels = bn.num_features
    bn.running_mean.copy_(torch.randn(channels, generator=generator) * 3)
    bn.running_var.copy_(torch.rand(channels, generator=generator) * 4 + 0.5)
    bn.weight.data.copy_(torch.randn(channels, generator=generator))  # some negative gammas
    bn.bias.data.copy_(torch.randn(channels, generator=generator))


def hw_layers_from_stage(stage: BitPlaneStage, h: int, w: int):
    c, k = stage.in_channels, stage.plane_channels
    weights = stage.plane_conv.quant_weight().value.detach().reshape(8 * c * k, 9)
    plane_thr, plane_neg = sign_thresholds(lambda a: stage.plane_act(stage.plane_bn(a)), -9, 9,
                                           8 * c * k)
    kernel = stage.fuse_conv.quant_weight().value.detach().reshape(c * k, 8, k).numpy()
    rows = np.arange(c * k)
    fuse_weights = kernel[rows, :, rows % k].astype(np.int64)          # (C·k, 8): w[c·k+m, j]
    kernel[rows, :, rows % k] = 0
    assert not kernel.any()                                           # only the (m, m) entries
    bound = int(np.abs(fuse_weights).sum(axis=1).max())
    fuse_thr, fuse_neg = sign_thresholds(lambda v: stage.fuse_act(stage.fuse_bn(v)), -bound, bound,
                                         c * k)
    params = {"weights": (weights.numpy() > 0).astype(np.uint8), "plane_thresholds": plane_thr,
              "plane_neg": plane_neg, "fuse_weights": fuse_weights,
              "fuse_thresholds": fuse_thr, "fuse_neg": fuse_neg}
    split = BitPlanes("planes", ["global_in"], "planes_out", IFM_DIM=[h, w], IFM_CH=c)
    conv = BitPlaneConv("bitplane_conv", ["planes_out"], "features", params, IFM_DIM=[h, w],
                        IFM_CH=c, PLANE_CH=k)
    return split, conv


def test_bit_planes_match_torch_encoder_on_all_pixels():
    image = all_pixel_values_image(3)
    with torch.no_grad():
        expected = BitPlaneEncoder(3).eval()(torch.from_numpy(image).float() / 255.0).numpy()
    layer = BitPlanes("planes", ["global_in"], "bits", IFM_DIM=[16, 16], IFM_CH=3)
    bits = layer.reference(image.transpose(0, 2, 3, 1))
    assert bits.shape == (1, 16, 16, 24) and bits.dtype == np.uint8
    np.testing.assert_array_equal(2 * bits.transpose(0, 3, 1, 2).astype(np.int64) - 1, expected)


def test_planes_reconstruct_the_byte():
    pixels = np.arange(256, dtype=np.uint8).reshape(256, 1)
    bits = bit_planes_reference(pixels).astype(np.int64)
    np.testing.assert_array_equal(bits @ (2 ** np.arange(8)), np.arange(256))


@pytest.mark.parametrize("plane_weights, plane_channels", [("pow2", 4), ("paper", 2)])
def test_stage_reference_matches_torch_on_all_pixels(plane_weights, plane_channels):
    generator = torch.Generator().manual_seed(plane_channels)
    stage = BitPlaneStage(3, plane_channels=plane_channels, plane_weights=plane_weights).eval()
    with torch.no_grad():
        shape = stage.plane_conv.weight.shape
        stage.plane_conv.weight.copy_(torch.randn(shape, generator=generator))
        randomize_bn(stage.plane_bn, generator)
        randomize_bn(stage.fuse_bn, generator)
        stage.fuse_bn.running_mean.mul_(20)          # centre the fused thresholds in the sum range
    image = np.concatenate([all_pixel_values_image(3, s) for s in range(2)])
    with torch.no_grad():
        expected = stage(torch.from_numpy(image).float() / 255.0).numpy()    # (2, 3k, 16, 16) ±1
    split, conv = hw_layers_from_stage(stage, 16, 16)
    out = conv.reference(split.reference(image.transpose(0, 2, 3, 1)))
    assert out.shape == (2, 16, 16, 3 * plane_channels)
    np.testing.assert_array_equal(2 * out.transpose(0, 3, 1, 2).astype(np.int64) - 1, expected)
    assert 0.05 < out.mean() < 0.95                  # both output values occur


def test_bitplane_conv_interface_folding_and_estimates():
    stage = BitPlaneStage(3, plane_channels=32).eval()
    split, conv = hw_layers_from_stage(stage, 32, 32)
    assert conv.in_shapes() == [(32, 32, 24)] and conv.out_shape() == (32, 32, 96)
    assert conv.folding_space() == {"PE": [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96]}
    conv.attrs["PE"] = 5
    assert "PE=5 must divide" in conv.check_folding()[0]
    with pytest.raises(ValueError, match="bitplane_conv"):
        validate_folding([split, conv])
    result = fold_for_fps([split, conv], 10_000, "Pynq-Z2")
    assert conv.cycles() == 1024 + 32 * (2 + 32 * 96 // conv.PE) and result.fps >= 10_000
    small, big = conv.resources(get_board("Pynq-Z2")), None
    conv.attrs["PE"] = 96
    big = conv.resources(get_board("Pynq-Z2"))
    assert big.lut > small.lut > 0
    assert split.cycles() == 1024 and split.folding_space() == {}
    snippet = split.render_hls()
    assert snippet.call == "bnn::bit_planes<3, 1024>(${in0}, ${out}, ${reps});"
    assert snippet.in_lanes == [3] and snippet.out_lanes == 24
    assert conv.render_hls().call.startswith("bnn::bitplane_conv<32, 32, 3, 32, 3, 1, ")


def test_bad_inputs_rejected():
    split = BitPlanes("planes", ["a"], "b", IFM_DIM=[1, 1], IFM_CH=1)
    with pytest.raises(ValueError, match="uint8"):
        split.reference(np.array([[[[256]]]]))
    conv = BitPlaneConv("c", ["b"], "d", {"weights": np.zeros((3, 9), np.uint8)}, IFM_DIM=[1, 1],
                        IFM_CH=1, PLANE_CH=1)
    with pytest.raises(ValueError, match="weights must be"):
        conv.reference(np.zeros((1, 1, 1, 8), np.uint8))
