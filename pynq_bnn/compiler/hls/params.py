# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""C++ text of layer parameters in the formats of CONTRACT.md section 4.

Layer owners call these helpers from ``render_hls()`` so that every params header has the same
layout: weights ``bnn::PackedWeights<PE, TILES, SIMD*WBITS> <id>_w`` (tile ``nf*SF + sf``, lane
``s`` = ``W[nf*PE + pe][sf*SIMD + s]``, words stored as 64-bit chunks), thresholds
``bnn::Thresholds<NF,PE,NT,int,OUT_BIAS> <id>_act``, lookup tables
``bnn::Lut<NF,PE,IN_MIN,ENTRIES,int> <id>_act``, piecewise-affine requantizers
``bnn::Affine<NF,PE,NP,SHIFT,OUT_MIN,OUT_MAX,TMul,TAdd,TKnee> <id>_act``. Plain integer arrays
keep big weight sets fast to compile (class-type arrays of ap_uint made g++ take minutes).

Every definition is followed by its ``ARRAY_PARTITION`` pragmas (:func:`partition_pragmas`): the
params headers are included inside ``bnn_top``, so the pragmas sit where the arrays are defined
(as Vitis requires for a constant array it should split into separate ROMs). What each unit
reads in one cycle sets the partitioning needed for II = 1 (FINN's placement):

* weights ``words[PE][TILES][CHUNKS]``: all PE banks and all 64-bit chunks of one tile ->
  complete on dims 1 and 3 (``PE x CHUNKS`` ROMs, ``TILES`` deep);
* thresholds ``thr[PE][NF][NT]``: NT thresholds of every PE lane -> dims 1 and 3; ``neg`` dim 1;
* lookup tables ``table[PE][NF][ENTRIES]``: one data-dependent entry per lane -> dim 1;
* affine ``mul/add/knee[PE][NF][NP]``: every piece of every lane -> dims 1 and 3.
"""
from __future__ import annotations

import re

import numpy as np

from pynq_bnn.compiler.cost import SEARCH_MIN_THRESHOLDS

__all__ = ["cname", "encode_lanes", "weights_cpp", "thresholds_cpp", "table_cpp", "affine_cpp",
           "signed_bits", "partition_pragmas"]

_BIPOLAR = "BIPOLAR"


def cname(name: str) -> str:
    """C identifier for a layer or tensor name: ``L_`` + the name with non-word chars -> ``_``."""
    return "L_" + re.sub(r"\W", "_", str(name))


def signed_bits(values) -> int:
    """Smallest two's-complement width holding every value (at least 2)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return 2
    hi = max(int(values.max()), -int(values.min()) - 1, 0)
    return max(2, hi.bit_length() + 1)


def encode_lanes(values, kind: str, bits: int) -> np.ndarray:
    """Raw lane codes of decoded values: BIPOLAR ±1 -> 1/0, INT -> two's complement, UINT as is."""
    values = np.asarray(values, dtype=np.int64)
    if kind == _BIPOLAR:
        if not np.isin(values, (-1, 1)).all():
            raise ValueError("BIPOLAR weights must be ±1")
        return (values > 0).astype(np.int64)
    lo = -(1 << (bits - 1)) if kind == "INT" else 0
    hi = (1 << (bits - 1)) - 1 if kind == "INT" else (1 << bits) - 1
    if values.size and (values.min() < lo or values.max() > hi):
        raise ValueError(f"{kind}{bits} weights out of range [{lo}, {hi}]")
    return values & ((1 << bits) - 1)


def _pack_lanes(lanes: np.ndarray, bits: int) -> list:
    """Python ints of lanes packed LSB-first along the last axis (vectorized per 64-bit chunk)."""
    lanes = lanes.astype(np.uint64)
    count = lanes.shape[-1]
    per_chunk = max(1, 64 // bits)
    chunks = []
    for start in range(0, count, per_chunk):
        part = lanes[..., start:start + per_chunk]
        shifts = (np.arange(part.shape[-1], dtype=np.uint64) * np.uint64(bits))
        chunks.append(np.bitwise_or.reduce(part << shifts, axis=-1))
    step = per_chunk * bits
    result = np.empty(lanes.shape[:-1], dtype=object)
    for index in np.ndindex(*lanes.shape[:-1]):
        result[index] = sum(int(chunk[index]) << (i * step) for i, chunk in enumerate(chunks))
    return result.tolist()


def partition_pragmas(variable: str, dims=(1,), kind: str = "complete", factor: int = 0) -> str:
    """``#pragma HLS ARRAY_PARTITION`` lines for ``variable`` (one per dimension, 1-based; 0 =
    every dimension); ``kind`` ``"cyclic"`` needs ``factor``. Put them right after the
    definition of the array (the params header text)."""
    lines = []
    for dim in dims:
        extra = f" factor = {int(factor)}" if kind in ("cyclic", "block") else ""
        lines.append(f"#pragma HLS ARRAY_PARTITION variable = {variable} {kind}{extra} "
                     f"dim = {int(dim)}")
    return "".join(line + "\n" for line in lines)


def _braces(items) -> str:
    return "{" + ", ".join(items) + "}"


def weights_cpp(ident: str, weights, pe: int, simd: int, kind: str = _BIPOLAR,
                bits: int = 1) -> str:
    """``bnn::PackedWeights<PE, TILES, SIMD*BITS> <ident>_w`` for a weight matrix ``(MH, MW)``.

    Args:
        ident: C identifier prefix (:func:`cname` of the layer name).
        weights: decoded integer weights, shape ``(MH, MW)`` (±1 for BIPOLAR).
        pe, simd: folding; ``MH % pe == 0`` and ``MW % simd == 0``.
        kind, bits: weight encoding (``"BIPOLAR"``, 1) or (``"INT"``, 8) ...
    """
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"weights must be a (MH, MW) matrix, got shape {weights.shape}")
    mh, mw = weights.shape
    if mh % pe or mw % simd:
        raise ValueError(f"folding PE={pe}, SIMD={simd} does not divide MH={mh}, MW={mw}")
    codes = encode_lanes(weights, kind, bits)
    nf, sf, width = mh // pe, mw // simd, simd * bits
    # (nf, pe, sf, simd) -> words[pe][nf*sf_count + sf]
    tiles = codes.reshape(nf, pe, sf, simd).transpose(1, 0, 2, 3).reshape(pe, nf * sf, simd)
    words = _pack_lanes(tiles, bits)
    chunks = -(-width // 64)
    mask = (1 << 64) - 1
    rows = [_braces(_braces(f"0x{(word >> (64 * c)) & mask:x}ULL" for c in range(chunks))
                    for word in pe_row) for pe_row in words]
    typ = f"bnn::PackedWeights<{pe}, {nf * sf}, {width}>"
    return (f"static const {typ} {ident}_w = {{\n" + _braces(rows) + "};\n"
            + partition_pragmas(f"{ident}_w.words", (1, 3) if chunks > 1 else (1,)))


def _ctype(bits: int) -> str:
    return "int" if bits <= 32 else "long long"


_SEARCH_PAD = (1 << 31) - 1  # above every accumulator / stream value (all are < 2^31)


def thresholds_cpp(ident: str, thresholds, pe: int, neg=None, out_bias: int = 0) -> str:
    """``bnn::Thresholds`` instance ``<ident>_act`` for thresholds ``(C, NT)`` (ascending).

    Output of channel c for integer a: ``out_bias + Σ_k [(neg[c] ? -a : a) >= T[c, k]]``. From
    ``SEARCH_MIN_THRESHOLDS`` thresholds on the instance is a ``bnn::ThresholdSearch`` (binary
    search, thresholds padded to ``2^LOG - 1``), matching the cost model's threshold unit.
    """
    thr = np.asarray(thresholds, dtype=np.int64)
    if thr.ndim == 1:
        thr = thr[:, None]
    channels, nt = thr.shape
    if channels % pe:
        raise ValueError(f"PE={pe} does not divide the {channels} channels")
    if nt > 1 and (np.diff(thr, axis=1) < 0).any():
        raise ValueError("thresholds must be ascending per channel")
    neg = np.zeros(channels, dtype=bool) if neg is None else np.asarray(neg, dtype=bool)
    search = nt >= SEARCH_MIN_THRESHOLDS
    if search:  # binary search over 2^LOG - 1 entries, padded with a value no input reaches
        log = nt.bit_length()
        never = max(int(thr.max()) + 1, _SEARCH_PAD)
        pad = np.full((channels, (1 << log) - 1 - nt), never, dtype=np.int64)
        thr = np.concatenate([thr, pad], axis=1)
    nf, tb = channels // pe, signed_bits(thr)
    by_pe = thr.reshape(nf, pe, thr.shape[1]).transpose(1, 0, 2)
    neg_pe = neg.reshape(nf, pe).T
    thr_text = _braces(_braces(_braces(str(v) for v in row) for row in block) for block in by_pe)
    neg_text = _braces(_braces(str(int(v)) for v in row) for row in neg_pe)
    if search:
        typ = f"bnn::ThresholdSearch<{nf}, {pe}, {log}, {_ctype(tb)}, {int(out_bias)}>"
    else:
        typ = f"bnn::Thresholds<{nf}, {pe}, {nt}, {_ctype(tb)}, {int(out_bias)}>"
    return (f"static const {typ} {ident}_act = {{\n{thr_text},\n{neg_text}}};\n"
            + partition_pragmas(f"{ident}_act.thr", (1, 3) if thr.shape[1] > 1 else (1,))
            + partition_pragmas(f"{ident}_act.neg", (1,)))


def table_cpp(ident: str, table, in_min: int, out_bits: int, signed: bool, pe: int) -> str:
    """``bnn::Lut`` instance ``<ident>_act`` for a per-channel table ``(C, ENTRIES)``."""
    table = np.asarray(table, dtype=np.int64)
    channels, entries = table.shape
    if channels % pe:
        raise ValueError(f"PE={pe} does not divide the {channels} channels")
    nf = channels // pe
    out_t = _ctype(out_bits + 1)
    by_pe = table.reshape(nf, pe, entries).transpose(1, 0, 2)
    text = _braces(_braces(_braces(str(v) for v in row) for row in block) for block in by_pe)
    typ = f"bnn::Lut<{nf}, {pe}, {int(in_min)}, {entries}, {out_t}>"
    return (f"static const {typ} {ident}_act = {{\n{text}}};\n"
            + partition_pragmas(f"{ident}_act.table", (1,)))


def affine_cpp(ident: str, params: dict, pe: int) -> str:
    """``bnn::Affine`` instance ``<ident>_act`` of piecewise-affine parameters
    (:func:`pynq_bnn.compiler.hw.affine.fit_piecewise_affine`: ``mul``/``add`` ``(C, P)``,
    ``knees`` ``(C, P-1)``, ``shift``, ``clamp``). Knee slot 0 of each channel is unused (piece 0
    starts at the bottom of the domain), which keeps the arrays non-empty for ``P = 1``."""
    mul = np.asarray(params["mul"], dtype=np.int64)
    add = np.asarray(params["add"], dtype=np.int64)
    knees = np.asarray(params["knees"], dtype=np.int64)
    channels, pieces = mul.shape
    if channels % pe:
        raise ValueError(f"PE={pe} does not divide the {channels} channels")
    knees = np.concatenate([np.zeros((channels, 1), np.int64), knees], axis=1)
    nf = channels // pe

    def by_pe(values):
        block = values.reshape(nf, pe, pieces).transpose(1, 0, 2)
        return _braces(_braces(_braces(str(v) for v in row) for row in b) for b in block)

    y_min, y_max = (int(v) for v in np.asarray(params["clamp"]).reshape(2))
    types = ", ".join(_ctype(signed_bits(v)) for v in (mul, add, knees))
    typ = (f"bnn::Affine<{nf}, {pe}, {pieces}, {int(params['shift'])}, {y_min}, {y_max}, "
           f"{types}>")
    dims = (1, 3) if pieces > 1 else (1,)
    return (f"static const {typ} {ident}_act = {{\n{by_pe(mul)},\n{by_pe(add)},\n"
            f"{by_pe(knees)}}};\n"
            + "".join(partition_pragmas(f"{ident}_act.{m}", dims) for m in ("mul", "add", "knee")))
