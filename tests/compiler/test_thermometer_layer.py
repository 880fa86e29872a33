# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Thermometer input stage: numpy reference vs the torch encoder on all 256 pixel values."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.boards import get_board
from pynq_bnn.compiler.hw.base import layer_class
from pynq_bnn.compiler.hw.thermometer import Thermometer, thermometer_reference
from pynq_bnn.nn.thermometer import ThermometerEncoder, thermometer_thresholds


def all_pixel_values_image(channels: int, rng) -> np.ndarray:
    """uint8 (1, C, 16, 16): every channel holds each of the 256 values once (shuffled)."""
    planes = [rng.permutation(256).reshape(16, 16) for _ in range(channels)]
    return np.stack(planes)[None].astype(np.uint8)


def make_layer(thresholds, h=16, w=16):
    channels, nt = thresholds.shape
    return Thermometer("thermo", ["global_in"], "bits", {"thresholds": thresholds},
                       IFM_DIM=[h, w], IFM_CH=channels, NT=nt)


@pytest.mark.parametrize("resolution", [8, 4, 16])
def test_reference_matches_torch_encoder_on_all_pixels(resolution):
    rng = np.random.default_rng(resolution)
    image = all_pixel_values_image(3, rng)
    encoder = ThermometerEncoder(in_channels=3, resolution=resolution).eval()
    with torch.no_grad():
        expected = encoder(torch.from_numpy(image).float() / 255.0).numpy()  # (1, 3*NT, H, W) ±1
    thresholds = np.tile(thermometer_thresholds(resolution), (3, 1))
    layer = make_layer(thresholds)
    bits = layer.reference(image.transpose(0, 2, 3, 1))                # NHWC bits
    assert bits.dtype == np.uint8 and bits.shape == (1, 16, 16, 3 * thresholds.shape[1])
    np.testing.assert_array_equal(2 * bits.transpose(0, 3, 1, 2).astype(np.int64) - 1, expected)


def test_fracbnn_levels_from_definition():
    """Independent of the nn module: bit i of pixel p is [i < round_half_even(p / 8)]."""
    thresholds = thermometer_thresholds(8)[None, :]
    assert thresholds.shape == (1, 32)
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    bits = make_layer(thresholds).reference(pixels).reshape(256, 32)
    level = np.round(np.arange(256) / 8)
    np.testing.assert_array_equal(bits, (np.arange(32)[None, :] < level[:, None]).astype(np.uint8))
    levels = bits.sum(axis=1)
    assert levels[[0, 3, 4, 5, 12, 20, 21, 252, 255]].tolist() == [0, 0, 0, 1, 2, 2, 3, 32, 32]


def test_colour_major_channel_order():
    thresholds = np.array([[10, 20], [30, 40], [50, 60]])
    pixels = np.array([[[[25, 35, 45]]]], dtype=np.uint8)                    # (1, 1, 1, 3)
    out = thermometer_reference(pixels, thresholds)
    assert out.reshape(-1).tolist() == [1, 1, 1, 0, 0, 0]


def test_interface_and_estimates():
    layer = make_layer(np.tile(thermometer_thresholds(8), (3, 1)), h=32, w=32)
    assert layer_class("Thermometer") is Thermometer
    assert layer.in_shapes() == [(32, 32, 3)] and layer.out_shape() == (32, 32, 96)
    assert layer.in_types()[0].name == "UINT8" and layer.out_type().name == "BIPOLAR"
    assert layer.folding_space() == {} and layer.check_folding() == []
    assert layer.cycles() == 1024
    res = layer.resources(get_board("Ultra96-V2"))
    assert res.lut >= 2 * 96 and res.bram18 == 0 and res.dsp == 0
    clone = Thermometer.from_dict(layer.to_dict(), layer.params)
    assert clone.out_shape() == layer.out_shape()


def test_render_hls_fills_contract():
    thresholds = np.tile(thermometer_thresholds(8), (3, 1))
    snippet = make_layer(thresholds, 32, 32).render_hls()
    assert snippet.includes == ["bnn/input_encode.hpp"]
    assert "bnn::thermometer<3, 32, 1024>(${in0}, ${out}, L_thermo_thr, ${reps});" == snippet.call
    header = "static const ap_uint<8> L_thermo_thr[3][32] = {{5, 12, 21,"
    assert snippet.params_header.startswith(header)
    assert snippet.in_lanes == [3] and snippet.out_lanes == 96


def test_bad_thresholds_and_pixels_rejected():
    with pytest.raises(ValueError, match="expected \\(IFM_CH, NT\\)"):
        Thermometer("t", ["a"], "b", {"thresholds": np.zeros((2, 4))}, IFM_DIM=[2, 2], IFM_CH=3,
                    NT=4)
    with pytest.raises(ValueError, match="0..255"):
        make_layer(np.array([[256]]))
    with pytest.raises(ValueError, match="uint8 pixels"):
        make_layer(np.array([[5]]), 1, 1).reference(np.array([[[[300]]]]))
