# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Piecewise-affine requantizers: exact on the whole domain, chosen for many-level outputs, and
far cheaper than 255 parallel thresholds; binary-search thresholds for what does not fit."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.cost import SEARCH_MIN_THRESHOLDS, memory, threshold_compare, \
    threshold_unit
from pynq_bnn.compiler.hw.affine import affine_resources, apply_piecewise_affine, \
    fit_piecewise_affine
from pynq_bnn.compiler.hls.params import affine_cpp, thresholds_cpp
from pynq_bnn.compiler.hw.requantize import ChannelFunctionError, Requantize, \
    channel_function_resources, fit_channel_function


def _bn_int8_table(xs, gamma, beta, scale=2.0 ** -4):
    """BN then the int8 residual quantizer, evaluated in float32 by torch (half-to-even)."""
    x = torch.tensor(xs, dtype=torch.float32)[None, :]
    y = torch.tensor(gamma)[:, None] * x + torch.tensor(beta)[:, None]
    return torch.clamp(torch.round(y / scale), -128, 127).to(torch.int64).numpy()


def _rprelu_int8_table(xs, gamma, beta, zeta, scale=2.0 ** -4):
    """RPReLU on an int residual sum at ``scale``, requantized to int8 (FracBNN's unit output)."""
    v = torch.tensor(xs, dtype=torch.float32)[None, :] * scale
    g, b, z = (torch.tensor(t)[:, None] for t in (gamma, beta, zeta))
    y = torch.where(v > g, v - g + z, b * (v - g) + z)
    return torch.clamp(torch.round(y / scale), -128, 127).to(torch.int64).numpy()


def test_bn_int8_table_is_one_exact_piece_per_channel():
    rng = np.random.default_rng(0)
    xs = np.arange(-1728, 1729)
    gamma = (rng.uniform(0.002, 0.05, 32) * rng.choice([-1, 1], 32)).astype(np.float32)
    beta = rng.normal(0, 1, 32).astype(np.float32)
    table = _bn_int8_table(xs, gamma, beta)
    params = fit_piecewise_affine(xs, table)
    assert params is not None and params["mul"].shape == (32, 1)
    assert np.sign(params["mul"][:, 0]).tolist() == np.sign(gamma).tolist()
    grid = np.broadcast_to(xs[:, None], (xs.size, 32))
    np.testing.assert_array_equal(apply_piecewise_affine(grid, params).T, table)


def test_rprelu_table_takes_two_pieces_with_the_knee_at_gamma():
    rng = np.random.default_rng(1)
    xs = np.arange(-256, 256)
    gamma = rng.normal(0, 2, 16).astype(np.float32)
    table = _rprelu_int8_table(xs, gamma, rng.uniform(-0.5, 0.5, 16).astype(np.float32),
                               rng.normal(0, 1, 16).astype(np.float32))
    params = fit_piecewise_affine(xs, table)
    assert params["mul"].shape == (16, 2)
    # the knee is where the slopes change; the greedy first piece may run a few rounded points
    # past gamma (on the integer grid of the sum, 16 * gamma) while they still fit it
    offset = params["knees"][:, 0] - gamma * 16
    assert np.all((offset >= -1) & (offset <= 3))
    x = np.random.default_rng(2).integers(-256, 256, size=(7, 3, 16))
    np.testing.assert_array_equal(apply_piecewise_affine(x, params),
                                  table[np.arange(16), x + 256])


def test_constant_and_unfittable_tables():
    params = fit_piecewise_affine(np.arange(5), np.full((2, 5), 3))
    assert params["mul"].tolist() == [[0], [0]]
    np.testing.assert_array_equal(apply_piecewise_affine(np.arange(5)[:, None] * [1, 1], params), 3)
    zigzag = np.array([[0, 3, 1, 4, 2, 5, 0, 3]])
    assert fit_piecewise_affine(np.arange(8), zigzag, max_pieces=2) is None
    with pytest.raises(ValueError, match="consecutive"):
        fit_piecewise_affine(np.array([0, 2, 3]), zigzag[:, :3])


def test_round_half_even_average_is_not_affine_and_falls_back_to_thresholds():
    """A global-pool requantizer round(sum / 64) breaks ties to even: no few-piece affine form,
    so the auto mode keeps the exact thresholds (a binary-search unit in hardware)."""
    xs = np.arange(-2048, 2048)
    table = np.clip(np.round(xs / 64.0), -128, 127).astype(np.int64)[None, :].repeat(2, 0)
    assert fit_piecewise_affine(xs, table) is None
    fit = fit_channel_function(xs, table)
    assert fit["mode"] == "thresholds"
    with pytest.raises(ChannelFunctionError, match="piecewise-affine"):
        fit_channel_function(xs, table, mode="affine")


def test_auto_mode_picks_affine_only_for_many_levels():
    xs = np.arange(-300, 301)
    few = np.clip(np.round(xs[None, :] / 100.0), -1, 2).astype(np.int64)  # 4 levels
    assert fit_channel_function(xs, few)["mode"] == "thresholds"
    many = _bn_int8_table(xs, np.array([0.01, -0.03], np.float32), np.array([0.2, 1.0], np.float32))
    fit = fit_channel_function(xs, many)
    assert fit["mode"] == "affine"
    layer = Requantize("rq", ["x"], "y", fit["params"], SPATIAL=[3], IN_CH=2, OUT_CH=2,
                       in_dtype="INT10", out_dtype="INT8", MODE="affine")
    x = np.random.default_rng(3).integers(-300, 301, size=(4, 3, 2))
    np.testing.assert_array_equal(layer.reference(x), many[np.arange(2), x + 300])


def test_affine_unit_is_far_cheaper_than_255_parallel_thresholds():
    xs = np.arange(-1728, 1729)
    table = _bn_int8_table(xs, np.full(64, 0.01, np.float32), np.zeros(64, np.float32))
    affine = fit_channel_function(xs, table, "affine")
    thresholds = fit_channel_function(xs, table, "thresholds")
    a = channel_function_resources("affine", affine["params"], 13, 8, 64, 1)
    t = channel_function_resources("thresholds", thresholds["params"], 13, 8, 64, 1)
    parallel = threshold_compare(255, 13)
    assert a.dsp == 1 and a.lut < 200
    assert t.lut < parallel.lut / 5  # 255 thresholds -> binary search, not 255 comparators
    assert affine_resources(affine["params"], 13, 8, 64, 4).dsp == 4


def test_threshold_unit_switches_to_binary_search():
    n = SEARCH_MIN_THRESHOLDS - 1
    small = threshold_unit(n, 12, 64, 2)
    assert small == threshold_compare(n, 12, 2) + memory(depth=32, width=n * 12, copies=2)
    big = threshold_unit(255, 12, 64, 1)
    assert big.lut <= 8 * 12 + 64 * 12  # 8 comparator stages + small stage tables
    assert big.bram18 > 0  # the deep stages sit in block RAM


def test_rendered_activation_units():
    """Snapshots of the C++ parameter text of both new units (CONTRACT.md section 4)."""
    params = {"mul": np.array([[3, 1], [5, 5]]), "add": np.array([[-1, 4], [2, 2]]),
              "knees": np.array([[6], [10]]), "shift": 4, "clamp": [-8, 7]}
    assert affine_cpp("L_x", params, pe=2) == (
        "static const bnn::Affine<1, 2, 2, 4, -8, 7, int, int, int> L_x_act = {\n"
        "{{{3, 1}}, {{5, 5}}},\n{{{-1, 4}}, {{2, 2}}},\n{{{0, 6}}, {{0, 10}}}};\n"
        + "".join(f"#pragma HLS ARRAY_PARTITION variable = L_x_act.{member} complete dim = {dim}\n"
                  for member in ("mul", "add", "knee") for dim in (1, 3)))
    text = thresholds_cpp("L_t", np.arange(16)[None, :] * 2, pe=1, out_bias=-8)
    assert text.startswith("static const bnn::ThresholdSearch<1, 1, 5, int, -8> L_t_act = {\n"
                           "{{{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, "
                           "2147483647, ")  # 16 thresholds padded to 31 with a never-reached value
    assert "bnn::Thresholds<1, 1, 15," in thresholds_cpp("L_p", np.arange(15)[None, :], pe=1)
