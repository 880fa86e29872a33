# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LFC / CNV presets: config round trip, real-image forward, and helpful input errors."""
import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.data import load_dataset


@pytest.fixture(scope="module", params=["lfc", "cnv"])
def model_and_images(request, data_dir):
    model = zoo.build(request.param).eval()
    images = load_dataset(model.config["dataset"], "test", data_dir).subset(4).images
    return model, images


def test_forward_on_real_images_gives_logits(model_and_images):
    model, images = model_and_images
    logits = model(zoo.to_model_input(images))
    assert logits.shape == (4, 10) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def test_config_round_trip_rebuilds_the_same_architecture(model_and_images):
    model, _ = model_and_images
    rebuilt = zoo.from_config(model.config)
    assert rebuilt.config == model.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == \
        {k: v.shape for k, v in model.state_dict().items()}
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_to_model_input_is_p_over_255():
    pixels = np.array([[[[0, 1, 128, 255]]]], dtype=np.uint8)
    x = zoo.to_model_input(pixels)
    assert x.dtype == torch.float32
    assert torch.equal(x * 255, torch.tensor([[[[0.0, 1.0, 128.0, 255.0]]]]))
    with pytest.raises(zoo.ModelInputError, match="uint8"):
        zoo.to_model_input(pixels.astype(np.float32))


@pytest.mark.parametrize("bad, message", [
    (lambda m, imgs: torch.from_numpy(imgs), r"float32 input p/255, got torch.uint8 \(use "),
    (lambda m, imgs: zoo.to_model_input(imgs).double(), "float32 input p/255, got torch.float64"),
    (lambda m, imgs: zoo.to_model_input(imgs) * 255, r"must lie in \[0, 1\] \(pixels / 255\)"),
    (lambda m, imgs: zoo.to_model_input(imgs) - 0.5, r"must lie in \[0, 1\]"),
    (lambda m, imgs: zoo.to_model_input(imgs)[0], "expects input of shape"),
    (lambda m, imgs: zoo.to_model_input(imgs).permute(0, 2, 3, 1), "expects input of shape"),
    (lambda m, imgs: imgs, "expected a torch.Tensor, got ndarray"),
])
def test_bad_input_raises_a_helpful_model_input_error(model_and_images, bad, message):
    model, images = model_and_images
    with pytest.raises(zoo.ModelInputError, match=message):
        model(bad(model, images))


def test_model_input_error_is_a_value_error():
    assert issubclass(zoo.ModelInputError, ValueError)
