# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Packing images into AXI-Stream words and results out of them (pure numpy, vectorized).

Format (the contract with the HLS top level and the testbench data of the compiler):

* the elements of one image are taken in layout order (NHWC: row, column, channel),
* element ``i`` occupies bits ``[i·b, (i+1)·b)`` of the image's bit string (``b = elem_bits``,
  LSB-first), which is cut into ``word_bits``-bit words, each word little-endian,
* every image starts on a new word; the tail of its last word is zero.

For 8-bit pixels and 64-bit words this is exactly the byte order of the pixels in memory, so
packing is a copy (or a zero-copy view when no padding is needed); this is why the driver can
write images straight into the DMA buffer. Words are returned as ``uint64`` arrays, a
``word_bits``-bit word being ``word_bits/64`` consecutive ``uint64`` (low half first), i.e. exactly
the bytes the DMA moves. Sub-byte elements (1, 2, 4 bits) are packed with a vectorized
shift-and-sum over groups of ``8/b`` elements.

>>> import numpy as np
>>> from pynq_bnn.driver.spec import StreamSpec
>>> s = StreamSpec.create((2, 2, 3), "uint8", "NHWC", 8, 64)
>>> words = pack_stream(s, np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3))
>>> [hex(w) for w in words.ravel()]
['0x706050403020100', '0xb0a0908']
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.driver.errors import InputError

__all__ = ["pack_stream", "unpack_stream", "pack_input", "unpack_output", "packed_words"]


def packed_words(stream, count: int) -> int:
    """Number of ``uint64`` values holding ``count`` packed images of ``stream``."""
    return count * stream.words_per_image * (stream.word_bits // 64)


def _check_values(stream, values: np.ndarray, what: str) -> np.ndarray:
    expected = tuple(stream.shape)
    if values.shape[1:] != expected:
        raise InputError(f"{what} must have shape (N, {', '.join(map(str, expected))}), got "
                         f"{values.shape}")
    if not np.issubdtype(values.dtype, np.integer):
        raise InputError(f"{what} must be integers ({stream.dtype}), got dtype {values.dtype}")
    bits = stream.elem_bits
    bounded = values.dtype.kind == "u" and values.dtype.itemsize * 8 <= bits
    if not bounded and values.size and (values.min() < 0 or values.max() >= (1 << bits)):
        raise InputError(f"{what} must lie in [0, {(1 << bits) - 1}] ({bits}-bit elements), got "
                         f"range [{values.min()}, {values.max()}]")
    return values


def pack_stream(stream, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Pack ``values`` ``(N, *stream.shape)`` into stream words.

    Args:
        stream: a :class:`~pynq_bnn.driver.spec.StreamSpec`.
        values: integer array; each element must fit in ``stream.elem_bits`` bits (checked,
            except when the dtype itself bounds it, e.g. uint8 for 8-bit elements).
        out: optional destination (e.g. a DMA buffer) with at least
            :func:`packed_words` ``uint64`` values (any dtype/shape, C-contiguous); filled in
            place and returned as a ``uint64`` view.

    Returns:
        ``uint64`` array of shape ``(N, words_per_image · word_bits/64)``.
    """
    values = _check_values(stream, np.asarray(values), "values")
    n = values.shape[0]
    bits = stream.elem_bits
    row_bytes = stream.bytes_per_image
    if out is None:
        out_bytes = np.empty((n, row_bytes), dtype=np.uint8)
    else:
        if not out.flags.c_contiguous or out.nbytes < n * row_bytes:
            raise InputError(f"output buffer must be C-contiguous with at least {n * row_bytes} "
                             f"bytes, got {out.nbytes} bytes")
        out_bytes = out.reshape(-1).view(np.uint8)[: n * row_bytes].reshape(n, row_bytes)
    flat = values.reshape(n, stream.elems_per_image)
    if bits >= 8:
        elem_dtype = np.dtype(f"<u{bits // 8}")
        data_bytes = flat.shape[1] * (bits // 8)
        if flat.dtype != elem_dtype:
            flat = flat.astype(elem_dtype)
        np.copyto(out_bytes[:, :data_bytes], flat.view(np.uint8).reshape(n, data_bytes))
    else:
        per_byte = 8 // bits
        data_bytes = -(-flat.shape[1] // per_byte)
        padded = np.zeros((n, data_bytes * per_byte), dtype=np.uint8)
        padded[:, : flat.shape[1]] = flat
        shifts = (np.arange(per_byte, dtype=np.uint8) * bits).astype(np.uint8)
        grouped = padded.reshape(n, data_bytes, per_byte) << shifts
        out_bytes[:, :data_bytes] = np.bitwise_or.reduce(grouped, axis=2)
    out_bytes[:, data_bytes:] = 0
    return out_bytes.view("<u8").reshape(n, row_bytes // 8)


def unpack_stream(stream, words: np.ndarray, count: int | None = None) -> np.ndarray:
    """Inverse of :func:`pack_stream`: words -> ``(N, *stream.shape)`` of ``stream.dtype``.

    Args:
        stream: a :class:`~pynq_bnn.driver.spec.StreamSpec`.
        words: packed data (any integer dtype; its bytes are read), at least ``count`` images.
        count: number of images to unpack; default: as many whole images as ``words`` holds.
    """
    raw = np.ascontiguousarray(words).reshape(-1).view(np.uint8)
    row_bytes = stream.bytes_per_image
    if count is None:
        count = raw.size // row_bytes
    if raw.size < count * row_bytes:
        raise InputError(f"{count} images need {count * row_bytes} bytes, got {raw.size}")
    rows = raw[: count * row_bytes].reshape(count, row_bytes)
    elems = stream.elems_per_image
    bits = stream.elem_bits
    if bits >= 8:
        data = rows[:, : elems * bits // 8].copy().view(f"<u{bits // 8}")
    else:
        per_byte = 8 // bits
        shifts = (np.arange(per_byte, dtype=np.uint8) * bits).astype(np.uint8)
        data_bytes = rows[:, : -(-elems // per_byte)]
        data = ((data_bytes[:, :, None] >> shifts) & ((1 << bits) - 1)).reshape(count, data_bytes.shape[1] * per_byte)[:, :elems]
    return data.astype(stream.dtype, copy=False).reshape(count, *stream.shape)


def pack_input(spec, images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Pack uint8 NHWC images ``(N, H, W, C)`` into the accelerator's input words (``uint64``)."""
    images = np.asarray(images)
    if images.dtype != np.dtype(spec.input.dtype):
        raise InputError(f"input images must be {spec.input.dtype}, got {images.dtype}")
    return pack_stream(spec.input, images, out)


def unpack_output(spec, words: np.ndarray, count: int | None = None) -> np.ndarray:
    """Unpack result words into ``(N, k)`` class indices (``int64``)."""
    return unpack_stream(spec.output, words, count).astype(np.int64)
