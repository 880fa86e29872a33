# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Honest labels for the numbers of :meth:`BNNOverlay.benchmark` and the camera demo.

Three kinds of number exist and are never mixed up:

* **measured** — wall-clock time on a PYNQ board (``time.perf_counter`` around the DMA transfer
  and the accelerator run, on the board's CPU);
* **simulated** — wall-clock time of the simulated device on the host CPU: the numpy reference of
  the compiled graph standing in for the PL. It says nothing about the hardware's speed;
* **estimated** — the hardware throughput/latency the build predicted (``report.json`` of the
  package, ``steps.estimate.pipeline``: the cycle model of :mod:`pynq_bnn.compiler.estimate` at
  the package's clock; throughput = clock / slowest stage, latency = sum of the stages, an upper
  bound).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

__all__ = ["MEASURED", "SIMULATED", "package_estimate", "format_benchmark"]

log = logging.getLogger(__name__)
MEASURED, SIMULATED = "measured", "simulated"


def package_estimate(package_dir) -> dict | None:
    """``{"fps", "latency_ms", "clock_mhz", "source"}`` from the package's ``report.json``.

    Returns ``None`` when the package has no report or the report holds no estimate (demo
    packages, packages copied without it).
    """
    path = Path(package_dir) / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    estimate = report.get("estimate") or (report.get("steps") or {}).get("estimate") or {}
    pipeline = estimate.get("pipeline") if isinstance(estimate, dict) else None
    try:
        fps, latency_us = float(pipeline["fps"]), float(pipeline["latency_us"])
    except (TypeError, KeyError, ValueError):
        log.debug("no pipeline estimate in %s", path)
        return None
    clock = estimate.get("clock_mhz")
    return {"fps": fps, "latency_ms": latency_us / 1e3, "clock_mhz": clock,
            "source": f"estimated by the build's cycle model at {clock:g} MHz (report.json)"
            if isinstance(clock, (int, float)) else "estimated by the build's cycle model"}


def format_benchmark(result: dict) -> str:
    """One labelled line (or two) describing a :meth:`BNNOverlay.benchmark` result.

    >>> format_benchmark({"timing": "simulated", "fps": 1117.0, "batch_size": 100,
    ...                   "latency_ms": {"p50": 89.5}, "device": "sim",
    ...                   "estimated": {"fps": 10960.1, "latency_ms": 1.14,
    ...                                 "source": "estimated (report.json)"}})
    'simulated on the host CPU (numpy model, not hardware): 1,117 img/s end to end, p50 89.50 ms per call of 100; hardware estimate: 10,960 img/s, latency 1.140 ms [estimated (report.json)]'
    """
    n = result["batch_size"]
    where = ("simulated on the host CPU (numpy model, not hardware)"
             if result["timing"] == SIMULATED else f"measured on {result['device']}")
    text = (f"{where}: {result['fps']:,.0f} img/s end to end, p50 "
            f"{result['latency_ms']['p50']:.2f} ms per call of {n}")
    estimate = result.get("estimated")
    if estimate:
        text += (f"; hardware estimate: {estimate['fps']:,.0f} img/s, latency "
                 f"{estimate['latency_ms']:.3f} ms [{estimate['source']}]")
    elif result["timing"] == SIMULATED:
        text += "; no hardware estimate (the package has no report.json)"
    return text
