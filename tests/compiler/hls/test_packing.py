# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Stream-word packing (the testbench / DMA layout) and parameter formatting."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynq_bnn.compiler.hls.packing import pack_words, unpack_words, words_per_image
from pynq_bnn.compiler.hls.params import cname, thresholds_cpp, weights_cpp


@settings(max_examples=40, deadline=None)
@given(bits=st.integers(1, 12), word_bits=st.sampled_from([1, 3, 8, 24, 64, 128]),
       count=st.integers(1, 40), signed=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_pack_unpack_round_trip(bits, word_bits, count, signed, seed):
    rng = np.random.default_rng(seed)
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    values = rng.integers(lo, hi, size=(3, count))
    packed = pack_words(values, bits, word_bits)
    assert packed.shape == (3, words_per_image(count, bits, word_bits), (word_bits + 7) // 8)
    np.testing.assert_array_equal(unpack_words(packed, bits, word_bits, count, signed), values)


def test_pack_is_lsb_first_little_endian():
    # pixels 1..9 in 64-bit words: first word bytes 01..08, second word 09 then zero padding
    packed = pack_words(np.arange(1, 10)[None], 8, 64)
    assert packed[0, 0].tolist() == list(range(1, 9))
    assert packed[0, 1].tolist() == [9, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="do not fit"):
        pack_words(np.array([[4]]), 2, 8)


def test_weights_layout_pe_major_tiles_and_chunks():
    w = np.ones((4, 6), dtype=int)
    w[1, 0] = -1  # channel 1 = nf 0, pe 1; column 0 = sf 0, lane 0
    text = weights_cpp("L_x", w, pe=2, simd=3)
    assert text.startswith("static const bnn::PackedWeights<2, 4, 3> L_x_w = {")
    # pe 0 tiles all 0b111; pe 1 tile 0 is 0b110
    assert "{{0x7ULL}, {0x7ULL}, {0x7ULL}, {0x7ULL}}, {{0x6ULL}, {0x7ULL}" in text
    wide = weights_cpp("L_y", np.ones((1, 70), dtype=int), pe=1, simd=70)
    assert "{0xffffffffffffffffULL, 0x3fULL}" in wide
    with pytest.raises(ValueError, match="does not divide"):
        weights_cpp("L_z", w, pe=3, simd=3)


def test_thresholds_text_and_checks():
    text = thresholds_cpp("L_t", np.array([[1, 2], [3, 4]]), pe=2, neg=[0, 1], out_bias=-1)
    assert "bnn::Thresholds<1, 2, 2, int, -1> L_t_act" in text
    assert "{{{1, 2}}, {{3, 4}}}" in text and "{{0}, {1}}" in text
    with pytest.raises(ValueError, match="ascending"):
        thresholds_cpp("L_t", np.array([[2, 1]]), pe=1)
    assert cname("Conv_0/out:1") == "L_Conv_0_out_1"
