# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Requantize: exhaustive tables -> thresholds / LUT reproduce every table entry exactly."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.hw.requantize import (ChannelFunctionError, Requantize, apply_thresholds,
                                             fit_channel_function, stream_type_for_range)


def _bn_frac2_table(x_values, gamma, beta):
    """FracBNN 2-bit quantizer after a float32 BN, evaluated with torch (half-to-even rounding)."""
    x = torch.tensor(x_values, dtype=torch.float32)[None, :]
    y = torch.tensor(gamma, dtype=torch.float32)[:, None] * x + torch.tensor(beta)[:, None]
    code = torch.round((torch.clamp(y, -1, 1) + 1) / (2 / 3))
    return code.to(torch.int64).numpy()


def _layer(fit, in_ch, out_ch, src=None, out_dtype="UINT2"):
    params = dict(fit["params"])
    if src is not None:
        params["src"] = np.asarray(src)
    return Requantize("rq", ["x"], "y", params, SPATIAL=[2, 3], IN_CH=in_ch, OUT_CH=out_ch,
                      in_dtype="INT10", out_dtype=out_dtype, MODE=fit["mode"],
                      in_min=fit["in_min"], out_bias=fit["out_bias"])


def test_thresholds_reproduce_monotone_table_including_negative_scale():
    xs = np.arange(-300, 301)
    gamma = np.array([0.01, -0.02, 0.005, 0.0], dtype=np.float32)  # decreasing and constant rows
    beta = np.array([0.1, -0.3, 2.0, 0.2], dtype=np.float32)
    table = _bn_frac2_table(xs, gamma, beta)
    fit = fit_channel_function(xs, table)
    assert fit["mode"] == "thresholds"
    assert fit["params"]["direction"].tolist() == [1, -1, 1, 1]
    layer = _layer(fit, 4, 4)
    x = np.broadcast_to(xs[:600, None], (600, 4)).reshape(100, 2, 3, 4)
    got = layer.reference(x)
    expect = table[np.arange(4), x - xs[0]]
    np.testing.assert_array_equal(got, expect)


def test_non_monotone_row_falls_back_to_lut_and_is_exact():
    xs = np.arange(-20, 21)
    prelu = np.where(xs >= 0, xs, -2 * xs)  # PReLU with a negative slope: not monotone
    table = np.stack([prelu, xs + 20])
    assert fit_channel_function(xs, table)["mode"] == "affine"  # 61 levels: two affine pieces
    few = np.minimum(table, 7)  # 8 levels: below the affine cut-off, not monotone -> LUT
    assert fit_channel_function(xs, few)["mode"] == "lut"
    fit = fit_channel_function(xs, table, mode="lut")
    with pytest.raises(ChannelFunctionError, match="not monotone"):
        fit_channel_function(xs, table, mode="thresholds")
    layer = _layer(fit, 2, 2, out_dtype="UINT6")
    x = np.random.randint(-20, 21, size=(5, 2, 3, 2))
    np.testing.assert_array_equal(layer.reference(x), table[np.arange(2), x + 20])
    with pytest.raises(ChannelFunctionError, match="outside the LUT range"):
        layer.reference(x + 100)


def test_src_fans_one_channel_out_to_several_thresholds():
    """RepConv: beta^2 = 4 copies of one accumulator, each with its own threshold."""
    xs = np.arange(-9, 10)
    table = np.stack([(xs >= t).astype(int) for t in (-3, 0, 2, 5)] * 2)  # 8 outputs, 2 sources
    fit = fit_channel_function(xs, table)
    layer = _layer(fit, 2, 8, src=[0, 1] * 4, out_dtype="BIPOLAR")
    x = np.random.randint(-9, 10, size=(7, 2, 3, 2))
    got = layer.reference(x)
    expect = table[np.arange(8), x[..., [0, 1] * 4] + 9]
    np.testing.assert_array_equal(got, expect)
    assert layer.resources("pynq-z2").lut > 0 and layer.cycles() == 6 * 8


def test_apply_thresholds_matches_definition_and_folding_rules():
    x = np.array([[-5, 0, 7]])
    t = np.array([[-5, 1], [0, 0], [8, 9]])
    assert apply_thresholds(x, t, out_bias=-1).tolist() == [[0, 1, -1]]
    assert apply_thresholds(x, t, direction=[-1, 1, -1]).tolist() == [[2, 2, 0]]
    layer = Requantize("r", ["x"], "y", {"thresholds": t}, SPATIAL=[], IN_CH=3, OUT_CH=3,
                       in_dtype="INT4", out_dtype="UINT2", PE=2)
    assert layer.check_folding() and layer.folding_space() == {"PE": [1, 3]}


@pytest.mark.parametrize("lo,hi,name", [(0, 1, "UINT1"), (0, 255, "UINT8"), (-128, 127, "INT8"),
                                         (-129, 0, "INT9"), (-3, 300, "INT10")])
def test_stream_type_for_range(lo, hi, name):
    assert stream_type_for_range(lo, hi).name == name
