# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The ``fracbnn`` preset compiles (lower/fracbnn.py) and is bit-exact against Brevitas.

Strongest check: with unit-scale weights and inputs the torch logits are exactly
``2^-e * integer scores`` of the compiled graph (one positive constant for every image/class),
so top-1 agrees including ties.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.compiler import execute
from pynq_bnn.compiler.frontend import compile_qonnx

_spec = importlib.util.spec_from_file_location("seed_preset_oracle",
                                               Path(__file__).with_name("seed_preset_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


def _check_exact(graph, model, images):
    n = len(images)
    outs = execute(graph, np.ascontiguousarray(images.transpose(0, 2, 3, 1)), return_all=True)
    select = graph.layers[-1]
    scores = outs[select.inputs[0]].reshape(n, -1).astype(np.float64)
    top = outs[select.output].reshape(n, -1)[:, 0]
    with torch.no_grad():
        logits = model(zoo.to_model_input(images)).numpy().astype(np.float64)
    nz = scores != 0
    assert nz.any()
    ratio = logits[nz] / scores[nz]
    assert np.unique(ratio).size == 1 and ratio[0] > 0, np.unique(ratio)[:5]
    np.testing.assert_array_equal(logits, scores * ratio[0])
    assert np.array_equal(top, logits.argmax(1))
    return top, logits


def test_fracbnn_small_compiles_and_is_bit_exact(tmp_path, data_dir):
    from pynq_bnn.compiler.graph import load_graph, save_graph
    from pynq_bnn.data import load_dataset
    from pynq_bnn.export import export_qonnx

    test = load_dataset("cifar10", "test", data_dir)
    torch.manual_seed(0)
    model = zoo.build("fracbnn", widths=(16, 32, 64), blocks=(1, 1, 1))
    oracle.prepare_model(model, test.images[-200:])
    path = tmp_path / "fracbnn.onnx"
    export_qonnx(model, path)
    graph = compile_qonnx(path)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds.count("FracMVAU") == 7  # the padded ±1 stem conv + 6 gated units
    assert kinds.count("AddStreams") == 6
    assert kinds.count("DownsampleShortcut") == 2
    assert "SumPool" in kinds
    _check_exact(graph, model, test.images[:200])
    from pynq_bnn.compiler import verify
    report = verify(model, path, graph, test.images[:10], test.labels[:10])
    assert report.ok, str(report)
    # save / load round trip gives the same outputs
    loaded = load_graph(save_graph(graph, tmp_path / "graph"))
    assert [layer.kind for layer in loaded.layers] == kinds
    x = np.ascontiguousarray(test.images[:8].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(execute(loaded, x), execute(graph, x))


@pytest.mark.slow
def test_fracbnn_trained_checkpoint_is_bit_exact_on_1000_cifar_images(tmp_path, data_dir):
    from pynq_bnn.checkpoint import load_model
    from pynq_bnn.compiler import verify
    from pynq_bnn.data import load_dataset
    from pynq_bnn.export import export_qonnx

    ckpt = Path(__file__).resolve().parents[2] / "runs" / "fracbnn_8k" / "fracbnn_compact.pt"
    if not ckpt.is_file():
        pytest.skip("trained fracbnn checkpoint not present")
    test = load_dataset("cifar10", "test", data_dir)
    model = load_model(ckpt)
    model = model[0] if isinstance(model, tuple) else model
    model.eval()
    images, labels = test.images[:1000], test.labels[:1000]
    with torch.no_grad():
        before = model(zoo.to_model_input(images)).numpy()
    path = tmp_path / "fracbnn.onnx"
    export_qonnx(model, path)
    graph = compile_qonnx(path)
    top, logits = _check_exact(graph, model, images)
    np.testing.assert_array_equal(logits, before.astype(np.float64))  # export left it intact
    print(f"fracbnn checkpoint: compiled top-1 == torch on {len(images)} images, "
          f"accuracy {(top == labels).mean():.4f}")
    assert (top == labels).mean() > 0.3  # the trained model, not a constant one
    report = verify(model, path, graph, test.images[:20], test.labels[:20])
    print(report)
    assert report.ok, str(report)


@pytest.mark.slow
def test_fracbnn_binary_activation_compiles_with_the_generic_residual_rules(tmp_path, data_dir):
    """``act="binary"`` (no fractional unit): the signs of the residual stream, the adds, the
    shortcuts and the head are the generic scaled-stream / residual / head rules."""
    from pynq_bnn.compiler import verify
    from pynq_bnn.data import load_dataset
    from pynq_bnn.export import export_qonnx

    test = load_dataset("cifar10", "test", data_dir).subset(500)
    torch.manual_seed(0)
    model = zoo.build("fracbnn", widths=(16, 32, 64), blocks=(1, 1, 1), act="binary").eval()
    path = tmp_path / "fracbnn_binary.onnx"
    export_qonnx(model, path)
    graph = compile_qonnx(path)
    kinds = [layer.kind for layer in graph.layers]
    assert kinds.count("AddStreams") == 6 and kinds.count("DownsampleShortcut") == 2, kinds
    report = verify(model, path, graph, test.images, test.labels)
    assert report.ok and report.top1_mismatches == 0 and report.layer_mismatches == 0, \
        str(report)
