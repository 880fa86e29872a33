# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LABBinarize vs the training-side LearnableActivationBinarizer (pynq_bnn.nn.lab)."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.hw.lab import LABBinarize, decode_stream
from pynq_bnn.nn.lab import LearnableActivationBinarizer


def _layer_from(lab, channels, dim):
    k_int, thresholds, _ = lab.integer_form()
    return LABBinarize("lab", ["x"], "y", {"kernel": k_int.reshape(channels, 9).numpy(),
                                           "thresholds": thresholds.numpy()},
                       IFM_DIM=list(dim), CH=channels)


def test_lab_layer_matches_torch_module_bit_exactly():
    torch.manual_seed(0)
    lab = LearnableActivationBinarizer(8)
    with torch.no_grad():  # non-trivial kernels and biases
        lab.conv.weight.normal_(0, 0.5)
        lab.conv.bias.normal_(0, 0.7)
    lab.eval()
    bits = np.random.randint(0, 2, size=(6, 10, 10, 8))
    x = torch.tensor(2.0 * bits - 1, dtype=torch.float32).permute(0, 3, 1, 2)
    with torch.no_grad():
        expect = (lab(x) > 0).permute(0, 2, 3, 1).numpy().astype(np.int64)
    layer = _layer_from(lab, 8, (10, 10))
    got = layer.reference(bits)
    np.testing.assert_array_equal(got, expect)
    assert 0.1 < got.mean() < 0.9


def test_integer_input_padding_and_direction():
    x = np.arange(16).reshape(1, 4, 4, 1) - 8
    kernel = np.zeros((1, 9), dtype=int)
    kernel[0, 4] = 1  # centre tap
    layer = LABBinarize("l", ["x"], "y", {"kernel": kernel, "thresholds": np.array([0]),
                                          "direction": np.array([-1])},
                        IFM_DIM=[4, 4], CH=1, in_dtype="INT5")
    np.testing.assert_array_equal(layer.reference(x), (x <= 0).astype(int))
    corner = np.zeros((1, 9), dtype=int)
    corner[0, 0] = 1  # top-left tap reads the zero padding at the first row/column
    acc = LABBinarize("c", ["x"], "y", {"kernel": corner, "thresholds": np.array([0])},
                      IFM_DIM=[4, 4], CH=1, in_dtype="INT5").accumulate(x)
    assert acc[0, 0, 0, 0] == 0 and acc[0, 1, 1, 0] == x[0, 0, 0, 0]


def test_folding_resources_and_errors():
    too_wide = {"kernel": np.full((4, 9), 200), "thresholds": np.zeros(4)}
    layer = LABBinarize("l", ["x"], "y", too_wide,
                        IFM_DIM=[8, 8], CH=4, PE=3)
    assert len(layer.check_folding()) == 2  # PE and kernel width
    ok = LABBinarize("l", ["x"], "y", {"kernel": np.ones((4, 9)), "thresholds": np.zeros(4)},
                     IFM_DIM=[8, 8], CH=4, PE=2)
    assert ok.check_folding() == [] and ok.cycles() == 64 * 2 and ok.resources(None).lut > 0
    with pytest.raises(ValueError, match="bits 0/1"):
        decode_stream(np.array([2]), "BIPOLAR")
