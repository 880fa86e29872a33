# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The simulation-throughput benchmark: table formatting, CLI, and one real (slow) run."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_throughput.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("sim_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_shows_ratios_and_failures():
    bench = load_benchmark()
    rows = [{"model": "cnv", "weights": "random-init", "numpy_ips": 300.0, "qonnx_ips": 2.0,
             "torch_ips": 100.0, "numpy_over_qonnx": 150.0, "numpy_over_torch": 3.0,
             "top1_numpy_vs_torch": 1.0, "top1_numpy_vs_qonnx": 1.0},
            {"model": "fracbnn", "error": "UnsupportedGraphError: node X"}]
    table = bench.format_table(rows)
    assert "150x" in table and "3.00x" in table and "FAILED: UnsupportedGraphError" in table


def test_rules_put_input_stages_first_once():
    from pynq_bnn.compiler.lower import RULES

    rules = RULES
    kinds = [type(rule).__name__ for rule in rules]
    assert kinds[:2] == ["ThermometerRule", "BitPlaneRule"]
    assert kinds.count("ThermometerRule") == 1 and kinds.count("BitPlaneRule") == 1


@pytest.mark.slow
def test_lfc_run_side_by_side(data_dir, tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "results.json"
    bench.main(["--images", "32", "--qonnx-images", "2", "--models", "lfc",
                "--data-dir", str(data_dir), "--json", str(out)])
    (result,) = json.loads(out.read_text())
    assert "error" not in result, result
    assert result["images"] == 32 and result["qonnx_images"] == 2
    for key in ("numpy_ips", "qonnx_ips", "torch_ips"):
        assert result[key] > 0
    assert result["numpy_over_qonnx"] == pytest.approx(result["numpy_ips"] / result["qonnx_ips"])
    # same exported graph, integer-exact compile (binary weights have scale 1): identical top-1
    assert result["top1_numpy_vs_qonnx"] == 1.0 and result["top1_numpy_vs_torch"] == 1.0
    assert "lfc" in capsys.readouterr().out
