# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Fast, bit-exact numpy kernels shared by the HW layers' ``reference()`` (pure numpy).

* **Bit-packed XNOR-popcount** (:func:`pack_bits`, :func:`popcount64`,
  :func:`xnor_popcount_matmul`): the binary dot product of the hardware,
  :math:`a = K - 2\,\text{popcount}(x \oplus w)` over ``K`` bits packed 64 per ``uint64`` word
  (numpy 1.26 has no ``bitwise_count``: the popcount is the SWAR bit-slice sum of Hacker's
  Delight §5-1). It is the machine's XNOR-popcount *roofline* measured by
  ``benchmarks/sim_throughput.py``; the layers themselves use float32 BLAS (below), which on
  these CPUs is faster per binary MAC.
* **Exact float32 BLAS on ±1 values with two integers per float** (:func:`pair_shift`,
  :func:`split_pairs`): integers ``a, b`` with ``|a|, |b| <= bound`` ride in one float32 as
  ``a + 2^k b`` when ``2^(k-1) > bound`` and ``bound (2^k + 1) < 2^24``; every partial sum of
  a dot product is then an exact float32 integer (so BLAS's summation order does not matter)
  and ``b = rint(p / 2^k)``, ``a = p - 2^k b`` recover both exactly. Used for FracBNN's two
  activation planes (one GEMM computes ``acc_M`` and ``acc_L``) and for two output channels of
  a binary convolution.
* **Channel tables** (:class:`ChannelTable`): any per-channel integer function ``f_c`` of an
  integer stream with a small domain ``[lo, hi]`` (the stream type's range) is tabulated once by
  evaluating the layer's own exact function on every domain integer, then applied as one
  gather ``T[c, x - lo]`` — bit-identical by construction (an input outside the domain falls
  back to the function itself). Hardware analogue: a per-channel ROM.
* **Windows** (:func:`im2col`, :func:`conv_gemm`): the ``(kh, kw, c)``-ordered sliding-window
  matrix of a padded NHWC block, written tap by tap into one preallocated buffer; for stride 1
  only the ``K``-times smaller row-window matrix is built and the kernel rows are ``K`` GEMMs on
  shifted views of it (2x faster than a full im2col on FracBNN's 3x3 convolutions).
"""
from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["pack_bits", "popcount64", "xnor_popcount_matmul", "pair_shift", "split_pairs",
           "ChannelTable", "cached", "im2col", "conv_gemm", "narrow_int_dtype", "stored_range", "sum_dtype",
           "FLOAT32_EXACT"]

FLOAT32_EXACT = 2 ** 24  # every integer of magnitude below this is an exact float32
TABLE_MAX_ENTRIES = 1 << 22  # larger channel tables are not built (memory, build time)

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


# -- bit-packed XNOR-popcount ---------------------------------------------------------------------
def pack_bits(bits: np.ndarray) -> np.ndarray:
    """``(..., K)`` bits {0, 1} -> ``(..., ceil(K / 64))`` uint64 words (zero-padded)."""
    bits = np.asarray(bits, dtype=np.uint8)
    k = bits.shape[-1]
    words = -(-k // 64)
    padded = np.zeros(bits.shape[:-1] + (words * 64,), np.uint8)
    padded[..., :k] = bits
    packed = np.packbits(padded, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").reshape(bits.shape[:-1] + (words,))


def popcount64(words: np.ndarray) -> np.ndarray:
    """Bits set per uint64 element (SWAR: 2-, 4-, 8-bit field sums, then a byte-sum multiply)."""
    x = np.asarray(words, dtype=np.uint64)
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


def xnor_popcount_matmul(a_words: np.ndarray, b_words: np.ndarray, k_bits: int,
                         block_bytes: int = 1 << 19) -> np.ndarray:
    """``(M, N)`` int32 bipolar dot products ``K - 2 popcount(a XOR b)`` of packed bit rows.

    Args:
        a_words: ``(M, W)`` uint64 rows (bit 1 = +1), e.g. window vectors.
        b_words: ``(N, W)`` uint64 rows, e.g. weight rows.
        k_bits: the true vector length ``K`` (padding bits must be 0 in both operands).
        block_bytes: size of the ``(rows, N, W)`` XOR block processed at once (cache).
    """
    a_words = np.asarray(a_words, np.uint64)
    b_words = np.asarray(b_words, np.uint64)
    m, w = a_words.shape
    n = b_words.shape[0]
    out = np.empty((m, n), np.int32)
    rows = max(1, block_bytes // (8 * n * w))
    for start in range(0, m, rows):
        diff = a_words[start:start + rows, None, :] ^ b_words[None, :, :]
        counts = popcount64(diff).sum(axis=-1, dtype=np.int64)
        out[start:start + rows] = k_bits - 2 * counts
    return out


# -- two exact integers per float32 ---------------------------------------------------------------
def pair_shift(bound: int) -> int:
    """``k`` such that ``a + 2^k b`` (``|a|, |b| <= bound``) sums exactly in float32, else 0."""
    shift = int(bound).bit_length() + 1
    return shift if bound * (2 ** shift + 1) < FLOAT32_EXACT else 0


def split_pairs(packed: np.ndarray, shift: int) -> tuple:
    """``(a, b)`` float32 arrays from exact sums ``p = a + 2^shift b`` (``|a| < 2^(shift-1)``)."""
    high = packed * np.float32(2.0 ** -shift)
    np.rint(high, out=high)
    low = high * np.float32(-(2.0 ** shift))
    low += packed
    return low, high


# -- windows --------------------------------------------------------------------------------------
def im2col(padded: np.ndarray, k: int, stride: int, out_hw: tuple, out=None) -> np.ndarray:
    """``(N, Ho, Wo, k*k*C)`` windows of an already padded NHWC block, ``(kh, kw, c)`` order."""
    n, _, _, c = padded.shape
    ho, wo = out_hw
    if out is None:
        out = np.empty((n, ho, wo, k * k * c), padded.dtype)
    for ky in range(k):
        for kx in range(k):
            tap = (ky * k + kx) * c
            out[..., tap:tap + c] = padded[:, ky:ky + stride * (ho - 1) + 1:stride,
                                           kx:kx + stride * (wo - 1) + 1:stride, :]
    return out


def conv_gemm(padded: np.ndarray, weights_t: np.ndarray, k: int, stride: int,
              out_hw: tuple) -> np.ndarray:
    """``windows(padded) @ weights_t`` as ``(N * Ho * Wo, cols)`` for a padded NHWC block.

    ``weights_t`` is ``(k*k*C, cols)`` in window order ``(kh, kw, c)``. With stride 1 the
    row windows ``R[n, y, x] = padded[n, y, x:x+k, :]`` (``(N, Hp, Wo, k*C)``) are built once and
    kernel row ``ky`` is the GEMM of the contiguous view ``R[:, ky:ky+Ho]`` with rows
    ``ky*k*C .. (ky+1)*k*C`` of the weights; the ``k`` products are summed. The caller keeps
    every partial sum an exact float integer, so the order of the sums does not matter.
    """
    n, hp, _, c = padded.shape
    ho, wo = out_hw
    if stride != 1 or k == 1:
        return im2col(padded, k, stride, out_hw).reshape(-1, k * k * c) @ weights_t
    kc = k * c
    rows = np.empty((n, hp, wo, kc), padded.dtype)
    for kx in range(k):
        rows[..., kx * c:(kx + 1) * c] = padded[:, :, kx:kx + wo]
    out = np.matmul(rows[:, :ho].reshape(n, ho * wo, kc), weights_t[:kc])
    part = np.empty_like(out)
    for ky in range(1, k):
        np.matmul(rows[:, ky:ky + ho].reshape(n, ho * wo, kc), weights_t[ky * kc:(ky + 1) * kc],
                  out=part)
        out += part
    return out.reshape(n * ho * wo, -1)


# -- per-channel tables ---------------------------------------------------------------------------
def narrow_int_dtype(lo: int, hi: int):
    """Smallest numpy integer dtype holding ``[lo, hi]``."""
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return dtype
    raise ValueError(f"no integer dtype holds [{lo}, {hi}]")


def stored_range(stream_type) -> tuple:
    """``(lo, hi)`` of the integers a stream of this :class:`StreamType` stores (BIPOLAR bits
    0/1, FRAC2 codes 0..3, ``INTk`` two's complement, ``UINTk``)."""
    if stream_type.kind == "INT":
        return -(1 << (stream_type.bits - 1)), (1 << (stream_type.bits - 1)) - 1
    return 0, (1 << stream_type.bits) - 1


def sum_dtype(terms) -> np.dtype:
    """Integer dtype exact for ``sum(x << s for x, s in terms)`` for *any* values of the
    arrays' dtypes (so a narrow computation can never wrap where int64 would not)."""
    lo = hi = 0
    for array, shift in terms:
        info = np.iinfo(np.asarray(array).dtype) if np.asarray(array).dtype.kind in "iu" \
            else np.iinfo(np.int64)
        lo += int(info.min) << int(shift)
        hi += int(info.max) << int(shift)
    try:
        return np.dtype(narrow_int_dtype(lo, hi))
    except ValueError:
        return np.dtype(np.int64)


def _fingerprint(arrays) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for value in arrays:
        value = np.ascontiguousarray(value)
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def cached(owner, name: str, arrays, build):
    """``build()`` memoized on ``owner`` under ``name`` and a digest of ``arrays``.

    The digest covers the arrays' bytes, so editing a layer's params in place rebuilds.
    """
    store = owner.__dict__.setdefault("_kernel_cache", {})
    key = (name, _fingerprint(arrays))
    if key not in store:
        for old in [k for k in store if k[0] == name]:
            del store[old]
        store[key] = build()
    return store[key]


class ChannelTable:
    """``f_c(x)`` for every channel ``c`` and integer ``x`` in ``[lo, hi]``, applied by a gather.

    Args:
        function: the exact per-channel function; called once on a ``(hi - lo + 1, C)`` grid
            whose column ``c`` holds ``lo..hi`` and must return the ``(hi - lo + 1, C)`` outputs.
        lo, hi: the input domain (e.g. a stream type's range).
        channels: ``C``.
    """

    def __init__(self, function, lo: int, hi: int, channels: int):
        self.lo, self.hi, self.channels = int(lo), int(hi), int(channels)
        span = self.hi - self.lo + 1
        grid = np.broadcast_to(np.arange(self.lo, self.hi + 1, dtype=np.int64)[:, None],
                               (span, self.channels))
        values = np.asarray(function(np.ascontiguousarray(grid)))
        if values.shape != (span, self.channels):
            raise ValueError(f"channel function returned {values.shape}, expected "
                             f"{(span, self.channels)}")
        self.dtype = narrow_int_dtype(int(values.min()), int(values.max()))
        self.table = np.ascontiguousarray(values.T).astype(self.dtype).reshape(-1)
        self.offsets = (np.arange(self.channels, dtype=np.intp) * span - self.lo)

    def mapped(self, values: np.ndarray) -> "ChannelTable":
        """The table of ``values[f_c(x)]`` (same domain), e.g. codes -> their float encoding.
        Raises IndexError when an output of ``f`` is not an index of ``values``."""
        out = object.__new__(ChannelTable)
        out.lo, out.hi, out.channels, out.offsets = self.lo, self.hi, self.channels, self.offsets
        if self.table.size and (int(self.table.min()) < 0 or
                                int(self.table.max()) >= len(values)):
            raise IndexError("table outputs outside the mapped range")
        out.table = np.asarray(values)[self.table.astype(np.intp)]
        out.dtype = out.table.dtype
        return out

    @staticmethod
    def fits(lo: int, hi: int, channels: int) -> bool:
        """Whether a table of this size is worth building."""
        return (int(hi) - int(lo) + 1) * int(channels) <= TABLE_MAX_ENTRIES

    def covers(self, x: np.ndarray) -> bool:
        """Whether every element of ``x`` lies in the table's domain."""
        return x.size == 0 or (int(x.min()) >= self.lo and int(x.max()) <= self.hi)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``f_c(x[..., c])`` (channels last; the caller checked :meth:`covers`, so no index
        needs numpy's bounds check)."""
        index = x.astype(np.intp)
        index += self.offsets
        return np.take(self.table, index, mode="clip")

    def lookup_float(self, x: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for exact float32 integers ``x`` (overwritten): the channel offsets
        are added in float32 (exact below ``2^24``) before the one conversion to indices."""
        if self.table.size >= FLOAT32_EXACT:
            return self(x)
        x += self.offsets.astype(np.float32)
        return np.take(self.table, x.astype(np.intp), mode="clip")
