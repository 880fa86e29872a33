# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The build's final summary: what the user got, in plain text (``summary.txt`` + the console).

:func:`render_summary` reads a build report (the ``report.json`` dict) and says, with every
number labelled by where it comes from:

* verification — how many test images matched in each equivalence check (measured on this
  machine: Brevitas vs the numpy dataflow graph, g++ HLS csim vs the numpy graph);
* performance — FPS, latency and the bottleneck layer, *estimated* by the analytical cycle model
  (:mod:`pynq_bnn.compiler.cost` / :mod:`pynq_bnn.compiler.estimate`, not synthesis);
* resources — LUT / FF / BRAM18 / DSP, estimated, with the share of the board;
* every step's status: ``done``, ``cached``, ``skipped: no Vitis HLS`` / ``skipped: no Vivado``,
  or ``not run`` — and the exact commands to go on from there.
"""
from __future__ import annotations

__all__ = ["render_summary", "step_status", "next_commands", "SUMMARY_FILE", "CHART_FILE"]

SUMMARY_FILE = "summary.txt"
CHART_FILE = "layers.png"
_STEPS = ("load", "export", "compile", "fold", "estimate", "verify", "hls", "csim", "synth",
          "bitstream", "package")
_TOOL_OF = {"synth": "Vitis HLS", "bitstream": "Vivado"}


def step_status(report: dict, step: str) -> str:
    """``done (12.3 s)``, ``cached``, ``skipped: no Vitis HLS``, ``skipped: no Vivado`` or
    ``not run``."""
    steps = report.get("steps", {})
    if step == "package":
        return "done" if report.get("package") else "not run"
    if step not in steps:
        return "not run"
    summary = steps[step] or {}
    if isinstance(summary, dict) and summary.get("skipped"):
        return f"skipped: no {_TOOL_OF[step]}" if step in _TOOL_OF else \
            f"skipped: {summary['skipped']}"
    if step in report.get("cached_steps", []):
        return "cached"
    seconds = report.get("step_seconds", {}).get(step)
    return f"done ({seconds:.1f} s)" if isinstance(seconds, (int, float)) else "done"


def _count(check: dict) -> str:
    images = int(check.get("images", 0))
    bad = int(check.get("mismatches", 0))
    return f"{images - bad:,}/{images:,} images identical" + ("" if bad == 0 else " - FAILED")


def next_commands(report: dict, work: str = "<work>") -> list:
    """The exact commands to run next, given which steps ran or were skipped."""
    model = report.get("model", "MODEL")
    config = report.get("config", {})
    base = f"python build/build_overlay.py --model {model}"
    for option in ("board", "out", "work_dir", "checkpoint", "target_fps", "folding_file"):
        value = config.get(option)
        if value is not None and not (option == "board" and value == "pynq-z2"):
            flag = "--folding" if option == "folding_file" else "--" + option.replace("_", "-")
            base += f" {flag} {value}"
    status = {step: step_status(report, step) for step in _STEPS}
    package = report.get("package") or f"overlays/{model}"
    commands = []
    if status["csim"] == "not run":
        commands.append(f"{base}                      # run the remaining steps")
    if status["synth"].startswith("skipped") or status["bitstream"].startswith("skipped"):
        commands.append("export XILINX_VITIS=<Vitis install folder> "
                        "XILINX_VIVADO=<Vivado install folder>   # install the tools first")
        commands.append(f"{base} --start synth    # Vitis HLS + Vivado -> {model}.bit / .hwh")
    if status["hls"] != "not run":
        commands.append(f"ls {work}/hls/hls {work}/hls/vivado   # the generated HLS / Vivado "
                        f"projects ({base} --stop hls regenerates them)")
    if report.get("package"):
        commands.append(f"python -c \"from pynq_bnn.driver import BNNOverlay; "
                        f"BNNOverlay('{package}', device='sim')\"   # simulated device, any PC")
        if status["bitstream"].startswith("done") or status["bitstream"] == "cached":
            commands.append(f"scp -r {package} xilinx@<board>:overlays/   # on the board: "
                            "BNNOverlay(path) programs the PL")
    return commands


def render_summary(report: dict, work: str = "<work>") -> str:
    """Plain-text summary of a build report (see the module docstring)."""
    steps = report.get("steps", {})
    config = report.get("config", {})
    lines = [f"pynq_bnn build summary: {report.get('model', '?')}"]
    est = steps.get("estimate") or {}
    board = est.get("board", {})
    if board:
        lines.append(f"  board {board.get('name', '?')} ({board.get('part', '?')}) at "
                     f"{est.get('clock_mhz', config.get('clock_mhz', 0)):g} MHz")
    lines.append("")
    verify, csim = steps.get("verify"), steps.get("csim")
    data = (verify or csim or {}).get("data", "real test images")
    lines.append(f"Verification (measured on this machine, {data}):")
    lines.append("  Brevitas = numpy dataflow: " + (
        _count(verify) + (f", top-1 accuracy {verify['accuracy_dataflow']:.2%}"
                                        if "accuracy_dataflow" in verify else "")
        if verify else "not run"))
    lines.append("  g++ HLS csim = numpy:      " + (_count(csim) if csim
                                                     else "not run"))
    if est.get("pipeline"):
        pipe = est["pipeline"]
        lines.append("")
        lines.append("Performance (estimated: analytical cycle model, not synthesis):")
        lines.append(f"  {pipe['fps']:,.0f} FPS, latency {pipe['latency_us']:,.0f} us, "
                     f"{pipe.get('latency_is', 'estimate')}")
        bottleneck = pipe.get("bottleneck", "?")
        kind = next((layer.get("kind", "") for layer in est.get("layers", [])
                     if layer.get("name") == bottleneck), "")
        lines.append(f"  bottleneck layer: {bottleneck}{f' ({kind})' if kind else ''}, "
                     f"{pipe['max_cycles']:,} cycles/image")
        lines.append("Resources (estimated, share of the board):")
        total, capacity = est.get("total", {}), est.get("capacity", {})
        for key, label in (("lut", "LUT"), ("ff", "FF"), ("bram18", "BRAM18"), ("dsp", "DSP")):
            cap = capacity.get(key) or 0
            share = f"{100 * total.get(key, 0) / cap:5.1f} %" if cap else "  n/a"
            lines.append(f"  {label:<7}{total.get(key, 0):>9,.0f} / {cap:>7,}  {share}")
        lines.append(f"  fits the board: {'yes' if est.get('fits') else 'NO'}")
    lines.append("")
    lines.append("Steps:")
    for step in _STEPS:
        lines.append(f"  {step:<10}{step_status(report, step)}")
    if report.get("package"):
        lines.append(f"Package: {report['package']} ({CHART_FILE}: per-layer cycles/resources)")
    commands = next_commands(report, work)
    if commands:
        lines.append("")
        lines.append("Next:")
        lines.extend(f"  {command}" for command in commands)
    return "\n".join(lines) + "\n"
