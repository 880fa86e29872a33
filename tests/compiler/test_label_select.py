# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""LabelSelect: top-k with ties to the lowest index, like torch.argmax."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.hw.label_select import LabelSelect


def test_top1_equals_torch_argmax_including_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(-3, 3, (200, 10))  # many ties
    layer = LabelSelect("ls", ["s"], "y", labels=10, k=1, in_type="INT4")
    ref = torch.tensor(scores).argmax(dim=1).numpy()
    np.testing.assert_array_equal(layer.reference(scores)[:, 0], ref)


def test_topk_order_and_types():
    layer = LabelSelect("ls", ["s"], "y", labels=5, k=3, in_type="INT8", PE=5)
    out = layer.reference(np.array([[1, 7, 7, -2, 3]]))
    assert out.tolist() == [[1, 2, 4]] and out.dtype == np.uint8
    assert layer.out_shape() == (3,) and layer.cycles() == 1 and layer.check_folding() == []
    with pytest.raises(ValueError, match="1 <= k <= labels"):
        LabelSelect("ls", ["s"], "y", labels=5, k=6, in_type="INT8")
