# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Resource-cost helpers: BRAM aspect ratios, LUTRAM choice, arithmetic blocks."""
import pytest

from pynq_bnn.compiler import cost


@pytest.mark.parametrize("depth, width, blocks", [
    (512, 36, 1), (1024, 18, 1), (16384, 1, 1), (2048, 9, 1),
    (512, 37, 2),      # one bit over the widest aspect: a second block
    (1024, 36, 2), (4096, 64, 16), (8192, 3, 2),
])
def test_bram18_blocks_follow_aspect_ratios(depth, width, blocks):
    res = cost.memory(depth, width, style="bram")
    assert res.bram18 == blocks and res.lut == 0


def test_auto_picks_lutram_for_small_or_shallow_memories():
    small = cost.memory(16, 32)  # 512 bits = LUTRAM_MAX_BITS
    assert small.bram18 == 0 and small.lut == 32
    wide = cost.memory(4, 2304)  # fully unrolled weights: a few LUTs per bit, never 64 blocks
    assert wide.bram18 == 0 and wide.lut == 2304
    shallow = cost.memory(32, 64)  # 2,048 bits but 32 words: one LUT per bit
    assert shallow.bram18 == 0 and shallow.lut == 64
    over = cost.memory(33, 32)  # over 512 bits and 32 words: block RAM
    assert over.bram18 == 1 and over.lut == 0
    deep = cost.memory(1024, 64)
    assert deep.bram18 == 4 and deep.lut == 0


def test_fifo_follows_vitis_srl_and_memory_binding():
    srl = cost.fifo(2, 32)  # depth <= 2 and <= 1024 bits: shift register, no memory
    assert srl.bram18 == 0 and srl.ff == 2 * 32 + 4 and srl.lut == 32 + 6
    wide = cost.fifo(2, 1168)  # over 1024 bits: a memory FIFO (LUTRAM, 2 words)
    assert wide.bram18 == 0 and wide.lut > 1168
    shortcut = cost.fifo(16384, 8)  # one 32x32x16 int8 image: 8 blocks of 2K x 9
    assert shortcut.bram18 == 8 and shortcut.ff == 8 + 2 * 14
    assert cost.fifo(16385, 8).bram18 == 9  # one word more spills into a ninth block
    assert cost.fifo(0, 8).as_dict() == cost.Resources().as_dict()


def test_width_converter_grows_with_offsets():
    same_grid = cost.width_converter(64, 32)  # offsets 32/gcd = 1
    odd_grid = cost.width_converter(64, 24)   # 24/8 = 3 offsets: still one LUT level
    fine_grid = cost.width_converter(2, 32)   # 16 offsets, but a bit can take only 1 input bit
    wide_in = cost.width_converter(128, 36)   # 9 offsets, 32 candidate bits: 3 LUTs a bit
    fixed = cost.stream_control(0).lut + 3 * 32  # process control and three counters
    assert same_grid.lut - fixed == 96 and odd_grid.lut - fixed == 88
    assert fine_grid.lut - fixed == 34
    assert fine_grid.ff == 34 + 3 * 32 + cost.stream_control(32).ff
    assert wide_in.lut - fixed == 164 * 3
    assert cost.width_converter(2, 1024).lut < 2 * 1026 + fixed  # linear, not quadratic


def test_adder_tree_is_registered_every_second_level():
    # 8 operands of 2 bits: levels of 4x3, 2x4, 1x5 bits; registers after level 2 and 3
    tree = cost.adder_tree(8, 2)
    assert tree.lut == 4 * 3 + 2 * 4 + 5 and tree.ff == 2 * 4 + 5


def test_memory_copies_scale_and_zero_sizes():
    assert cost.memory(1024, 32, copies=8).bram18 == 8 * cost.memory(1024, 32).bram18
    assert cost.memory(0, 32).as_dict() == cost.memory(8, 0).as_dict() == cost.Resources().as_dict()


def test_uram_style():
    assert cost.memory(4096, 72, style="uram").uram == 1
    assert cost.memory(8192, 73, style="uram").uram == 4


def test_adder_tree_counts_levels():
    assert cost.adder_tree(1, 8).lut == 0
    assert cost.adder_tree(2, 8).lut == 9
    assert cost.adder_tree(4, 2).lut == 2 * 3 + 4          # two 3-bit adders, one 4-bit
    assert cost.adder_tree(3, 2).lut == 3 + 4              # odd operand passes through
    assert cost.adder_tree(4, 2, copies=5).lut == 5 * 10


def test_xnor_popcount_grows_with_simd_and_pe():
    one = cost.xnor_popcount(3)
    assert one.lut == 2
    assert cost.xnor_popcount(64, pe=4).lut == 4 * cost.xnor_popcount(64).lut
    luts = [cost.xnor_popcount(s).lut for s in (3, 9, 27, 81, 243)]
    assert luts == sorted(luts) and len(set(luts)) == len(luts)


def test_int_mac_uses_dsp_only_for_wide_products():
    assert cost.int_mac(8, 2, in_bits=8, weight_bits=1).dsp == 0
    assert cost.int_mac(8, 2, in_bits=8, weight_bits=8).dsp == 16
    assert cost.int_mac(8, 2, in_bits=2, weight_bits=2).dsp == 0


def test_threshold_compare_and_bit_helpers():
    assert cost.threshold_compare(1, 10).lut == 10
    assert cost.threshold_compare(3, 10, pe=2).lut == 2 * (30 + cost.adder_tree(3, 1).lut)
    assert [cost.popcount_bits(n) for n in (0, 27, 32)] == [1, 5, 6]
    assert cost.signed_sum_bits(127) == 8 and cost.signed_sum_bits(128) == 9


@pytest.mark.parametrize("call", [
    lambda: cost.memory(-1, 8), lambda: cost.memory(8, 8, style="flipflop"),
    lambda: cost.xnor_popcount(0), lambda: cost.int_mac(1, 1, 0, 1), lambda: cost.memory(1.5, 8),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
