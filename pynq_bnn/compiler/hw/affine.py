# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Exact piecewise-affine integer requantizers: one multiplier instead of ``2^k - 1`` thresholds.

A per-channel integer function ``f_c`` of an integer input (a tabulated BN -> int8 quantizer, or
RPReLU -> int8 after a residual add) needs ``2^k - 1`` comparators per lane as a multi-threshold
(255 for an int8 output: the bulk of a FracBNN layer's LUTs) or a ``2^{in\_bits}``-entry ROM per
channel as a lookup table. Both functions are, on their integer domain, *rounded affine pieces*
(BN: one piece; RPReLU: two, meeting at the learned knee ``\gamma``), so this module represents
them as

.. math::

    p = \sum_k [x \ge \kappa_{c,k}], \qquad
    f_c(x) = \operatorname{clamp}\big(\lfloor (M_{c,p}\,x + B_{c,p}) / 2^S \rfloor,
                                      y_{min}, y_{max}\big)

with integer multipliers ``M``, offsets ``B``, ascending knees ``\kappa`` and one shift ``S`` per
layer. Exactness is not approximated but **proved on the whole domain**: for a segment of points
``(x, y)`` the admissible ``(M, B)`` are the integer points of a convex polygon

.. math::

    y\,2^S \le M x + B \ \ (y > y_{min}), \qquad M x + B \le (y + 1)\,2^S - 1 \ \ (y < y_{max}),

(a clamped output only bounds one side). For fixed ``M`` the admissible ``B`` form the interval
``[\max_x (L_x - M x), \min_x (U_x - M x)]``; its length is concave in ``M``, so an integer
binary search on its slope finds the best ``M``. Segments are grown greedily from the left (a
subset of a feasible segment is feasible, so greedy gives the fewest pieces); ``S`` is the
smallest of :data:`SHIFTS` for which every channel needs at most ``max_pieces`` pieces. The fit
is then re-evaluated on every domain point (:func:`apply_piecewise_affine`) and must equal the
table, so a representation is only ever returned when it is bit-exact.

Hardware mapping (``bnn::Affine`` in ``bnn/activations.hpp``): per PE lane ``P - 1`` knee
comparators select the piece, one ``in_bits x mul_bits`` multiplier (a DSP48 when both operands
have at least 5 bits), one adder, an arithmetic right shift (wiring) and a two-sided clamp; the
``(M, B, κ)`` of ``NF = C/PE`` channels sit in a small per-PE table. Compare: FINN's thresholding
for an 8-bit output stores and compares 255 thresholds per channel.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import accumulator, constant_compare, int_mac, memory
from pynq_bnn.compiler.hw.base import Resources

__all__ = ["SHIFTS", "fit_piecewise_affine", "apply_piecewise_affine", "affine_resources",
           "affine_bits"]

SHIFTS = (0, 4, 8, 12, 16, 20, 24, 28, 32)
_UNBOUNDED = 1 << 60  # stands for ±infinity in the int64 bound arithmetic
_HALF_UNBOUNDED = 1 << 59  # bounds beyond this came from an open side


def _bounds(y: np.ndarray, y_min: int, y_max: int, shift: int) -> tuple:
    """Lower/upper bounds of ``M x + B`` for outputs ``y`` (one side open at a clamp)."""
    scale = np.int64(1) << np.int64(shift)
    lower = np.where(y > y_min, y * scale, -_UNBOUNDED)
    upper = np.where(y < y_max, (y + 1) * scale - 1, _UNBOUNDED)
    return lower, upper


def _slack(m: int, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple:
    """``(length, b_low, b_high)`` of the admissible offset interval for multiplier ``m``."""
    mx = np.int64(m) * x
    b_low, b_high = int((lower - mx).max()), int((upper - mx).min())
    return b_high - b_low, b_low, b_high


def _fit_segment(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, m_cap: int):
    """Integer ``(M, B)`` satisfying every bound of the segment, or ``None``.

    The admissible-offset length ``g(M)`` is concave (a minimum of lines minus a maximum of
    lines), so the smallest ``M`` with ``g(M+1) <= g(M)`` maximizes it; of the admissible ``M``
    (where ``g >= 0``, an interval) the one nearest 0 is taken, keeping the multiplier narrow.
    """
    def length(m: int) -> int:
        return _slack(m, x, lower, upper)[0]

    lo, hi = -m_cap, m_cap
    while lo < hi:
        mid = (lo + hi) // 2
        if length(mid + 1) <= length(mid):
            hi = mid
        else:
            lo = mid + 1
    if length(lo) < 0:
        return None
    if length(0) >= 0:
        m = 0
    else:  # g is monotone between 0 and its maximizer: search the admissible end nearest 0
        a, b = (0, lo) if lo > 0 else (lo, 0)  # g(a..b) crosses 0 once
        want_first = lo > 0
        while b - a > 1:
            mid = (a + b) // 2
            if (length(mid) >= 0) == want_first:
                b = mid
            else:
                a = mid
        m = b if want_first else a
    _, b_low, b_high = _slack(m, x, lower, upper)
    if b_low <= -_HALF_UNBOUNDED:
        b = b_high if b_high < _HALF_UNBOUNDED else 0
    elif b_high >= _HALF_UNBOUNDED:
        b = b_low
    else:
        b = (b_low + b_high) // 2
    return m, b


def _segment_row(x: np.ndarray, y: np.ndarray, y_min: int, y_max: int, shift: int,
                 max_pieces: int):
    """Fewest pieces ``[(start_index, M, B), ...]`` of one channel, or ``None`` if > max."""
    lower, upper = _bounds(y, y_min, y_max, shift)
    m_cap = (y_max - y_min + 2) << shift
    pieces, start, n = [], 0, x.size
    while start < n:
        if len(pieces) == max_pieces:
            return None
        whole = _fit_segment(x[start:], lower[start:], upper[start:], m_cap)
        if whole is not None:
            pieces.append((start,) + whole)
            break
        good, bad = start + 1, n  # x[start:good] fits, x[start:bad] does not
        while bad - good > 1:
            mid = (good + bad) // 2
            if _fit_segment(x[start:mid], lower[start:mid], upper[start:mid], m_cap) is None:
                bad = mid
            else:
                good = mid
        pieces.append((start,) + _fit_segment(x[start:good], lower[start:good],
                                              upper[start:good], m_cap))
        start = good
    return pieces


def apply_piecewise_affine(x: np.ndarray, params: dict) -> np.ndarray:
    """Evaluate the piecewise-affine requantizer on integers ``x`` of shape ``(..., C)``.

    Args:
        x: integer input, channels last.
        params: ``mul``/``add`` ``(C, P)``, ``knees`` ``(C, P - 1)``, ``shift`` (scalar) and
            ``clamp`` ``(y_min, y_max)``, as returned by :func:`fit_piecewise_affine`.
    """
    x = np.asarray(x, dtype=np.int64)
    mul = np.asarray(params["mul"], dtype=np.int64)
    add = np.asarray(params["add"], dtype=np.int64)
    knees = np.asarray(params["knees"], dtype=np.int64)
    if mul.ndim != 2 or mul.shape != add.shape or mul.shape[0] != x.shape[-1] or \
            knees.shape != (mul.shape[0], mul.shape[1] - 1):
        raise ValueError(f"affine params do not match {x.shape[-1]} channels: mul {mul.shape}, "
                         f"add {add.shape}, knees {knees.shape}")
    piece = np.zeros(x.shape, dtype=np.int64)
    for k in range(knees.shape[1]):
        piece += x >= knees[:, k]
    channel = np.arange(x.shape[-1])
    value = (mul[channel, piece] * x + add[channel, piece]) >> int(params["shift"])
    y_min, y_max = (int(v) for v in np.asarray(params["clamp"]).reshape(2))
    return np.clip(value, y_min, y_max)


def fit_piecewise_affine(x_values: np.ndarray, table: np.ndarray, max_pieces: int = 4):
    """Exact piecewise-affine parameters of a per-channel table, or ``None`` if none fits.

    Args:
        x_values: the consecutive integers of the input domain.
        table: ``(C, len(x_values))`` integer outputs.
        max_pieces: most pieces a channel may use (hardware: ``max_pieces - 1`` comparators).

    Returns:
        ``{"mul", "add", "knees", "shift", "clamp"}`` (integer arrays; channels with fewer
        pieces repeat their last piece behind a knee that is never reached), or ``None`` when no
        shift of :data:`SHIFTS` fits every channel in ``max_pieces`` pieces.
    """
    x = np.asarray(x_values, dtype=np.int64)
    table = np.asarray(table, dtype=np.int64)
    if x.ndim != 1 or x.size == 0 or np.any(np.diff(x) != 1):
        raise ValueError("x_values must be consecutive integers")
    if table.ndim != 2 or table.shape[1] != x.size:
        raise ValueError(f"table must be (channels, {x.size}), got {table.shape}")
    y_min, y_max = int(table.min()), int(table.max())
    for pieces_allowed in range(1, max_pieces + 1):  # fewest pieces first, then smallest shift
        for shift in SHIFTS:
            rows = []
            for row in table:
                pieces = _segment_row(x, row, y_min, y_max, shift, pieces_allowed)
                if pieces is None:
                    break
                rows.append(pieces)
            else:
                return _assemble(x, table, rows, shift, y_min, y_max)
    return None


def _assemble(x: np.ndarray, table: np.ndarray, rows: list, shift: int, y_min: int,
              y_max: int) -> dict:
    """Parameter arrays of per-channel piece lists, checked against the table."""
    count = max(len(p) for p in rows)
    mul = np.zeros((table.shape[0], count), dtype=np.int64)
    add = np.zeros_like(mul)
    knees = np.full((table.shape[0], count - 1), int(x[-1]) + 1, dtype=np.int64)  # never reached
    for c, pieces in enumerate(rows):
        for p in range(count):
            start, mul[c, p], add[c, p] = pieces[min(p, len(pieces) - 1)]
            if 0 < p < len(pieces):
                knees[c, p - 1] = x[start]
    params = {"mul": mul, "add": add, "knees": knees, "shift": np.int64(shift),
              "clamp": np.array([y_min, y_max], dtype=np.int64)}
    grid = np.broadcast_to(x[:, None], (x.size, table.shape[0]))
    if not np.array_equal(apply_piecewise_affine(grid, params).T, table):
        raise AssertionError("piecewise-affine fit does not reproduce its table")
    return params


def affine_bits(params: dict, in_bits: int) -> dict:
    """Operand widths of the hardware unit: ``mul``, ``add`` (two's complement), ``knee``."""
    from pynq_bnn.compiler.hls.params import signed_bits  # the widths the C++ types get

    return {"mul": signed_bits(params["mul"]), "add": signed_bits(params["add"]),
            "knee": in_bits + 1}


def affine_resources(params: dict, in_bits: int, out_bits: int, channels: int,
                     pe: int) -> Resources:
    """Model of ``pe`` piecewise-affine lanes (:mod:`pynq_bnn.compiler.cost`).

    Per lane: ``P - 1`` knee comparators, one ``in_bits x mul_bits`` product (:func:`int_mac`
    with one lane: a DSP when both widths reach ``DSP_MIN_BITS``), the offset adder and two clamp
    comparators; per lane a table of ``channels / pe`` words holding ``(M, B, κ)`` of every piece.
    """
    bits = affine_bits(params, in_bits)
    pieces = int(np.asarray(params["mul"]).shape[1])
    product_bits = in_bits + bits["mul"]
    res = int_mac(1, pe, in_bits, bits["mul"]) + accumulator(max(product_bits, bits["add"]), pe)
    if pieces > 1:
        res = res + Resources(lut=(pieces - 1) * bits["knee"] * pe, ff=pe)
    res = res + constant_compare(out_bits + 1, 2 * pe)
    word = pieces * (bits["mul"] + bits["add"]) + (pieces - 1) * bits["knee"]
    return res + memory(depth=channels // pe, width=word, copies=pe)
