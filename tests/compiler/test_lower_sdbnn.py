# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""SD-BNN: WSD is free, static ASD is a threshold shift: the sdbnn preset needs no extra rule."""
import importlib.util
from pathlib import Path

import pytest
import torch

from pynq_bnn import zoo

_spec = importlib.util.spec_from_file_location("seed_preset_oracle",
                                               Path(__file__).with_name("seed_preset_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


@pytest.mark.slow
def test_sdbnn_static_preset_is_bit_exact_on_1000_cifar_images(tmp_path, data_dir):
    from pynq_bnn.data import load_dataset
    from pynq_bnn.nn.sdbnn import ASDStatic

    test = load_dataset("cifar10", "test", data_dir)
    model = zoo.build("sdbnn")
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # non-trivial WSD and ASD parameters
        for m in model.modules():
            if hasattr(m, "wsd_alpha"):
                m.wsd_alpha.copy_(4 * torch.randn(m.wsd_alpha.shape, generator=g))
            if isinstance(m, ASDStatic):
                m.beta.copy_(2 * torch.randn(m.beta.shape, generator=g))
    oracle.prepare_model(model, test.images[-300:])
    graph = oracle.compile_with(model, tmp_path / "sdbnn.onnx")
    assert {layer.kind for layer in graph.layers} <= {"SlidingWindow", "MVAU", "MaxPool",
                                                      "LabelSelect", "Thresholding"}
    result = oracle.compare_top1(graph, model, test.images[:1000])
    assert result["classes"] >= 5
    assert result["non_tie"] == 0, result
