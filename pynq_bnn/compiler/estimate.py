# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Per-layer cycles and resources, pipeline FPS and latency, JSON report and bar chart.

Throughput model (FINN): the layers form a streaming dataflow pipeline, so in steady state a new
image enters every ``max(cycles)`` cycles, where the maximum runs over every layer and the two
DMA transfers (input pixels and output labels over the board's AXI port,
``ceil(bits / axi_width)`` cycles each):

.. math:: FPS = f_{clk} / \\max(c_{axi,in}, c_1, \\dots, c_L, c_{axi,out})

Latency is reported as an *upper bound*, the sum of all those cycles: it assumes each stage
finishes a whole image before the next starts. Streaming overlap makes the real first-image
latency shorter (the first output pixel of a layer leaves after a few rows of input); FIFO fill
and the Python/DMA driver overhead are not included (the driver's ``benchmark()`` measures them).

Resources are the sum of every layer's ``resources(board)`` (each layer's own documented model,
built on :mod:`pynq_bnn.compiler.cost`), the plumbing of the generated top level — every stream
FIFO at its declared depth, the fork/shortcut FIFOs, width converters and AXI adapters, read from
the rendered ``bnn_top.cpp`` by :mod:`pynq_bnn.compiler.stream_cost` — and the fixed platform
shell (DMA, interconnect). A layer without an estimate is an error, never a silent zero; a list of
layers that is not a renderable graph is estimated without plumbing and says so in ``notes``.
Every number is labelled :data:`~pynq_bnn.compiler.cost.MODEL_LABEL` (``"model"`` in the JSON).

Only the HW-layer interface is used: ``name``, ``kind``, ``inputs``/``output``,
``folding_space()``, ``in_shapes()``/``in_types()``, ``out_shape()``/``out_type()``, ``cycles()``
and ``resources(board)``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pynq_bnn.compiler.boards import get_board
from pynq_bnn.compiler.cost import MODEL_LABEL, platform_shell
from pynq_bnn.compiler.hw.base import Resources

__all__ = ["EstimateError", "LayerEstimate", "Estimate", "estimate", "write_report",
           "plot_layers", "SCHEMA"]

log = logging.getLogger(__name__)
SCHEMA = "pynq_bnn.estimate/1"
LARGE_FIFO_DEPTH = 3  # FIFOs listed one by one in the JSON (deeper than Vitis's default 2)
RESOURCE_KEYS = ("lut", "ff", "bram18", "dsp", "uram")


class EstimateError(RuntimeError):
    """A layer cannot be estimated (missing or invalid estimate)."""


@dataclass
class LayerEstimate:
    """Cycles per image and resources of one layer (or one DMA stage, ``kind="AXI-DMA"``)."""

    name: str
    kind: str
    folding: dict
    cycles: int
    resources: Resources

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "folding": dict(self.folding),
                "cycles": int(self.cycles), "resources": _res_dict(self.resources)}


def _res_dict(res: Resources) -> dict:
    return {k: float(getattr(res, k)) for k in RESOURCE_KEYS}


@dataclass
class Estimate:
    """Whole-design estimate on one board at one clock (see the module docstring)."""

    board: dict
    clock_mhz: float
    layers: list
    io: list
    platform: Resources
    total: Resources
    capacity: dict
    utilization: dict
    max_cycles: int
    bottleneck: str
    fps: float
    latency_cycles: int
    notes: list = field(default_factory=list)
    plumbing: list = field(default_factory=list)
    model: str = MODEL_LABEL

    @property
    def plumbing_total(self) -> Resources:
        """Sum of the top level's FIFOs and helper processes."""
        total = Resources()
        for item in self.plumbing:
            total = total + item.resources
        return total

    @property
    def fits(self) -> bool:
        return all(u <= 1.0 for u in self.utilization.values())

    @property
    def latency_us(self) -> float:
        return self.latency_cycles / self.clock_mhz

    def as_dict(self) -> dict:
        fifos = [item for item in self.plumbing if item.kind == "FIFO"]
        fifo_total = Resources()
        for item in fifos:
            fifo_total = fifo_total + item.resources
        return {
            "schema": SCHEMA,
            "model": self.model,
            "board": self.board,
            "clock_mhz": self.clock_mhz,
            "layers": [layer.as_dict() for layer in self.layers],
            "io": [stage.as_dict() for stage in self.io],
            "plumbing": {
                "resources": _res_dict(self.plumbing_total),
                "fifos": len(fifos), "fifo_resources": _res_dict(fifo_total),
                "helpers": len(self.plumbing) - len(fifos),
                "large_fifos": [{"name": f.name, "width": f.width, "depth": f.depth,
                                 "resources": _res_dict(f.resources)}
                                for f in fifos if f.depth >= LARGE_FIFO_DEPTH],
            },
            "platform": _res_dict(self.platform),
            "total": _res_dict(self.total),
            "capacity": dict(self.capacity),
            "utilization": {k: float(v) for k, v in self.utilization.items()},
            "fits": self.fits,
            "pipeline": {
                "max_cycles": int(self.max_cycles), "bottleneck": self.bottleneck,
                "fps": float(self.fps), "latency_cycles": int(self.latency_cycles),
                "latency_us": float(self.latency_us), "latency_is": "upper bound (sum of stages)",
            },
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """A short human-readable table (CLIs print it; the library only logs it)."""
        rows = [f"{'layer':24s} {'kind':14s} {'cycles':>10s} {'LUT':>9s} {'BRAM18':>7s} "
                f"{'DSP':>5s}"]
        for stage in self.io[:1] + self.layers + self.io[1:]:
            r = stage.resources
            rows.append(f"{stage.name[:24]:24s} {stage.kind[:14]:14s} {stage.cycles:10d} "
                        f"{r.lut:9.0f} {r.bram18:7.1f} {r.dsp:5.0f}")
        p = self.plumbing_total
        rows.append(f"{'plumbing (FIFOs, helpers)':24s} {'top level':14s} {'':>10s} "
                    f"{p.lut:9.0f} {p.bram18:7.1f} {p.dsp:5.0f}")
        u = self.utilization
        rows.append(f"{self.model}")
        rows.append(f"total: {self.total.lut:.0f} LUT ({u['lut']:.0%}), {self.total.bram18:.1f} "
                    f"BRAM18 ({u['bram18']:.0%}), {self.total.dsp:.0f} DSP ({u['dsp']:.0%}) on "
                    f"{self.board['name']}; {self.fps:.1f} FPS at {self.clock_mhz:g} MHz "
                    f"(bottleneck {self.bottleneck}), latency <= {self.latency_us:.1f} us")
        return "\n".join(rows)


def _graph_io(layers) -> tuple:
    """Bits per image entering and leaving the accelerator (inputs/outputs no layer links)."""
    produced = {layer.output for layer in layers}
    consumed = {name for layer in layers for name in layer.inputs}
    in_bits = out_bits = 0
    for layer in layers:
        for name, shape, stype in zip(layer.inputs, layer.in_shapes(), layer.in_types()):
            if name not in produced:
                in_bits += math.prod(shape) * stype.bits
        if layer.output not in consumed:
            out_bits += math.prod(layer.out_shape()) * layer.out_type().bits
    return in_bits, out_bits


def _layer_estimate(layer, board) -> LayerEstimate:
    try:
        cycles = int(layer.cycles())
        res = layer.resources(board)
    except NotImplementedError as exc:
        raise EstimateError(f"layer {layer.name!r} ({layer.kind}) has no estimate: {exc}") from exc
    if cycles < 1 or not isinstance(res, Resources):
        raise EstimateError(f"layer {layer.name!r} ({layer.kind}) returned an invalid estimate: "
                            f"cycles={cycles}, resources={res!r}")
    folding = {axis: layer.attrs[axis] for axis in layer.folding_space()}
    return LayerEstimate(layer.name, layer.kind, folding, cycles, res)


def _plumbing(graph_or_layers, board) -> tuple:
    """(plumbing items, notes): the rendered top level's FIFOs/helpers, or a note why none."""
    from pynq_bnn.compiler.hls.topgen import HlsRenderError
    from pynq_bnn.compiler.stream_cost import graph_plumbing

    if not hasattr(graph_or_layers, "input_name"):
        return [], ["stream FIFOs and helpers not counted: a list of layers has no top level "
                    "(estimate a DataflowGraph)"]
    try:
        return graph_plumbing(graph_or_layers, board.axi_width), []
    except (HlsRenderError, NotImplementedError, KeyError, ValueError) as exc:
        return [], [f"stream FIFOs and helpers not counted: the top level cannot be rendered "
                    f"({exc})"]


def estimate(graph_or_layers, board, clock_mhz: float | None = None) -> Estimate:
    """Estimate a folded dataflow graph on ``board`` (name or Board) at ``clock_mhz``.

    Raises:
        EstimateError: a layer has no estimate (names the layer) or the graph is empty.
    """
    board = get_board(board)
    clock_mhz = float(clock_mhz or board.clock_mhz)
    layers = list(getattr(graph_or_layers, "layers", graph_or_layers))
    if not layers:
        raise EstimateError("cannot estimate an empty graph (no HW layers)")
    per_layer = [_layer_estimate(layer, board) for layer in layers]
    plumbing, notes = _plumbing(graph_or_layers, board)
    in_bits, out_bits = _graph_io(layers)
    io = [LayerEstimate("axi_in", "AXI-DMA", {}, max(1, math.ceil(in_bits / board.axi_width)),
                        Resources()),
          LayerEstimate("axi_out", "AXI-DMA", {}, max(1, math.ceil(out_bits / board.axi_width)),
                        Resources())]
    shell = platform_shell()
    total = shell
    for item in per_layer + plumbing:
        total = total + item.resources
    capacity = board.capacity()
    utilization = {k: (getattr(total, k) / capacity[k] if capacity[k]
                       else (math.inf if getattr(total, k) else 0.0)) for k in RESOURCE_KEYS}
    stages = io[:1] + per_layer + io[1:]
    slowest = max(stages, key=lambda s: s.cycles)
    notes += [f"{k} over capacity ({utilization[k]:.0%})" for k in RESOURCE_KEYS
              if utilization[k] > 1.0]
    result = Estimate(board=board.as_dict(), clock_mhz=clock_mhz, layers=per_layer, io=io,
                      platform=shell, total=total, capacity=capacity, utilization=utilization,
                      max_cycles=slowest.cycles, bottleneck=slowest.name,
                      fps=clock_mhz * 1e6 / slowest.cycles,
                      latency_cycles=sum(s.cycles for s in stages), notes=notes,
                      plumbing=plumbing)
    log.info("estimate: %.1f FPS on %s at %g MHz, bottleneck %s", result.fps, board.name,
             clock_mhz, result.bottleneck)
    return result


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_report(result: Estimate, path) -> Path:
    """Write the estimate as JSON (schema ``pynq_bnn.estimate/1``), atomically."""
    path = Path(path)

    def write(tmp):
        with open(tmp, "w") as handle:
            json.dump(result.as_dict(), handle, indent=2)
            handle.write("\n")

    _atomic_write(path, write)
    return path


def plot_layers(result: Estimate, path) -> Path:
    """Per-layer bar chart (cycles; LUT and BRAM18 as % of the board) as a PNG, atomically.

    Uses matplotlib's object API with the Agg canvas: no pyplot state, no display needed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    stages = result.io[:1] + result.layers + result.io[1:]
    names = [s.name for s in stages]
    xs = range(len(stages))
    fig = Figure(figsize=(max(6.0, 0.45 * len(stages) + 2), 6.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    colors = ["tab:red" if s.name == result.bottleneck else "tab:blue" for s in stages]
    top.bar(xs, [s.cycles for s in stages], color=colors)
    top.set_yscale("log")
    top.set_ylabel("cycles / image")
    top.set_title(f"{result.board['name']} @ {result.clock_mhz:g} MHz: {result.fps:,.0f} FPS "
                  f"(bottleneck {result.bottleneck}, red)")
    width = 0.4
    for offset, key, label in ((-width / 2, "lut", "LUT"), (width / 2, "bram18", "BRAM18")):
        cap = result.capacity[key] or 1
        shares = [100 * getattr(s.resources, key) / cap for s in stages]
        total = f"{label} ({result.utilization[key]:.0%} total)"
        bottom.bar([x + offset for x in xs], shares, width=width, label=total)
    bottom.set_ylabel("% of board")
    bottom.legend(loc="upper right")
    bottom.set_xticks(list(xs))
    bottom.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    return path
