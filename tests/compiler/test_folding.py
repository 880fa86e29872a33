# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Generic folding: validation, target-FPS search, fits-budget search, JSON round trip.

Uses a small FINN-style matrix-vector layer defined here (not registered as a HW kind), so the
tests exercise only the HW-layer interface the folding module is allowed to call.
"""
import json
import math

import pytest

from pynq_bnn.compiler import cost
from pynq_bnn.compiler.boards import get_board
from pynq_bnn.compiler.folding import (
    FoldingError, SetFolding, ValidateFolding, apply_folding, divisors, fold_for_fps, fold_to_fit,
    folding_options, get_folding, load_folding, resource_cost, save_folding, validate_folding)
from pynq_bnn.compiler.hw.base import Attr, HWLayer, Resources


class ToyMVAU(HWLayer):
    """MW inputs x MH outputs per pixel, binary weights, cost from pynq_bnn.compiler.cost."""

    kind = "ToyMVAU"
    ATTRS = (Attr("MW", int), Attr("MH", int), Attr("PIXELS", int, 1),
             Attr("PE", int, 1), Attr("SIMD", int, 1))

    def folding_space(self):
        return {"PE": divisors(self.MH), "SIMD": divisors(self.MW)}

    def check_folding(self):
        issues = []
        if self.MH % self.PE:
            issues.append(f"PE={self.PE} must divide MH={self.MH}")
        if self.MW % self.SIMD:
            issues.append(f"SIMD={self.SIMD} must divide MW={self.MW}")
        return issues

    def cycles(self):
        return (self.MH // self.PE) * (self.MW // self.SIMD) * self.PIXELS

    def resources(self, board):
        depth = (self.MH // self.PE) * (self.MW // self.SIMD)
        acc = cost.popcount_bits(self.MW)
        return (cost.memory(depth, self.SIMD, copies=self.PE)
                + cost.xnor_popcount(self.SIMD, self.PE)
                + cost.accumulator(acc, self.PE) + cost.threshold_compare(1, acc, self.PE)
                + cost.layer_control(self.PE))


class Passthrough(HWLayer):
    """A layer without folding axes (e.g. a label select)."""

    kind = "Passthrough"
    ATTRS = (Attr("N", int),)

    def folding_space(self):
        return {}

    def check_folding(self):
        return []

    def cycles(self):
        return self.N

    def resources(self, board):
        return cost.layer_control(8)


def cnv_like():
    """Six conv MVAUs and three FCs with CNV's matrix sizes and pixel counts."""
    spec = [(27, 64, 900), (576, 64, 784), (576, 128, 144), (1152, 128, 100), (1152, 256, 9),
            (2304, 256, 1), (256, 512, 1), (512, 512, 1), (512, 10, 1)]
    layers = [ToyMVAU(f"mvau{i}", ["x"], f"y{i}", MW=mw, MH=mh, PIXELS=px)
              for i, (mw, mh, px) in enumerate(spec)]
    return layers + [Passthrough("top1", ["y8"], "out", N=10)]


def test_divisors():
    assert divisors(12) == [1, 2, 3, 4, 6, 12] and divisors(1) == [1] and divisors(49) == [1, 7, 49]
    with pytest.raises(ValueError):
        divisors(0)


def test_invalid_folding_is_rejected_naming_layer_and_rule():
    layers = cnv_like()
    layers[1].attrs.update(PE=3, SIMD=5)
    with pytest.raises(FoldingError) as info:
        validate_folding(layers)
    message = str(info.value)
    assert "'mvau1'" in message and "ToyMVAU" in message
    assert "PE=3 must divide MH=64" in message and "SIMD=5 must divide MW=576" in message
    assert "mvau0" not in message


def test_validate_folding_pass_accepts_legal_folding():
    layers = cnv_like()
    assert ValidateFolding().apply(layers) == (layers, False)


def test_apply_folding_rejects_unknown_names_and_axes():
    layers = cnv_like()
    with pytest.raises(FoldingError, match="unknown layer 'conv9'"):
        apply_folding(layers, {"conv9": {"PE": 1}})
    with pytest.raises(FoldingError, match="no folding axis 'PE'"):
        apply_folding(layers, {"top1": {"PE": 2}})
    with pytest.raises(FoldingError, match="mvau2"):
        apply_folding(layers, {"mvau2": {"PE": 7}})


def test_folding_json_round_trip(tmp_path):
    layers = cnv_like()
    fold_for_fps(layers, 1000, "Pynq-Z2")
    folding = get_folding(layers)
    assert set(folding) == {f"mvau{i}" for i in range(9)}  # the axis-less layer is omitted
    path = tmp_path / "folding.json"
    save_folding(folding, path)
    assert json.loads(path.read_text()) == load_folding(path) == folding
    fresh = cnv_like()
    changed = SetFolding("Pynq-Z2", folding=str(path)).apply(fresh)[1]
    assert changed and get_folding(fresh) == folding


def test_target_fps_met_with_cheapest_options():
    layers = cnv_like()
    board = get_board("Pynq-Z2")
    result = fold_for_fps(layers, 3000, board)
    budget = math.floor(100e6 / 3000)
    assert result.fps >= 3000 and result.max_cycles <= budget
    validate_folding(layers)
    for layer in layers:
        assert layer.cycles() <= budget
        if layer.folding_space():
            options = [o for o in folding_options(layer, board) if o.cycles <= budget]
            chosen = resource_cost(layer.resources(board), board)
            assert chosen == pytest.approx(min(o.cost for o in options))


def test_target_fps_search_is_monotone():
    board = get_board("Ultra96-V2")
    previous_cost, previous_fps = -1.0, 0.0
    for target in (300, 3_000, 10_000, 30_000):
        layers = cnv_like()
        result = fold_for_fps(layers, target, board)
        total = resource_cost(result.resources, board)
        assert result.fps >= target
        assert total >= previous_cost - 1e-12   # a faster target never costs less
        assert result.fps >= previous_fps
        previous_cost, previous_fps = total, result.fps


def test_simd_raised_before_pe_on_ties():
    layer = ToyMVAU("fc", ["x"], "y", MW=64, MH=64)
    fold_for_fps([layer], 100e6 / (64 * 64 / 4), "Pynq-Z2")  # needs 4x parallelism
    assert layer.PE * layer.SIMD == 4 and layer.SIMD >= layer.PE


def test_unreachable_target_reports_best_and_limiting_layer():
    layers = cnv_like()
    with pytest.raises(FoldingError) as info:
        fold_for_fps(layers, 1e9, "Pynq-Z2")
    message = str(info.value)
    assert "'mvau0'" in message and "900 cycles" in message      # 900 pixels, fully parallel
    assert f"{100e6 / 900:.1f} FPS" in message
    assert get_folding(layers)["mvau0"] == {"PE": 1, "SIMD": 1}  # nothing applied


def test_fit_budget_gives_fastest_design_under_cap():
    board = get_board("Pynq-Z2")
    layers = cnv_like()
    result = fold_to_fit(layers, board, max_utilization=0.8)
    assert all(result.utilization[k] <= 0.8 for k in ("lut", "bram18", "dsp", "ff"))
    validate_folding(layers)
    assert result.max_cycles == max(layer.cycles() for layer in layers)
    # any strictly faster target no longer fits under the cap
    with pytest.raises(FoldingError, match="does not fit"):
        fold_for_fps(cnv_like(), result.fps * 1.01, board, max_utilization=0.8)
    bigger = fold_to_fit(cnv_like(), "ZCU104", clock_mhz=100, max_utilization=0.8)
    assert bigger.fps >= result.fps


def test_fit_budget_impossible_names_resource_and_layer():
    with pytest.raises(FoldingError) as info:
        fold_to_fit(cnv_like(), "Pynq-Z2", max_utilization=0.01)
    message = str(info.value)
    assert "smallest design" in message and "lut" in message and "layer '" in message


def test_unavailable_resource_costs_infinity():
    assert resource_cost(Resources(uram=1), get_board("Pynq-Z2")) == math.inf
    assert resource_cost(Resources(uram=1), get_board("KV260")) == pytest.approx(1 / 64)


def test_set_folding_requires_a_goal():
    with pytest.raises(ValueError):
        SetFolding("Pynq-Z2")
