# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""QONNX export of lfc / cnv and the torch-vs-QONNX check on real images."""
import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.checkpoint import save_checkpoint
from pynq_bnn.data import load_dataset
from pynq_bnn.eval import predict_logits
from pynq_bnn.export import ExportError, batched_graph, export_qonnx, run_qonnx, verify_export
from pynq_bnn.export.__main__ import main as export_main


def randomized(model):
    """Random BN statistics/affine so that activations are far from all-equal (untrained nets)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                fan = module.num_features
                module.running_mean.uniform_(-8, 8)
                module.running_var.uniform_(1, 2 * fan)
                module.weight.uniform_(-1, 1)
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def real_images(data_dir):
    return {name: load_dataset(name, "test", data_dir).subset(20) for name in ("mnist", "cifar10")}


@pytest.mark.parametrize("name", ["lfc", pytest.param("cnv", marks=pytest.mark.slow)])
def test_export_matches_torch_on_real_images(tmp_path, real_images, name):
    model = randomized(zoo.build(name))
    wrapper = export_qonnx(model, tmp_path / f"{name}.onnx")
    assert (tmp_path / f"{name}.onnx").is_file()
    assert [i.name for i in wrapper.graph.input] == ["global_in"]
    assert wrapper.get_tensor_shape("global_in") == [1, *model.input_shape]
    assert "BipolarQuant" in {n.op_type for n in wrapper.graph.node}
    images = real_images[model.config["dataset"]]
    report = verify_export(model, wrapper, images.images, images.labels)
    report.raise_if_failed()
    assert report.ok and report.images == 20
    assert report.max_abs_logit_diff == 0.0  # integer accumulators times one float scale
    torch_classes = predict_logits(model, images.images).argmax(1)
    assert len(set(torch_classes.tolist())) > 1  # agreement is not trivially one constant class


def test_batched_graph_equals_batch_one_graph(tmp_path, real_images):
    model = randomized(zoo.build("lfc", hidden=(64, 32)))
    wrapper = export_qonnx(model, tmp_path / "lfc.onnx")
    x = zoo.to_model_input(real_images["mnist"].images[:6]).numpy()
    one_by_one = np.concatenate([run_qonnx(wrapper, x[i:i + 1]) for i in range(6)])
    batched = run_qonnx(batched_graph(wrapper, 6), x)
    assert batched.shape == (6, 10)
    # binary weights have scale 1: accumulators are exact integers in float32, so the batched
    # MatMul (blocked differently by BLAS) gives bit-identical logits
    np.testing.assert_array_equal(batched, one_by_one)
    assert wrapper.get_tensor_shape("global_in") == [1, 1, 28, 28]  # the original is untouched


def test_verify_export_reports_disagreeing_images(tmp_path, real_images):
    model = randomized(zoo.build("lfc", hidden=(64, 32)))
    wrapper = export_qonnx(model, tmp_path / "lfc.onnx")
    with torch.no_grad():  # the model drifts after export: the check must notice
        model.classifier.weight.neg_()
    images = real_images["mnist"]
    report = verify_export(model, wrapper, images.images, images.labels, batch_size=7)
    assert not report.ok and report.mismatches
    assert all(m["torch_top1"] != m["qonnx_top1"] for m in report.mismatches)
    with pytest.raises(ExportError, match=f"#{report.mismatches[0]['index']} torch"):
        report.raise_if_failed()


def test_verify_export_rejects_float_images(tmp_path):
    model = zoo.build("lfc", hidden=(16, 16)).eval()
    wrapper = export_qonnx(model, tmp_path / "lfc.onnx")
    with pytest.raises(zoo.ModelInputError, match="uint8"):
        verify_export(model, wrapper, np.zeros((2, 1, 28, 28), dtype=np.float32))


def test_export_cli(tmp_path, data_dir, capsys):
    save_checkpoint(tmp_path / "lfc.pt", randomized(zoo.build("lfc", hidden=(64, 32))),
                    metrics={}, epoch=0, compact=True)
    rc = export_main(["--checkpoint", str(tmp_path / "lfc.pt"), "--out", str(tmp_path / "m.onnx"),
                      "--data-dir", str(data_dir), "--verify-images", "30"])
    out = capsys.readouterr().out
    assert rc == 0 and "verified: 30/30 images agree" in out
    (tmp_path / "bad.pt").write_bytes(b"\x00" * 10)
    assert export_main(["--checkpoint", str(tmp_path / "bad.pt"), "--out", "x.onnx"]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
