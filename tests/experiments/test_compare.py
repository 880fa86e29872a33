# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The comparison experiment: budget planning, report files, and a tiny end-to-end run."""
import json

import pytest

from pynq_bnn.experiments.compare import MODELS, main, plan_budget
from pynq_bnn.experiments.report import markdown_table, write_report

SPI = {"cnv": 0.002, "lab": 0.004}  # seconds per training image


def _train_seconds(plan, spi):
    total = sum(spi.values())
    return plan.epochs * plan.train_images * total + plan.test_images * total / 3


def test_plan_fits_budget_and_grows_with_it():
    small = plan_budget(120, SPI)
    large = plan_budget(3600 * 4, SPI)
    for budget, plan in ((120, small), (3600 * 4, large)):
        assert _train_seconds(plan, SPI) <= 0.9 * budget + 2 * 128 * sum(SPI.values())
    assert small.epochs == 1 and small.train_images < large.train_images or \
        small.epochs < large.epochs
    assert large.train_images == 50_000 and large.epochs >= 2 and large.test_images == 10_000
    assert plan_budget(120, SPI, test_images=200).test_images == 200
    with pytest.raises(ValueError, match="budget"):
        plan_budget(0, SPI)


def test_all_seed_presets_are_compared():
    assert set(MODELS) == {"cnv", "cnv-thermo", "cnv-bitplane", "fracbnn", "sdbnn", "repbnn",
                           "lab"}


def test_report_files(tmp_path):
    rows = [{"model": "cnv", "accuracy": 0.5, "binary_macs": 57.9e6, "fp_macs": 1.5e6,
             "one_bit_params": 1.5e6, "fp_params": 3841, "gate_sparsity": None,
             "train_time_s": 12.0},
            {"model": "lab", "error": "RuntimeError: boom"}]
    setup = {"budget_minutes": 5, "epochs": 1, "train_images": 256, "test_images": 100,
             "seed": 0, "wall_time_s": 30.0}
    paths = write_report(rows, setup, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["results"][0]["accuracy"] == 0.5 and data["setup"]["epochs"] == 1
    text = paths["markdown"].read_text()
    assert "| cnv | 50.00 | 57.90 |" in text and "failed: RuntimeError: boom" in text
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert markdown_table(rows, setup).count("\n|") == 4


@pytest.mark.slow
def test_end_to_end_tiny_budget(tmp_path, data_dir):
    code = main(["--budget-minutes", "1", "--data-dir", str(data_dir), "--train-subset", "64",
                 "--epochs", "1", "--test-subset", "40", "--models", "cnv,repbnn",
                 "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "compare.json").read_text())
    assert [r["model"] for r in data["results"]] == ["cnv", "repbnn"]
    for row in data["results"]:
        assert 0.0 <= row["accuracy"] <= 1.0 and row["binary_macs"] > 5e7
    assert data["setup"]["test_images"] == 40 and data["setup"]["train_images"] == 64
    assert (tmp_path / "compare.png").stat().st_size > 1000


@pytest.mark.slow
def test_budget_path_wiring(tmp_path, data_dir, monkeypatch):
    """Without --epochs/--train-subset the plan comes from calibration and the budget."""
    from pynq_bnn.experiments import compare
    from pynq_bnn.zoo.cnv import cnv

    seen = {}
    monkeypatch.setattr(compare, "calibrate", lambda models: {m: 0.01 for m in models})

    def fake_train(name, train_set, plan, seed):
        seen[name] = plan
        return cnv(convs=((8, False), (8, True), (8, False), (8, True), (8, False), (8, False)),
                   fcs=(8, 8))

    monkeypatch.setattr(compare, "train_preset", fake_train)
    result = compare.run_comparison(budget_minutes=1, data_dir=data_dir, models=("cnv", "lab"),
                                    test_subset=30, out=tmp_path)
    expected = plan_budget(60, {"cnv": 0.01, "lab": 0.01}, test_images=30)
    assert seen == {"cnv": expected, "lab": expected}
    assert result["setup"]["sized_by_budget"] and result["setup"]["test_images"] == 30
    assert all(0 <= r["accuracy"] <= 1 for r in result["results"])
