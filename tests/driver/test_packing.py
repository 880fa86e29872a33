# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Packing: round trips, byte layout, padding (hypothesis properties + worked examples)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynq_bnn.driver import InputError
from pynq_bnn.driver.packing import pack_stream, unpack_stream, packed_words
from pynq_bnn.driver.spec import StreamSpec

ELEM_BITS = st.sampled_from([1, 2, 4, 8, 16])
WORD_BITS = st.sampled_from([64, 128])


def reference_pack(values, elem_bits, word_bits, words_per_image):
    """Per-element Python reference: element i -> bits [i*b, (i+1)*b) of a big integer."""
    out = []
    for image in values.reshape(values.shape[0], -1):
        acc = 0
        for i, v in enumerate(image.tolist()):
            acc |= int(v) << (i * elem_bits)
        total_bytes = words_per_image * word_bits // 8
        out.append(np.frombuffer(acc.to_bytes(total_bytes, "little"), dtype="<u8"))
    return np.stack(out)


@st.composite
def stream_and_values(draw):
    bits = draw(ELEM_BITS)
    word = draw(WORD_BITS)
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    n = draw(st.integers(0, 3))
    dtype = "uint8" if bits <= 8 else "uint16"
    stream = StreamSpec.create(shape, dtype, "NHWC" if len(shape) == 3 else "NK", bits, word)
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).integers(0, 1 << bits, size=(n, *shape)).astype(dtype)
    return stream, values


@settings(max_examples=30, deadline=None)
@given(stream_and_values())
def test_round_trip_and_reference_bytes(case):
    stream, values = case
    words = pack_stream(stream, values)
    assert words.dtype == np.uint64
    assert words.shape == (values.shape[0], stream.words_per_image * stream.word_bits // 64)
    assert words.size == packed_words(stream, values.shape[0])
    expected = reference_pack(values, stream.elem_bits, stream.word_bits, stream.words_per_image) \
        if values.shape[0] else words
    assert np.array_equal(words, expected)
    back = unpack_stream(stream, words)
    assert back.dtype == np.dtype(stream.dtype)
    assert np.array_equal(back, values)


@settings(max_examples=30, deadline=None)
@given(stream_and_values())
def test_pack_into_buffer_equals_fresh_pack(case):
    stream, values = case
    buffer = np.full(packed_words(stream, values.shape[0]) + 3, 0xFFFF_FFFF_FFFF_FFFF, np.uint64)
    packed = pack_stream(stream, values, out=buffer)
    assert np.shares_memory(packed, buffer) or values.shape[0] == 0
    assert np.array_equal(packed, pack_stream(stream, values))
    assert np.all(buffer[packed.size:] == 0xFFFF_FFFF_FFFF_FFFF)  # nothing written past the end


def test_uint8_64bit_is_plain_memory_order():
    stream = StreamSpec.create((32, 32, 3), "uint8", "NHWC", 8, 64)
    images = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    assert pack_stream(stream, images).tobytes() == images.tobytes()


def test_padding_is_zero_and_images_start_on_new_words():
    stream = StreamSpec.create((1, 1, 3), "uint8", "NHWC", 8, 128)
    words = pack_stream(stream, np.array([[[[1, 2, 3]]], [[[4, 5, 6]]]], dtype=np.uint8))
    assert words.tolist() == [[0x030201, 0], [0x060504, 0]]


def test_unpack_two_bit_codes():
    stream = StreamSpec.create((5,), "uint8", "NK", 2, 64)
    words = np.array([0b11_10_01_00 | (0b10 << 8)], dtype=np.uint64)
    assert unpack_stream(stream, words).tolist() == [[0, 1, 2, 3, 2]]


def test_bad_values_raise_clear_errors():
    stream = StreamSpec.create((2, 2, 1), "uint8", "NHWC", 2, 64)
    with pytest.raises(InputError, match="shape"):
        pack_stream(stream, np.zeros((1, 2, 2, 3), np.uint8))
    with pytest.raises(InputError, match=r"\[0, 3\]"):
        pack_stream(stream, np.full((1, 2, 2, 1), 4, np.uint8))
    with pytest.raises(InputError, match="integers"):
        pack_stream(stream, np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(InputError, match="bytes"):
        unpack_stream(stream, np.zeros(1, np.uint64), count=2)


@settings(max_examples=25, deadline=None)
@given(stream_and_values())
def test_same_bytes_as_the_hls_testbench_packing(case):
    """The driver's DMA bytes equal the csim testbench words of compiler/hls/packing.py."""
    hls_packing = pytest.importorskip("pynq_bnn.compiler.hls.packing")
    stream, values = case
    if values.shape[0] == 0:
        return
    testbench = hls_packing.pack_words(values, stream.elem_bits, stream.word_bits)
    assert pack_stream(stream, values).tobytes() == testbench.tobytes()
