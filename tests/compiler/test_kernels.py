# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The shared numpy kernels: XNOR-popcount, two integers per float32, tables, windows."""
import numpy as np
import pytest

from pynq_bnn.compiler import kernels


def test_xnor_popcount_matmul_equals_the_bipolar_product():
    rng = np.random.default_rng(0)
    for k in (1, 63, 64, 65, 200):
        a = rng.integers(0, 2, (37, k), dtype=np.uint8)
        b = rng.integers(0, 2, (5, k), dtype=np.uint8)
        want = (2 * a.astype(np.int64) - 1) @ (2 * b.astype(np.int64) - 1).T
        got = kernels.xnor_popcount_matmul(kernels.pack_bits(a), kernels.pack_bits(b), k,
                                           block_bytes=64)
        np.testing.assert_array_equal(got, want)


def test_popcount64_counts_every_bit():
    words = np.array([0, 1, 2 ** 63, 2 ** 64 - 1, 0x5555555555555555], dtype=np.uint64)
    assert kernels.popcount64(words).tolist() == [0, 1, 1, 64, 32]


def test_pairs_are_exact_at_the_bound_and_the_shift_refuses_beyond():
    bound = 576
    shift = kernels.pair_shift(bound)
    assert shift == 11 and kernels.pair_shift(5000) == 0  # 5000 * (2^14 + 1) > 2^24
    a = np.array([-bound, bound, 0, -1, 7], np.float32)
    b = np.array([bound, -bound, -bound, 1, 0], np.float32)
    low, high = kernels.split_pairs(a + np.float32(2 ** shift) * b, shift)
    np.testing.assert_array_equal(low, a)
    np.testing.assert_array_equal(high, b)


def test_conv_gemm_row_windows_equal_full_windows():
    rng = np.random.default_rng(1)
    padded = rng.integers(-1, 2, (3, 7, 6, 4)).astype(np.float32)
    weights = rng.integers(-1, 2, (3 * 3 * 4, 5)).astype(np.float32)
    for stride in (1, 2):
        out_hw = ((7 - 3) // stride + 1, (6 - 3) // stride + 1)
        full = kernels.im2col(padded, 3, stride, out_hw).reshape(-1, 36) @ weights
        np.testing.assert_array_equal(kernels.conv_gemm(padded, weights, 3, stride, out_hw), full)


def test_channel_table_gathers_the_function_and_checks_its_domain():
    def function(grid):  # a different function per channel, outputs 0..9 and 0..4
        return (grid + 4) // np.array([1, 2])

    table = kernels.ChannelTable(function, -4, 5, 2)
    x = np.array([[-4, 5], [0, -1]], np.int8)
    np.testing.assert_array_equal(table(x), function(x.astype(np.int64)))
    assert table.covers(x) and not table.covers(np.array([[6, 0]]))
    mapped = table.mapped(np.arange(10) * 10)
    np.testing.assert_array_equal(mapped(np.array([[1, 1]])), [[50, 20]])
    with pytest.raises(IndexError):
        table.mapped(np.arange(3))


def test_sum_dtype_is_exact_for_any_input_values():
    a8 = np.zeros(1, np.int8)
    assert kernels.sum_dtype([(a8, 0), (a8, 0)]) == np.int16
    assert kernels.sum_dtype([(a8, 8), (a8, 0)]) == np.int32
    assert kernels.sum_dtype([(np.zeros(1, np.int64), 1)]) == np.int64


def test_cached_rebuilds_when_the_arrays_change():
    class Owner:
        pass

    owner, calls = Owner(), []
    arr = np.arange(3)
    assert kernels.cached(owner, "k", [arr], lambda: calls.append(1) or len(calls)) == 1
    assert kernels.cached(owner, "k", [arr], lambda: calls.append(1) or len(calls)) == 1
    arr[0] = 9
    assert kernels.cached(owner, "k", [arr], lambda: calls.append(1) or len(calls)) == 2
