# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Folding: choose the parallelism (PE, SIMD, ...) of every HW layer, or validate a given one.

Vocabulary (FINN): a layer with ``MH`` outputs and ``MW`` inputs per output processes ``PE``
outputs and ``SIMD`` inputs per cycle, so it needs ``NF = MH/PE`` x ``SF = MW/SIMD`` cycles per
pixel. A streaming dataflow pipeline runs at ``FPS = f_clk / max_layer cycles``: the slowest layer
sets the rate, so every layer only needs to be as fast as the target, and no faster.

Generic by construction: this module only calls the HW layer interface — ``folding_space()``
(the legal values of each axis), ``check_folding()`` (layer-specific rules), ``cycles()`` and
``resources(board)`` — so adding a HW layer never touches it.

Search (:func:`fold_for_fps`): for each layer independently, enumerate its legal foldings and
pick the *cheapest* one whose ``cycles() <= f_clk / target_fps``. Cheapness is the layer's
resources as a fraction of the board (``sum_r amount_r / capacity_r``), so block-RAM aspect
effects are priced by the cost model rather than by a fixed rule. This reproduces FINN's
heuristic — raise SIMD first while the per-PE weight word stays ≤ 36 bits (one RAMB18 width),
then PE — where it is right, because a wider-than-36-bit word costs more, emptier BRAMs; ties
are broken FINN's way (larger SIMD, then smaller PE).

Search (:func:`fold_to_fit`): the fastest design whose total — layers, the top level's plumbing
(every stream FIFO at its declared depth, the fork/shortcut FIFOs, width converters; see
:mod:`pynq_bnn.compiler.stream_cost`) and the platform shell, i.e. exactly what
:func:`~pynq_bnn.compiler.estimate.estimate` counts — stays under a utilisation cap (default 80%
of every resource). For a candidate bottleneck ``T`` cycles, each layer takes its cheapest
folding with ``cycles <= T``; the distinct ``T`` are scanned from the fastest. The plumbing
depends on the folding (stream widths, converters) only weakly — a one-image fork FIFO holds the
same bits at any lane count — so each candidate is first screened with the plumbing of the
graph's current folding and, if it passes, checked exactly by rendering its top level; the
first candidate that passes the exact check wins. At each ``T`` two pricings of the layer
options are tried: by what is left of each resource after the shell and plumbing
(:func:`_budget_prices`, so a resource the FIFOs have nearly used up is spared), then by board
share (:func:`resource_cost`).

Folding files are JSON: ``{"layer name": {"PE": 16, "SIMD": 32}, ...}``.
"""
from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pynq_bnn.compiler.boards import Board, get_board
from pynq_bnn.compiler.cost import platform_shell
from pynq_bnn.compiler.hw.base import Resources

__all__ = [
    "FoldingError", "FoldingOption", "FoldingResult", "SetFolding", "ValidateFolding",
    "apply_folding", "get_folding", "validate_folding", "folding_options", "fold_for_fps",
    "fold_to_fit", "load_folding", "save_folding", "divisors", "resource_cost",
    "plumbing_resources",
]

log = logging.getLogger(__name__)

RESOURCE_KEYS = ("lut", "ff", "bram18", "dsp", "uram")
# Tie-break order: prefer the larger value of these axes first (FINN: raise SIMD before PE).
_PREFER_LARGE = ("SIMD",)


class FoldingError(ValueError):
    """A folding is invalid, a target cannot be met, or a design cannot fit a board."""


def divisors(n: int) -> list:
    """Ascending divisors of a positive integer (the usual legal PE/SIMD values)."""
    if n < 1:
        raise ValueError(f"divisors: n must be a positive integer, got {n}")
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _layers(graph_or_layers) -> list:
    layers = getattr(graph_or_layers, "layers", graph_or_layers)
    return list(layers)


def _describe(layer) -> str:
    return f"layer {layer.name!r} ({layer.kind})"


def resource_cost(res: Resources, board: Board) -> float:
    """Scalar cost of ``res`` on ``board``: ``sum_r res_r / capacity_r`` (inf if unavailable)."""
    cost, capacity = 0.0, board.capacity()
    for key in RESOURCE_KEYS:
        amount = getattr(res, key)
        if amount > 0:
            cost += amount / capacity[key] if capacity[key] else math.inf
    return cost


def get_folding(graph_or_layers) -> dict:
    """The current folding ``{layer name: {axis: value}}`` (layers without axes are omitted)."""
    out = {}
    for layer in _layers(graph_or_layers):
        axes = list(layer.folding_space())
        if axes:
            out[layer.name] = {axis: layer.attrs[axis] for axis in axes}
    return out


def _problems(layer) -> list:
    problems = []
    for axis, legal in layer.folding_space().items():
        value = layer.attrs.get(axis)
        if value not in legal:
            problems.append(f"{_describe(layer)}: {axis}={value!r} is not a legal value "
                            f"(legal: {list(legal)})")
    problems += [f"{_describe(layer)}: {p}" for p in layer.check_folding()]
    return problems


def validate_folding(graph_or_layers) -> None:
    """Check every layer's folding before any code generation.

    Raises:
        FoldingError: listing every problem, each naming the layer and the violated rule.
    """
    problems = [p for layer in _layers(graph_or_layers) for p in _problems(layer)]
    if problems:
        raise FoldingError("invalid folding:\n  " + "\n  ".join(problems))


def apply_folding(graph_or_layers, folding, validate: bool = True) -> None:
    """Set the folding from a dict or a JSON file ``{layer name: {axis: value}}``.

    Unknown layer names or axes are rejected (the message lists the known ones); with
    ``validate`` the result is checked with :func:`validate_folding`.
    """
    if isinstance(folding, (str, os.PathLike)):
        folding = load_folding(folding)
    by_name = {layer.name: layer for layer in _layers(graph_or_layers)}
    for name, axes in folding.items():
        if name not in by_name:
            raise FoldingError(f"folding names unknown layer {name!r}; layers: {sorted(by_name)}")
        layer = by_name[name]
        space = layer.folding_space()
        for axis, value in axes.items():
            if axis not in space:
                raise FoldingError(f"{_describe(layer)} has no folding axis {axis!r}; "
                                   f"axes: {sorted(space)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not float(value).is_integer() or value < 1:
                raise FoldingError(f"{_describe(layer)}: {axis} must be a whole number >= 1, "
                                   f"got {value!r}")
            layer.attrs[axis] = int(value)
    if validate:
        validate_folding(graph_or_layers)


def save_folding(folding: dict, path) -> None:
    """Write a folding dict as JSON (atomically: a temporary file renamed into place)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(folding, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def load_folding(path) -> dict:
    """Read a folding JSON file (a dict of dicts of ints)."""
    with open(path) as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise FoldingError(f"{path}: a folding file is {{layer name: {{axis: value}}}}")
    return data


@dataclass(frozen=True)
class FoldingOption:
    """One legal folding of one layer with its cost."""

    folding: dict
    cycles: int
    resources: Resources
    cost: float

    def tie_key(self) -> tuple:
        prefer = tuple(-self.folding.get(axis, 0) for axis in _PREFER_LARGE)
        rest = tuple(v for k, v in sorted(self.folding.items()) if k not in _PREFER_LARGE)
        return (self.cost, self.cycles) + prefer + rest


def folding_options(layer, board, prices: dict | None = None) -> list:
    """All legal foldings of ``layer`` (``check_folding()`` empty), sorted by cycles.

    Each option's cost is :func:`resource_cost`, or ``sum_r amount_r * prices[r]`` when
    ``prices`` is given (see :func:`fold_to_fit`). The layer's own attributes are restored
    afterwards.
    """
    board = get_board(board)
    space = layer.folding_space()
    axes = list(space)
    saved = {axis: layer.attrs.get(axis) for axis in axes}
    options = []
    try:
        for values in itertools.product(*(space[a] for a in axes)):
            layer.attrs.update(zip(axes, values))
            if layer.check_folding():
                continue
            res = layer.resources(board)
            price = (resource_cost(res, board) if prices is None else
                     sum(getattr(res, k) * prices[k] for k in RESOURCE_KEYS if getattr(res, k)))
            options.append(FoldingOption(dict(zip(axes, values)), int(layer.cycles()), res,
                                         price))
    finally:
        layer.attrs.update(saved)
    if not options:
        raise FoldingError(f"{_describe(layer)} has no legal folding in its folding_space {space}")
    options.sort(key=lambda o: (o.cycles, o.tie_key()))
    return options


class _Choices:
    """Per layer: options sorted by cycles plus the index of the cheapest one up to each."""

    def __init__(self, layer, board, prices=None):
        self.layer = layer
        self.options = folding_options(layer, board, prices)
        self.cycles = [o.cycles for o in self.options]
        self.best_upto, best = [], 0
        for i, option in enumerate(self.options):
            if option.tie_key() < self.options[best].tie_key():
                best = i
            self.best_upto.append(best)

    def cheapest_within(self, max_cycles: int):
        i = bisect.bisect_right(self.cycles, max_cycles) - 1
        return None if i < 0 else self.options[self.best_upto[i]]


@dataclass
class FoldingResult:
    """Outcome of a folding search (the folding is also applied to the layers)."""

    folding: dict
    fps: float
    bottleneck: str
    max_cycles: int
    resources: Resources
    utilization: dict = field(default_factory=dict)
    clock_mhz: float = 0.0

    def as_dict(self) -> dict:
        return {"folding": self.folding, "fps": self.fps, "bottleneck": self.bottleneck,
                "max_cycles": self.max_cycles, "resources": self.resources.as_dict(),
                "utilization": self.utilization, "clock_mhz": self.clock_mhz}


def _caps(max_utilization) -> dict:
    if isinstance(max_utilization, dict):
        unknown = set(max_utilization) - set(RESOURCE_KEYS)
        if unknown:
            raise ValueError(f"max_utilization keys must be among {RESOURCE_KEYS}, got {unknown}")
        return {k: float(max_utilization.get(k, 1.0)) for k in RESOURCE_KEYS}
    return {k: float(max_utilization) for k in RESOURCE_KEYS}


def _utilization(res: Resources, board: Board) -> dict:
    cap = board.capacity()
    return {k: (getattr(res, k) / cap[k] if cap[k] else (math.inf if getattr(res, k) else 0.0))
            for k in RESOURCE_KEYS}


def plumbing_resources(graph_or_layers, board) -> Resources:
    """Resources of the top level's FIFOs and helpers at the current folding (zero for a list
    of layers or a graph that cannot be rendered: the estimate then says so in its notes)."""
    from pynq_bnn.compiler.hls.topgen import HlsRenderError
    from pynq_bnn.compiler.stream_cost import graph_plumbing

    if not hasattr(graph_or_layers, "input_name"):
        return Resources()
    try:
        items = graph_plumbing(graph_or_layers, get_board(board).axi_width)
    except (HlsRenderError, NotImplementedError, KeyError, ValueError):
        return Resources()
    total = Resources()
    for item in items:
        total = total + item.resources
    return total


def _budget_prices(overhead: Resources, board: Board, caps: dict) -> dict:
    """Price of one unit of each resource for :func:`fold_to_fit`: ``1 / (cap_r * capacity_r -
    overhead_r)``, the inverse of what the layers may still use once the shell and the top
    level's plumbing are placed. A resource the plumbing has nearly used up (block RAM under
    fracbnn's shortcut FIFOs) becomes expensive, so layers take the options that spend another
    one (LUTRAM weights, DSPs) — :func:`resource_cost` prices every resource alike instead."""
    total = platform_shell() + overhead
    cap = board.capacity()
    prices = {}
    for key in RESOURCE_KEYS:
        left = caps[key] * cap[key] - getattr(total, key)
        prices[key] = math.inf if cap[key] == 0 else 1.0 / max(left, 1e-3 * cap[key])
    return prices


def _select(choices, max_cycles, board, clock_mhz, plumbing=None) -> FoldingResult:
    picks = [c.cheapest_within(max_cycles) for c in choices]
    total = platform_shell() + (plumbing or Resources())
    for pick in picks:
        total = total + pick.resources
    slowest = max(range(len(picks)), key=lambda i: picks[i].cycles)
    cycles = picks[slowest].cycles
    return FoldingResult(
        folding={c.layer.name: dict(p.folding) for c, p in zip(choices, picks) if p.folding},
        fps=clock_mhz * 1e6 / cycles, bottleneck=choices[slowest].layer.name, max_cycles=cycles,
        resources=total, utilization=_utilization(total, board), clock_mhz=clock_mhz)


def _fits(result: FoldingResult, caps: dict) -> bool:
    return all(result.utilization[k] <= caps[k] + 1e-12 for k in RESOURCE_KEYS)


def _over(result: FoldingResult, caps: dict) -> str:
    return ", ".join(f"{k} {result.utilization[k]:.0%} > {caps[k]:.0%}" for k in RESOURCE_KEYS
                     if result.utilization[k] > caps[k] + 1e-12)


def fold_for_fps(graph_or_layers, target_fps: float, board, clock_mhz: float | None = None,
                 max_utilization=None) -> FoldingResult:
    """Cheapest folding of every layer that reaches ``target_fps`` (applied to the layers).

    Args:
        graph_or_layers: a dataflow graph (``.layers``) or a list of HW layers.
        target_fps: images per second the pipeline must sustain.
        board: board name or :class:`~pynq_bnn.compiler.boards.Board` (prices resources).
        clock_mhz: fabric clock; default the board's.
        max_utilization: if given (a fraction, or a dict per resource), also require the design
            to fit under that cap.

    Raises:
        FoldingError: the target is unreachable (the message gives the best achievable FPS and
            the limiting layer), or the design does not fit the cap (the message gives the
            fastest FPS that fits, from :func:`fold_to_fit`).
    """
    board = get_board(board)
    clock_mhz = float(clock_mhz or board.clock_mhz)
    if target_fps <= 0:
        raise ValueError(f"target_fps must be positive, got {target_fps}")
    layers = _layers(graph_or_layers)
    choices = [_Choices(layer, board) for layer in layers]
    budget = math.floor(clock_mhz * 1e6 / target_fps)
    floor_cycles = [c.cycles[0] for c in choices]
    worst = max(range(len(choices)), key=lambda i: floor_cycles[i])
    if floor_cycles[worst] > budget:
        limit = choices[worst]
        raise FoldingError(
            f"target {target_fps:g} FPS at {clock_mhz:g} MHz needs <= {budget} cycles per layer; "
            f"the best achievable is {clock_mhz * 1e6 / floor_cycles[worst]:.1f} FPS, limited by "
            f"{_describe(limit.layer)} at {floor_cycles[worst]} cycles with its fastest folding "
            f"{limit.options[0].folding}")
    result = _select(choices, budget, board, clock_mhz)
    if max_utilization is not None or hasattr(graph_or_layers, "input_name"):
        before = get_folding(layers)
        apply_folding(layers, result.folding)
        plumbing = plumbing_resources(graph_or_layers, board)
        apply_folding(layers, before, validate=False)
        result = _select(choices, budget, board, clock_mhz, plumbing)
    if max_utilization is not None and not _fits(result, _caps(max_utilization)):
        caps = _caps(max_utilization)
        try:
            best = fold_to_fit(graph_or_layers, board, clock_mhz, max_utilization).fps
            hint = f"the fastest design that fits is {best:.1f} FPS"
        except FoldingError as exc:
            hint = str(exc)
        raise FoldingError(f"folding for {target_fps:g} FPS does not fit {board.name} "
                           f"({_over(result, caps)}); {hint}")
    apply_folding(layers, result.folding)
    log.info("folded for %.1f FPS: %.1f FPS, bottleneck %s", target_fps, result.fps,
             result.bottleneck)
    return result


def fold_to_fit(graph_or_layers, board, clock_mhz: float | None = None,
                max_utilization=0.8) -> FoldingResult:
    """Fastest folding whose total resources stay under ``max_utilization`` of ``board``.

    Raises:
        FoldingError: even the smallest folding does not fit (names the over-used resources
            and the layer using most of the first one).
    """
    board = get_board(board)
    clock_mhz = float(clock_mhz or board.clock_mhz)
    caps = _caps(max_utilization)
    layers = _layers(graph_or_layers)
    before = get_folding(layers)
    screen = plumbing_resources(graph_or_layers, board)
    tried = []
    shares = [_Choices(layer, board) for layer in layers]
    while True:
        budget = [_Choices(layer, board, _budget_prices(screen, board, caps)) for layer in layers]
        targets = sorted({cyc for c in shares for cyc in c.cycles})
        slowest_floor = max(c.cycles[0] for c in shares)
        for max_cycles in (t for t in targets if t >= slowest_floor):
            for choices in (budget, shares):
                if not _fits(_select(choices, max_cycles, board, clock_mhz, screen), caps):
                    continue
                result = _select(choices, max_cycles, board, clock_mhz)
                apply_folding(layers, result.folding)
                exact = _select(choices, max_cycles, board, clock_mhz,
                                plumbing_resources(graph_or_layers, board))
                if _fits(exact, caps):
                    return exact
        # Nothing passed: screen again with the plumbing of the smallest design (the current
        # folding's plumbing may be far larger, e.g. wide streams of a fast folding), once.
        choices = shares  # the smallest design by board share
        smallest = _select(choices, targets[-1], board, clock_mhz)
        apply_folding(layers, smallest.folding, validate=False)
        plumbing = plumbing_resources(graph_or_layers, board)
        smallest = _select(choices, targets[-1], board, clock_mhz, plumbing)
        tried.append(screen)
        if plumbing in tried:
            break
        screen = plumbing
    apply_folding(layers, before, validate=False)
    over = [k for k in RESOURCE_KEYS if smallest.utilization[k] > caps[k] + 1e-12]
    key = over[0] if over else "lut"
    heaviest = max(choices, key=lambda c: getattr(c.cheapest_within(targets[-1]).resources, key))
    raise FoldingError(
        f"no folding fits {board.name} under the cap: even the smallest design uses "
        f"{_over(smallest, caps)} (it would run at {smallest.fps:.1f} FPS); the largest {key} "
        f"user is {_describe(heaviest.layer)}")


class ValidateFolding:
    """Pass-style wrapper: ``apply(graph) -> (graph, False)``; raises :class:`FoldingError`."""

    def apply(self, graph):
        validate_folding(graph)
        return graph, False


class SetFolding:
    """Pass-style wrapper over :func:`fold_for_fps` / :func:`fold_to_fit` / a folding file.

    Exactly one of ``target_fps``, ``folding`` (dict or JSON path) or ``fit=True`` is used, in
    that order of precedence. ``apply(graph) -> (graph, changed)``; ``self.result`` keeps the
    :class:`FoldingResult` of a search.
    """

    def __init__(self, board, target_fps=None, folding=None, fit: bool = False,
                 clock_mhz=None, max_utilization=0.8):
        if target_fps is None and folding is None and not fit:
            raise ValueError("SetFolding needs target_fps, folding or fit=True")
        self.board, self.target_fps, self.folding, self.fit = board, target_fps, folding, fit
        self.clock_mhz, self.max_utilization = clock_mhz, max_utilization
        self.result = None

    def apply(self, graph):
        before = get_folding(graph)
        if self.target_fps is not None:
            self.result = fold_for_fps(graph, self.target_fps, self.board, self.clock_mhz)
        elif self.folding is not None:
            apply_folding(graph, self.folding)
        else:
            self.result = fold_to_fit(graph, self.board, self.clock_mhz, self.max_utilization)
        return graph, get_folding(graph) != before
