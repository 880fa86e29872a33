# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The ``lab`` preset compiles (LAB -> LABBinarize) and matches torch on real CIFAR-10 images."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.compiler.lower.lab import DepthwiseBinarizerRule
from pynq_bnn.nn.lab import LearnableActivationBinarizer

_spec = importlib.util.spec_from_file_location("seed_preset_oracle",
                                               Path(__file__).with_name("seed_preset_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


@pytest.mark.slow
def test_lab_preset_is_bit_exact_on_1000_cifar_images(tmp_path, data_dir):
    from pynq_bnn.data import load_dataset

    test = load_dataset("cifar10", "test", data_dir)
    torch.manual_seed(0)
    model = zoo.build("lab")
    labs = [m for m in model.modules() if isinstance(m, LearnableActivationBinarizer)]
    with torch.no_grad():  # non-trivial difference kernels and biases
        for lab in labs:
            lab.conv.weight.normal_(0, 0.5)
            lab.conv.bias.normal_(0, 0.7)
    oracle.prepare_model(model, test.images[-300:])
    graph = oracle.compile_with(model, tmp_path / "lab.onnx",
                                extra_rules=[DepthwiseBinarizerRule()])
    kinds = [layer.kind for layer in graph.layers]
    assert kinds.count("LABBinarize") == len(labs) == 5
    # every LAB layer bit-exact against the torch module on 20 images
    acts = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, k=k: acts.__setitem__(k, o))
             for k, m in enumerate(labs)]
    result = oracle.compare_top1(graph, model, test.images[:20])
    for h in hooks:
        h.remove()
    lab_layers = [layer for layer in graph.layers if layer.kind == "LABBinarize"]
    for k, layer in enumerate(lab_layers):
        expect = (acts[k].permute(0, 2, 3, 1).numpy() > 0).astype(np.int64)
        np.testing.assert_array_equal(result["outs"][layer.output].reshape(expect.shape), expect)
    result = oracle.compare_top1(graph, model, test.images[:1000])
    assert result["classes"] >= 5  # the random model is not constant
    assert result["non_tie"] == 0, result
