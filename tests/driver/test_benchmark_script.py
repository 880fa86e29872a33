# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""benchmarks/driver_overhead.py runs, checks its packings agree, and reports every figure."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "driver_overhead.py"


def test_driver_overhead_script(capsys):
    spec = importlib.util.spec_from_file_location("driver_overhead", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    per_frame = module.main(["--batch", "16", "--repeats", "3", "--naive-images", "1"])
    assert set(per_frame) == {"copy", "pack", "unpack", "naive"}
    assert all(value > 0 for value in per_frame.values())
    assert "pack/copy" in capsys.readouterr().out
