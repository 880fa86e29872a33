# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""CNV options and the seed-technique presets (cnv-thermo, cnv-bitplane, sdbnn, repbnn, lab)."""
import pytest
import torch

import pynq_bnn.zoo.variants  # noqa: F401 - registers the presets
from pynq_bnn import zoo
from pynq_bnn.nn.lab import LearnableActivationBinarizer
from pynq_bnn.nn.layers import (BinaryActivation, BinaryConv2d, BinaryLinear, OutputScale,
                                Uint8InputQuant)
from pynq_bnn.nn.repconv import ChannelTile
from pynq_bnn.nn.sdbnn import ASDDynamic, ASDStatic, WSDConv2d, WSDLinear
from pynq_bnn.zoo.cnv import cnv

SMALL = {"convs": ((8, False), (8, True), (16, False), (16, True), (32, False), (32, False)),
         "fcs": (32, 32)}
PRESETS = ("cnv-thermo", "cnv-bitplane", "sdbnn", "repbnn", "lab")


def _original_cnv_layout():
    """The CNV exactly as shipped before the options existed (the checkpoint's key layout)."""
    model = torch.nn.Module()
    model.input_quant = Uint8InputQuant()
    layers, ch = [], 3
    for out_ch, pool in ((64, False), (64, True), (128, False), (128, True), (256, False),
                         (256, False)):
        layers += [BinaryConv2d(ch, out_ch, 3), torch.nn.BatchNorm2d(out_ch), BinaryActivation()]
        layers += [torch.nn.MaxPool2d(2)] if pool else []
        ch = out_ch
    model.features = torch.nn.Sequential(*layers)
    fcs, width = [], ch
    for h in (512, 512):
        fcs += [BinaryLinear(width, h), torch.nn.BatchNorm1d(h), BinaryActivation()]
        width = h
    model.fcs = torch.nn.Sequential(*fcs)
    model.classifier = BinaryLinear(width, 10)
    model.scale = OutputScale(0.1)
    return model


def _shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_default_cnv_is_backward_compatible():
    model = cnv()
    assert _shapes(model) == _shapes(_original_cnv_layout())
    assert model.config == {"name": "cnv", "dataset": "cifar10",
                            "convs": [[64, False], [64, True], [128, False], [128, True],
                                      [256, False], [256, False]],
                            "fcs": [512, 512], "act_grad": "ste"}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_builds_runs_and_round_trips(name):
    assert name in zoo.list_presets()
    model = zoo.build(name, **SMALL)
    assert model.config["name"] == name
    x = torch.rand(2, 3, 32, 32)
    assert model(x).shape == (2, 10)
    clone = zoo.from_config(model.config)
    clone.load_state_dict(model.state_dict())
    model.eval(), clone.eval()
    assert torch.equal(model(x), clone(x))


def test_sdbnn_static_and_dynamic_reachable():
    static = zoo.build("sdbnn", **SMALL)
    kinds = {type(m) for m in static.modules()}
    assert {WSDConv2d, WSDLinear, ASDStatic} <= kinds and ASDDynamic not in kinds
    dynamic = zoo.build("sdbnn", asd="dynamic", **SMALL)
    assert sum(isinstance(m, ASDDynamic) for m in dynamic.modules()) == 6
    assert zoo.from_config(dynamic.config).config["asd"] == "dynamic"
    # a variant records all options: rebuilding "sdbnn" without ASD stays without ASD
    plain = zoo.from_config(zoo.build("sdbnn", asd="none", **SMALL).config)
    assert not any(isinstance(m, (ASDStatic, ASDDynamic)) for m in plain.modules())


def _binary_weight_counts(model):
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    fcs = [m for m in model.modules() if isinstance(m, BinaryLinear)]
    return [m.weight.numel() for m in convs], [m.weight.numel() for m in fcs]


def test_repbnn_keeps_binary_weights_and_widens_maps():
    base_convs, base_fcs = _binary_weight_counts(cnv())
    rep = zoo.build("repbnn")
    rep_convs, rep_fcs = _binary_weight_counts(rep)
    assert rep_convs == base_convs
    assert rep_fcs[:-1] == base_fcs[:-1]          # hidden FCs unchanged
    assert rep_fcs[-1] == 2 * base_fcs[-1]         # classifier input is β× wider
    tiles = [m.copies for m in rep.modules() if isinstance(m, ChannelTile)]
    assert tiles == [2] + [4] * 5 + [4, 4]
    bns = [m.num_features for m in rep.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns == [128, 128, 256, 256, 512, 512]   # β·P copies, each with its own BN


def test_lab_preset_puts_lab_before_convs_2_to_6():
    model = zoo.build("lab", **SMALL)
    feats = list(model.features)
    labs = [i for i, m in enumerate(feats) if isinstance(m, LearnableActivationBinarizer)]
    assert len(labs) == 5
    assert all(isinstance(feats[i + 1], BinaryConv2d) for i in labs)
    assert [feats[i].conv.in_channels for i in labs] == [8, 8, 16, 16, 32]


@pytest.mark.parametrize("stage, channels", [("thermometer", 96), ("bitplane", None)])
def test_input_stages_feed_the_first_conv(stage, channels):
    model = cnv(input_stage=stage, **SMALL)
    first = next(m for m in model.modules() if isinstance(m, BinaryConv2d))
    if channels is not None:
        assert first.in_channels == channels
    assert not isinstance(model.input_quant, Uint8InputQuant)


@pytest.mark.parametrize("bad", [{"input_stage": "rgb"}, {"binarizer": "tanh"}, {"asd": "on"},
                                 {"wsd": "yes"}, {"beta": 3}])
def test_bad_options_raise_clear_errors(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        cnv(**bad)


def test_options_compose():
    model = cnv(wsd=True, asd="static", beta=2, binarizer="lab", **SMALL)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def _untie_batchnorms(model):
    """Move every BN threshold half an accumulator step off the integer grid.

    Binary weights carry the recipe's constant scale (0.1), so a float32 accumulator is
    ``0.1·A`` with rounding noise that depends on the summation order; at a freshly initialized BN
    the sign threshold sits exactly on ``A = 0`` and torch / onnx could disagree on ties. Trained
    BNs do not sit on the grid; this puts the test's thresholds at ``0.1·(k + 1/2)``.
    """
    generator = torch.Generator().manual_seed(1)
    first = True
    for module in model.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            unit = 0.1 / 255 if first else 0.1
            k = torch.randint(-3, 4, (module.num_features,), generator=generator).float()
            module.running_mean.copy_(unit * (k + 0.5))
            first = False


@pytest.mark.slow
@pytest.mark.parametrize("options", [
    {"wsd": True, "asd": "static", "beta": 2, "binarizer": "lab"},
    {"asd": "dynamic"},
])
def test_export_matches_torch(options, tmp_path):
    """The exported QONNX graph (qonnx execution) reproduces the torch model's logits."""
    from qonnx.core.onnx_exec import execute_onnx

    from pynq_bnn.deployable import export_for_check

    torch.manual_seed(0)
    model = cnv(**SMALL, **options).eval()
    with torch.no_grad():
        _untie_batchnorms(model)
    wrapper = export_for_check(model, tmp_path / "model.onnx")
    ops = {n.op_type for n in wrapper.graph.node}
    if options.get("beta", 1) > 1:
        assert "Tile" in ops
    if options.get("binarizer") == "lab":
        groups = [a.i for n in wrapper.graph.node if n.op_type == "Conv" for a in n.attribute
                  if a.name == "group"]
        assert "Quant" in ops and max(groups) > 1   # LAB's depthwise difference conv
    if options.get("asd") == "dynamic":
        assert {"ReduceMean", "Sigmoid"} <= ops
    images = torch.randint(0, 256, (3, 1, 3, 32, 32)).float() / 255
    for x in images:
        expected = model(x).detach().numpy()
        got = execute_onnx(wrapper, {"global_in": x.numpy()})["global_out"]
        assert abs(got - expected).max() < 1e-5
