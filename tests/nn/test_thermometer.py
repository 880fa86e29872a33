# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Thermometer encoder: levels of all 256 pixels, channel order, exported graph == torch."""
import numpy as np
import pytest
import torch

from pynq_bnn.nn.thermometer import (ThermometerEncoder, thermometer_bits_reference,
                                     thermometer_levels, thermometer_thresholds)

ALL_PIXELS = np.arange(256, dtype=np.uint8)


def all_pixel_image():
    """(1, 3, 16, 16) uint8: every value 0..255 once per channel, channels in different orders."""
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


def test_levels_round_half_to_even_on_integer_pixels():
    levels = thermometer_levels(ALL_PIXELS)
    # ties p/8 = k + 1/2 go to the even neighbour
    assert levels[4] == 0 and levels[12] == 2 and levels[20] == 2 and levels[28] == 4
    assert levels[5] == 1 and levels[252] == 32 and levels[255] == 32 and levels.min() == 0
    nearest = np.floor(ALL_PIXELS / 8.0 + 0.5)
    ties = ALL_PIXELS % 8 == 4
    np.testing.assert_array_equal(levels[~ties], nearest[~ties])
    np.testing.assert_array_equal(levels[ties] % 2, 0)


def test_thresholds_match_closed_form():
    t = thermometer_thresholds(8)
    k = np.arange(1, 33)
    np.testing.assert_array_equal(t, np.where(k % 2 == 0, 8 * k - 4, 8 * k - 3))
    levels = thermometer_levels(ALL_PIXELS)
    for i, ti in enumerate(t):  # bit_i = [i < L] = [p >= t_i] for every pixel
        np.testing.assert_array_equal(i < levels, ALL_PIXELS >= ti)


def test_encoder_bits_for_all_pixels():
    image = all_pixel_image()
    enc = ThermometerEncoder()
    out = enc(torch.from_numpy(image).float() / 255.0)
    assert out.shape == (1, 96, 16, 16)
    np.testing.assert_array_equal(out.numpy(), thermometer_bits_reference(image))
    levels = (out.numpy()[0, :32] > 0).sum(axis=0)
    np.testing.assert_array_equal(levels, thermometer_levels(image[0, 0]))


def test_channel_order_is_colour_major():
    image = np.array([255, 0, 128], dtype=np.uint8).reshape(1, 3, 1, 1)
    bits = ThermometerEncoder()(torch.from_numpy(image).float() / 255.0).flatten().numpy()
    assert (bits[:32] == 1).all() and (bits[32:64] == -1).all()
    assert (bits[64:80] == 1).all() and (bits[80:] == -1).all()  # round(128/8) = 16


def test_recovers_pixels_from_float_input_and_has_no_gradient():
    image = all_pixel_image()
    x = (torch.from_numpy(image).float() / 255.0 + 1e-4).clamp(0, 1).requires_grad_(True)
    out = ThermometerEncoder().train()(x)
    np.testing.assert_array_equal(out.detach().numpy(), thermometer_bits_reference(image))
    assert not out.requires_grad


def test_other_resolution_and_mnist_channels():
    enc = ThermometerEncoder(in_channels=1, resolution=16)
    assert enc.levels == 16 and enc.out_channels == 16
    image = ALL_PIXELS.reshape(1, 1, 16, 16)
    out = enc(torch.from_numpy(image).float() / 255.0)
    np.testing.assert_array_equal(out.numpy(), thermometer_bits_reference(image, 16))


@pytest.mark.parametrize("resolution", [0, 3, 256, 8.0])
def test_bad_resolution_is_rejected(resolution):
    with pytest.raises(ValueError, match="power of two"):
        ThermometerEncoder(resolution=resolution)


def test_real_cifar_images(data_dir):
    from pynq_bnn.data import load_dataset

    images = load_dataset("cifar10", "test", data_dir).images[:16]
    out = ThermometerEncoder()(torch.from_numpy(images).float() / 255.0)
    np.testing.assert_array_equal(out.numpy(), thermometer_bits_reference(images))


@pytest.mark.parametrize("dynamo", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_exported_graph_equals_torch(tmp_path, dynamo):
    image = all_pixel_image()
    x = image.astype(np.float32) / np.float32(255.0)
    enc = ThermometerEncoder().eval()
    out, wrapper = export_and_run(enc, x, tmp_path, dynamo)
    np.testing.assert_array_equal(out, thermometer_bits_reference(image))
    if dynamo:  # the documented pattern (docs/export_patterns.md, section 1)
        assert [n.op_type for n in wrapper.graph.node] == ["Quant", "Gather", "Sub", "BipolarQuant"]
        offsets = wrapper.get_initializer(wrapper.graph.node[2].input[1]).flatten()
        np.testing.assert_allclose(offsets[:32] * 255 + 0.5, thermometer_thresholds(), atol=1e-4)
