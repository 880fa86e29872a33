# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Bit-exact packing of integer tensors into stream words (CONTRACT.md section 1).

A tensor is flattened per image in stream order (channels last); its elements, ``bits`` wide each
(two's complement for negative values), are concatenated LSB-first into one bit string, which is
cut into words of ``word_bits`` (the last word zero-padded). A word is stored little-endian in
``ceil(word_bits / 8)`` bytes — the layout of the csim testbench files and of an AXI DMA buffer
when ``word_bits`` is the AXI width.

Example:
    >>> import numpy as np
    >>> pack_words(np.array([[1, 2, 3]]), bits=4, word_bits=8).tolist()
    [[[33], [3]]]
    >>> unpack_words(pack_words(np.array([[-1, 5]]), 4, 8), 4, 8, count=2, signed=True).tolist()
    [[-1, 5]]
"""
from __future__ import annotations

import numpy as np

__all__ = ["pack_words", "unpack_words", "words_per_image", "bytes_per_word"]


def bytes_per_word(word_bits: int) -> int:
    """Bytes one word occupies in a file or DMA buffer (``ceil(word_bits / 8)``)."""
    return (int(word_bits) + 7) // 8


def words_per_image(count: int, bits: int, word_bits: int) -> int:
    """Words needed for ``count`` elements of ``bits`` bits (last word zero-padded)."""
    return -(-int(count) * int(bits) // int(word_bits))


def pack_words(values, bits: int, word_bits: int) -> np.ndarray:
    """Pack ``values`` (N, ...) integers into ``(N, words, bytes_per_word)`` uint8.

    Args:
        values: integer array, first axis = images; the rest is flattened in C order.
        bits: width of one element; values must fit (unsigned ``[0, 2^bits)`` or signed
            ``[-2^(bits-1), 2^(bits-1))``).
        word_bits: width of one stream word.

    Raises:
        ValueError: when a value does not fit in ``bits`` bits.
    """
    values = np.asarray(values)
    if values.ndim < 1:
        raise ValueError("pack_words expects an array whose first axis is the image index")
    flat = values.reshape(values.shape[0], -1).astype(np.int64)
    lo, hi = -(1 << (bits - 1)), (1 << bits) - 1
    if flat.size and (flat.min() < lo or flat.max() > hi):
        raise ValueError(f"values in [{flat.min()}, {flat.max()}] do not fit in {bits} bits")
    n, count = flat.shape
    unsigned = flat & ((1 << bits) - 1)
    bit_planes = (unsigned[:, :, None] >> np.arange(bits, dtype=np.int64)) & 1
    words = words_per_image(count, bits, word_bits)
    stream = np.zeros((n, words * word_bits), dtype=np.uint8)
    stream[:, : count * bits] = bit_planes.reshape(n, count * bits)
    per_word = stream.reshape(n, words, word_bits)
    padded = np.zeros((n, words, bytes_per_word(word_bits) * 8), dtype=np.uint8)
    padded[:, :, :word_bits] = per_word
    return np.packbits(padded, axis=-1, bitorder="little")


def unpack_words(data, bits: int, word_bits: int, count: int, signed: bool = False) -> np.ndarray:
    """Inverse of :func:`pack_words`: ``(N, words, bytes)`` uint8 -> ``(N, count)`` int64."""
    data = np.asarray(data, dtype=np.uint8)
    n, words = data.shape[0], data.shape[1]
    bits_all = np.unpackbits(data, axis=-1, bitorder="little")[:, :, :word_bits]
    stream = bits_all.reshape(n, words * word_bits)
    if count * bits > stream.shape[1]:
        raise ValueError(f"{words} words of {word_bits} bits hold fewer than {count} elements")
    planes = stream[:, : count * bits].reshape(n, count, bits).astype(np.int64)
    values = (planes << np.arange(bits, dtype=np.int64)).sum(axis=-1)
    if signed:
        values = np.where(values >= (1 << (bits - 1)), values - (1 << bits), values)
    return values
