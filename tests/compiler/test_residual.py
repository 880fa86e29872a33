# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""AddStreams: exact shifted add of two same-grid integer streams, with saturation."""
import numpy as np
import pytest
import torch

from pynq_bnn.compiler.hw.residual import AddStreams, type_range
from pynq_bnn.compiler.hw.base import StreamType


def _add(**kw):
    attrs = dict(SPATIAL=[4, 4], CH=8, a_dtype="INT8", b_dtype="INT10", out_dtype="INT11")
    attrs.update(kw)
    return AddStreams("add", ["a", "b"], "y", **attrs)


def test_add_equals_float_sum_of_power_of_two_scaled_streams():
    """branch (scale 2^-4) + avg-pooled shortcut (scale 2^-6): float32 sum == integer sum."""
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=(3, 4, 4, 8))
    b = rng.integers(-512, 512, size=(3, 4, 4, 8))
    layer = _add(SHIFT_A=2)
    got = layer.reference(a, b)
    a32, b32 = (torch.tensor(v, dtype=torch.float32) for v in (a, b))
    float_sum = a32 * 2 ** -4 + b32 * 2 ** -6
    np.testing.assert_array_equal(got, (float_sum * 2 ** 6).numpy().astype(np.int64))


def test_saturation_and_shapes():
    layer = _add(out_dtype="INT8")
    a = np.full((1, 4, 4, 8), 100)
    out = layer.reference(a, a)
    assert out.max() == 127 and layer.reference(-a, -a).min() == -128
    with pytest.raises(ValueError, match="shapes differ"):
        layer.reference(a, a[:, :2])
    assert layer.in_shapes() == [(4, 4, 8), (4, 4, 8)] and layer.out_shape() == (4, 4, 8)


def test_folding_cycles_resources():
    layer = _add(PE=4, FIFO_DEPTH=1024)
    assert layer.check_folding() == [] and layer.cycles() == 4 * 4 * 8 // 4
    assert _add(PE=3).check_folding() and _add(SHIFT_B=-1).check_folding()
    deep, shallow = layer.resources(None), _add(PE=4).resources(None)
    # the shortcut FIFO is a stream of the top level, priced at its declared depth with every
    # other FIFO (compiler/stream_cost.py), not inside the adder
    assert deep == shallow and deep.bram18 == 0


def test_type_range():
    assert type_range(StreamType.parse("INT8")) == (-128, 127)
    assert type_range(StreamType.parse("UINT4")) == (0, 15)
    assert type_range(StreamType.parse("BIPOLAR")) == (0, 1)
