# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""ASDDynamic vs the training-side ASDDynamic module (pynq_bnn.nn.sdbnn) on integer accumulators."""
import numpy as np
import torch

from pynq_bnn.compiler.hw.asd import ASDDynamic
from pynq_bnn.nn.sdbnn import ASDDynamic as TorchASD


def _setup(channels=32, dim=6):
    torch.manual_seed(0)
    se = TorchASD(channels, reduction=16)
    with torch.no_grad():
        se.squeeze.weight.mul_(4.0)
        se.excite.weight.mul_(4.0)
    gamma = torch.rand(channels) * 0.05 + 0.01
    beta = torch.randn(channels) * 0.5
    xs = np.arange(-72, 73)
    table = (gamma[:, None] * torch.tensor(xs, dtype=torch.float32)[None] + beta[:, None]).numpy()
    params = {"act_table": table, "w1": se.squeeze.weight.detach().numpy(),
              "w2": se.excite.weight.detach().numpy()}
    layer = ASDDynamic("asd", ["x"], "y", params,
                       SPATIAL=[dim, dim], CH=channels, HIDDEN=channels // 16, in_dtype="INT8",
                       in_min=-72)
    return se, gamma, beta, layer


def test_asd_dynamic_matches_torch_sign_of_a_plus_se():
    se, gamma, beta, layer = _setup()
    x = np.random.randint(-72, 73, size=(8, 6, 6, 32))
    a = gamma.view(1, -1, 1, 1) * torch.tensor(x, dtype=torch.float32).permute(0, 3, 1, 2) \
        + beta.view(1, -1, 1, 1)
    with torch.no_grad():
        expect = (se(a) >= 0).permute(0, 2, 3, 1).numpy().astype(np.int64)
    got = layer.reference(x)
    assert (got != expect).sum() == 0  # identical up to float32 ties (none here)
    shifts = layer.shifts(x)
    assert shifts.shape == (8, 32) and shifts.std(axis=0).max() > 1e-3  # per-image shifts


def test_per_image_thresholds_reproduce_the_reference():
    _, _, _, layer = _setup()
    x = np.random.randint(-72, 73, size=(4, 6, 6, 32))
    thresholds = layer.thresholds(x)  # (N, C): the hardware's per-image threshold update
    via_thresholds = (x >= thresholds[:, None, None, :]).astype(np.int64)
    np.testing.assert_array_equal(via_thresholds, layer.reference(x))


def test_estimates():
    _, _, _, layer = _setup()
    assert layer.check_folding() == [] and layer.cycles() >= 36 * 32
    assert layer.resources(None).bram18 + layer.resources(None).lut > 0
