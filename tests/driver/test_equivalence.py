# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The driver on the simulated device returns exactly what the compiled graph computes, for real
models compiled by compile_qonnx and real test images (CIFAR-10 NHWC/NCHW, MNIST 1 channel)."""
import numpy as np
import pytest

import pynq_bnn.compiler.hw.label_select  # noqa: F401  (load_graph of a fresh process needs it registered)
from pynq_bnn.compiler import execute, load_graph
from pynq_bnn.data import load_dataset
from pynq_bnn.driver import BNNOverlay, load_spec


@pytest.mark.parametrize("dataset, fixture", [("cifar10", "cifar_package"),
                                              ("mnist", "mnist_package")])
def test_driver_equals_compiled_graph(request, data_dir, dataset, fixture):
    package = request.getfixturevalue(fixture)
    test = load_dataset(dataset, "test", data_dir=data_dir)
    nchw = test.images[:40]
    nhwc = np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))
    expected = execute(load_graph(package), nhwc)
    assert len(np.unique(expected[:, 0])) >= 3  # a discriminating model, not a constant
    with BNNOverlay(package, device="sim", max_batch=24) as overlay:
        assert overlay.classes == test.classes
        assert np.array_equal(overlay.predict(nhwc), expected)            # 2 transfers
        assert np.array_equal(overlay.predict(nchw, layout="NCHW"), expected)
        single = np.concatenate([overlay.predict(img) for img in nhwc[:5]])
        assert np.array_equal(single, expected[:5])


def test_package_spec_matches_graph(cifar_package):
    spec = load_spec(cifar_package)
    graph = load_graph(cifar_package)
    assert spec.input.shape == graph.input_shape == (32, 32, 3)
    assert spec.input.word_bits == 64 and spec.input.words_per_image == 384
    assert spec.output.shape == (1,) and spec.output.dtype == "uint8"
    assert set(spec.folding) <= {layer.name for layer in graph.layers}
