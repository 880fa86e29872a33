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
    rows[0].update(binary_macs_per_image=50e6, binary_macs_per_s=15e9, of_xnor_roofline=1.5,
                   of_sgemm=0.25)
    roof = {"threads": 2, "xnor_macs_per_s": 10e9, "sgemm_macs_per_s": 60e9}
    table = bench.format_table(rows, roof)
    assert "XNOR-popcount 10.00 G" in table and "150%" in table and "25%" in table
    assert "50.0" in table and "15.00" in table


def test_roofline_microbenchmark_counts_macs():
    spec = importlib.util.spec_from_file_location("roofline", SCRIPT.with_name("roofline.py"))
    roofline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roofline)
    r = roofline.measure(threads=1, seconds=0.05)
    assert r["threads"] == 1 and r["xnor_macs_per_s"] > 1e6 and r["sgemm_macs_per_s"] > 1e6


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
    data = json.loads(out.read_text())
    (result,) = data["results"]
    roof = data["roofline"]
    assert roof["xnor_macs_per_s"] > 0 and roof["sgemm_macs_per_s"] > 0
    # every LFC MVAU is W1A1 (the pixels are binarized by a Thresholding first)
    assert result["binary_macs_per_image"] > 0
    assert result["of_xnor_roofline"] == pytest.approx(
        result["binary_macs_per_s"] / roof["xnor_macs_per_s"])
    assert "error" not in result, result
    assert result["images"] == 32 and result["qonnx_images"] == 2
    for key in ("numpy_ips", "qonnx_ips", "torch_ips"):
        assert result[key] > 0
    assert result["numpy_over_qonnx"] == pytest.approx(result["numpy_ips"] / result["qonnx_ips"])
    # same exported graph, integer-exact compile (binary weights have scale 1): identical top-1
    assert result["top1_numpy_vs_qonnx"] == 1.0 and result["top1_numpy_vs_torch"] == 1.0
    assert "lfc" in capsys.readouterr().out
