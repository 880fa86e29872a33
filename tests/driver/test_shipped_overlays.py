# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Every overlay package shipped in ``overlays/`` runs on the simulated device and predicts what
the shipped Brevitas checkpoint it was built from predicts, on real test images; its report
records a passed verification and csim on at least 1,000 images."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pynq_bnn.checkpoint import load_model, pretrained_path
from pynq_bnn.data import load_dataset
from pynq_bnn.driver import BNNOverlay

OVERLAYS = Path(__file__).resolve().parents[2] / "overlays"
PACKAGES = sorted(p.parent for p in OVERLAYS.glob("*/report.json"))


def test_packages_are_shipped():
    assert {"lfc", "fracbnn"} <= {p.name for p in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_report_records_passed_verification(package):
    steps = json.loads((package / "report.json").read_text())["steps"]
    assert steps["verify"]["images"] >= 1000 and steps["verify"]["mismatches"] == 0
    assert steps["csim"]["passed"] and steps["csim"]["images"] >= 1000
    assert steps["estimate"]["fits"]


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_simulated_overlay_agrees_with_shipped_checkpoint(package, data_dir):
    name = json.loads((package / "report.json").read_text())["model"]
    model, _ = load_model(pretrained_path(name))
    test = load_dataset(model.config["dataset"], "test", data_dir=data_dir)
    images = test.images[1000:1032]  # not among the images the build itself checked
    with torch.no_grad():
        logits = model(torch.from_numpy(images).float() / 255.0).numpy()
    top2 = np.sort(logits, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-4 * np.abs(top2[:, 1]).clip(min=1)  # no float ties
    with BNNOverlay(package, device="sim") as overlay:
        predicted = overlay.predict(images, layout="NCHW")[:, 0]
    assert clear.sum() >= 16  # weakly trained models have many near-equal top-2 logits
    np.testing.assert_array_equal(predicted[clear], logits.argmax(axis=1)[clear])
