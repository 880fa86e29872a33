# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The fracbnn preset: topology, options, integer points, training smoke, exact QONNX export."""
import json
import math

import numpy as np
import pytest
import torch

from pynq_bnn import zoo
from pynq_bnn.nn.residual import ResidualQuant
from pynq_bnn.zoo.fracbnn import FracBNN, fracbnn

TINY = dict(widths=(4, 8, 16), blocks=(1, 1, 1), convs_per_block=1)


def real_images(data_dir, split, count):
    from pynq_bnn.data import load_dataset

    data = load_dataset("cifar10", split, data_dir)
    return data.images[:count], data.labels[:count].astype(np.int64)


def test_default_topology_is_resnet20_like():
    model = fracbnn()
    convs = model.frac_convs()
    assert len(convs) == 18
    assert [c.out_channels for c in convs] == [16] * 6 + [32] * 6 + [64] * 6
    assert [c.stride[0] for c in convs].count(2) == 2
    assert model.stem[0].in_channels == 96 and model.stem[0].out_channels == 16
    assert (model.classifier.in_features, model.classifier.out_features) == (64, 10)
    with torch.no_grad():
        assert model.eval()(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_config_roundtrip_and_registry():
    model = fracbnn(**TINY, input_stage="bitplane", input_options={"plane_channels": 2})
    config = json.loads(json.dumps(model.config))
    rebuilt = zoo.from_config(config)
    assert isinstance(rebuilt, FracBNN) and rebuilt.config == model.config
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {k: v.shape for k, v in rebuilt.state_dict().items()}
    rebuilt.load_state_dict(model.state_dict())
    assert "fracbnn" in zoo.list_presets()
    assert isinstance(zoo.build("fracbnn", **TINY), FracBNN)


@pytest.mark.parametrize("input_stage, act", [("thermometer", "frac"), ("bitplane", "binary"),
                                              ("uint8", "frac"), ("thermometer", "binary")])
def test_options_train_step(input_stage, act):
    model = fracbnn(**TINY, input_stage=input_stage, act=act,
                    input_options={"plane_channels": 2} if input_stage == "bitplane" else None)
    x, y = torch.rand(2, 3, 32, 32), torch.tensor([0, 3])
    loss = torch.nn.functional.cross_entropy(model.train()(x), y) + model.regularization_loss()
    loss.backward()
    assert torch.isfinite(loss)
    assert model.stem[0].weight.grad is not None and model.classifier.weight.grad is not None
    if act == "frac":
        assert 0.0 <= model.gate_skip_fraction() <= 1.0
        assert all(c.delta.grad is not None for c in model.frac_convs())
    else:
        assert not model.frac_convs() and float(model.regularization_loss()) == 0.0
        with pytest.raises(RuntimeError, match="act='frac'"):
            model.gate_skip_fraction()


def test_per_channel_parameters_are_not_weight_decayed():
    """The training loop decays only ``dim > 1`` weights; decay would pull δ towards 0."""
    from pynq_bnn.train.config import TrainConfig, resolve_config
    from pynq_bnn.train.loop import make_optimizer

    model = fracbnn(**TINY)
    per_channel = [p for n, p in model.named_parameters()
                   if n.endswith(("delta", "gamma", "zeta", "shift.bias"))]
    assert per_channel and all(p.dim() == 1 for p in per_channel)
    config = resolve_config(TrainConfig(), "cifar10")
    decayed = [p for g in make_optimizer(model, config).param_groups if g["weight_decay"]
               for p in g["params"]]
    assert decayed and not {id(p) for p in per_channel} & {id(p) for p in decayed}


def test_regularization_loss_sums_gate_targets():
    model = fracbnn(gate_target=3.0, gate_init=-1.0)
    channels = sum(c.out_channels for c in model.frac_convs())
    assert float(model.regularization_loss()) == pytest.approx(1e-5 * 0.5 * 16.0 * channels)


@pytest.mark.parametrize("bad", [dict(widths=(16, 24), blocks=(1, 1)),
                                 dict(widths=(16,), blocks=(1, 2)), dict(act="ternary"),
                                 dict(input_stage="jpeg"), dict(convs_per_block=0)])
def test_bad_options_raise(bad):
    with pytest.raises(ValueError):
        fracbnn(**bad)


def test_integer_points_and_exact_logits():
    model = fracbnn(**TINY).eval()
    streams = []
    for module in model.modules():
        if isinstance(module, ResidualQuant):
            module.register_forward_hook(lambda m, i, o: streams.append(o.detach()))
    x = torch.rand(3, 3, 32, 32)
    logits = model(x).detach().double()
    for s in streams:  # every residual tensor is int8 on the 2^-4 grid
        codes = s * 16
        assert torch.equal(codes, torch.round(codes)) and codes.abs().max() <= 128
    pooled = streams[-1].flatten(1).double() * 16  # int8 codes entering the classifier
    w = model.classifier.quant_weight()
    assert math.log2(float(w.scale)) == round(math.log2(float(w.scale)))
    w_int = (w.value / w.scale).detach().double()
    assert torch.equal(logits, pooled @ w_int.T * float(w.scale) / 16)


def test_real_images_quick_step(data_dir):
    images, labels = real_images(data_dir, "test", 8)
    model = fracbnn(**TINY)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = zoo.to_model_input(images), torch.from_numpy(labels)
    loss = torch.nn.functional.cross_entropy(model.train()(x), y) + model.regularization_loss()
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)


@pytest.mark.slow
def test_one_epoch_smoke_on_500_cifar_images(data_dir):
    from pynq_bnn.data import load_dataset, make_loader

    train = load_dataset("cifar10", "train", data_dir).subset(500)
    model = fracbnn(widths=(8, 16, 32), blocks=(1, 1, 1))  # full depth would take minutes on CPU
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    losses = []
    for x, y in make_loader(train, 50, shuffle=True, augment=True, seed=0):
        loss = torch.nn.functional.cross_entropy(model.train()(x), y) + model.regularization_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert len(losses) == 10 and all(math.isfinite(v) for v in losses)
    images, labels = real_images(data_dir, "test", 200)
    with torch.no_grad():
        accuracy = (model.eval()(zoo.to_model_input(images)).argmax(1).numpy() == labels).mean()
    assert 0.0 <= accuracy <= 1.0
    assert 0.0 <= model.gate_skip_fraction() <= 1.0


@pytest.mark.slow
def test_overfits_a_small_batch(data_dir):
    images, labels = real_images(data_dir, "train", 32)
    model = fracbnn(**TINY)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    x, y = zoo.to_model_input(images), torch.from_numpy(labels)
    losses = []
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(model.train()(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])


def briefly_trained(model, data_dir, steps=3):
    images, labels = real_images(data_dir, "train", 64)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for step in range(steps):
        x = zoo.to_model_input(images[step * 16:(step + 1) * 16])
        y = torch.from_numpy(labels[step * 16:(step + 1) * 16])
        loss = torch.nn.functional.cross_entropy(model.train()(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.slow
@pytest.mark.parametrize("options", [
    dict(), dict(TINY, input_stage="bitplane", input_options={"plane_channels": 2}),
    dict(TINY, act="binary", input_stage="uint8")])
def test_export_matches_torch_on_real_test_images(tmp_path, data_dir, options):
    from pynq_bnn.export import export_qonnx, verify_export

    model = briefly_trained(fracbnn(**options), data_dir)
    wrapper = export_qonnx(model, tmp_path / "fracbnn.onnx")
    images, labels = real_images(data_dir, "test", 20)
    report = verify_export(model, wrapper, images, labels, batch_size=10)
    report.raise_if_failed()
    assert report.max_abs_logit_diff == 0.0  # integer-exact: identical logits, not just top-1
