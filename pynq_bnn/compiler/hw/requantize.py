# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
r"""Per-channel integer functions of one integer stream: thresholds or a lookup table.

The integer-point rule (DESIGN.md) says that between two integer points only per-channel
elementwise functions of ONE integer tensor appear (BN, PReLU/RPReLU, bias, scale, clamp,
quantize). Whatever that float chain is, on an integer input ``x`` with a known finite range
``[x_min, x_max]`` it is a table ``f_c(x)`` of integer output codes, one row per output channel.
The lowering rule evaluates the exported float chain on every integer of the range (so the table is
bit-exact by construction, float32 rounding and round-half-to-even ties included) and this module
turns the table into hardware:

* **thresholds** (FINN MultiThreshold): when row ``c`` is monotone, ``f_c(x) = b +
  \sum_k [d_c x \ge T_{c,k}]`` with ascending integer thresholds ``T_{c,k}`` and a direction
  ``d_c = \pm 1`` (``-1`` for a non-increasing row, e.g. a BN with negative scale). Hardware: a
  comparator tree per PE, ``T`` thresholds of ``in_bits + 1`` bits per channel.
* **lut**: any row (e.g. a PReLU with a negative learned slope is not monotone):
  ``f_c(x) = L_{c, x - x_{min}}``. Hardware: a ROM of ``(x_max - x_min + 1)`` words per channel.
* **affine**: rows that are rounded affine pieces (BN -> int8: one piece; RPReLU -> int8: two),
  proved exact on the whole range by :mod:`pynq_bnn.compiler.hw.affine`. Hardware: one
  multiplier (DSP), an adder, a shift and a clamp per PE instead of 255 comparators; chosen
  automatically when the output has more than :data:`AFFINE_MIN_LEVELS` levels.

Output channels may read any input channel (``src[c]``): RepConv (RepBNN) tiles one accumulator
``\beta^2`` times, each copy with its own BN/PReLU/sign, which is exactly ``\beta^2`` threshold
rows reading the same source channel; FracBNN's parameter-free shortcut duplicates channels the
same way.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.cost import memory, stream_control, threshold_unit
from pynq_bnn.compiler.hw.affine import affine_resources, apply_piecewise_affine, \
    fit_piecewise_affine
from pynq_bnn.compiler.hw.base import Attr, HlsSnippet, HWLayer, Resources, StreamType
from pynq_bnn.compiler.kernels import ChannelTable, cached, stored_range

__all__ = ["Requantize", "apply_thresholds", "fit_channel_function", "stream_type_for_range",
           "ChannelFunctionError", "AFFINE_MIN_LEVELS", "channel_function_reference",
           "channel_function_resources", "channel_function_cpp"]

AFFINE_MIN_LEVELS = 17  # above 4-bit outputs one multiplier beats 2^k - 1 comparators


class ChannelFunctionError(ValueError):
    """A per-channel table cannot be represented as asked (bad shapes, range, or mode)."""


def stream_type_for_range(lo: int, hi: int) -> StreamType:
    """Smallest ``UINTk``/``INTk`` stream type holding every integer of ``[lo, hi]``."""
    lo, hi = int(lo), int(hi)
    if lo > hi:
        raise ChannelFunctionError(f"empty integer range [{lo}, {hi}]")
    if lo >= 0:
        return StreamType("UINT", max(1, int(hi).bit_length()))
    bits = max(int(-lo - 1).bit_length(), int(max(hi, 0)).bit_length()) + 1
    return StreamType("INT", bits)


def apply_thresholds(x: np.ndarray, thresholds: np.ndarray, direction: np.ndarray | None = None,
                     out_bias: int = 0) -> np.ndarray:
    r"""Multi-threshold: ``out[..., c] = out_bias + sum_k [d_c * x[..., c] >= T[c, k]]``.

    Args:
        x: integers ``(..., C)`` (channels last).
        thresholds: ``(C, T)`` integers, ascending along ``T``.
        direction: ``(C,)`` of ``+1``/``-1`` (default all ``+1``).
        out_bias: added to the count (e.g. ``-128`` for an INT8 output).
    """
    x = np.asarray(x, dtype=np.int64)
    thresholds = np.asarray(thresholds, dtype=np.int64)
    if thresholds.ndim != 2 or thresholds.shape[0] != x.shape[-1]:
        raise ChannelFunctionError(
            f"thresholds must be (channels={x.shape[-1]}, T), got {thresholds.shape}")
    if direction is not None:
        x = x * np.asarray(direction, dtype=np.int64)
    count = np.zeros(x.shape, dtype=np.int64)
    for k in range(thresholds.shape[1]):
        count += x >= thresholds[:, k]
    return count + int(out_bias)


def _monotone_thresholds(x_values: np.ndarray, row: np.ndarray):
    """Thresholds, direction and bias of one monotone row, or ``None`` when not monotone."""
    steps = np.diff(row)
    if np.all(steps >= 0):
        direction, xs, ys = 1, x_values, row
    elif np.all(steps <= 0):
        direction, xs, ys = -1, -x_values[::-1], row[::-1]
    else:
        return None
    bias = int(ys[0])
    # threshold T_k = first x' with y(x') >= bias + k; values above the range never reached
    thresholds = [int(xs[np.argmax(ys >= bias + k)]) for k in range(1, int(ys[-1]) - bias + 1)]
    return thresholds, direction, bias


def fit_channel_function(x_values: np.ndarray, table: np.ndarray, mode: str = "auto") -> dict:
    """Turn an exhaustive integer table into threshold, piecewise-affine or LUT parameters.

    Args:
        x_values: the consecutive integers ``x_min..x_max`` of the input range.
        table: ``(C_out, len(x_values))`` integer outputs, row ``c`` = ``f_c(x_values)``.
        mode: ``"thresholds"`` (error if a row is not monotone), ``"affine"`` (error if no exact
            piecewise-affine form exists), ``"lut"``, or ``"auto"``: for outputs with more than
            :data:`AFFINE_MIN_LEVELS` levels the affine form when it exists, otherwise
            thresholds when every row is monotone, else a LUT.

    Returns:
        ``{"mode", "params", "out_bias", "in_min"}`` for :class:`Requantize`: params hold
        ``thresholds`` (C_out, T) padded with ``x_max + 1`` (never reached) and ``direction``,
        the affine ``mul``/``add``/``knees``/``shift``/``clamp``, or ``lut`` (C_out, R).
    """
    x_values = np.asarray(x_values, dtype=np.int64)
    table = np.asarray(table, dtype=np.int64)
    if x_values.ndim != 1 or np.any(np.diff(x_values) != 1):
        raise ChannelFunctionError("x_values must be consecutive integers x_min..x_max")
    if table.ndim != 2 or table.shape[1] != x_values.size:
        raise ChannelFunctionError(f"table must be (C_out, {x_values.size}), got {table.shape}")
    if mode not in ("auto", "thresholds", "affine", "lut"):
        raise ChannelFunctionError(f"mode must be auto/thresholds/affine/lut, got {mode!r}")
    in_min = int(x_values[0])
    lut = {"mode": "lut", "params": {"lut": table.copy()}, "out_bias": 0, "in_min": in_min}
    if mode == "lut":
        return lut
    if mode == "affine" or (mode == "auto" and table.max() - table.min() + 1 >= AFFINE_MIN_LEVELS):
        affine = fit_piecewise_affine(x_values, table)
        if affine is not None:
            return {"mode": "affine", "params": affine, "out_bias": 0, "in_min": in_min}
        if mode == "affine":
            raise ChannelFunctionError("no exact piecewise-affine form with the allowed pieces")
    rows = [_monotone_thresholds(x_values, row) for row in table]
    if any(r is None for r in rows):
        if mode == "thresholds":
            bad = [c for c, r in enumerate(rows) if r is None]
            raise ChannelFunctionError(f"channels {bad[:8]} are not monotone; use mode='lut'")
        return lut
    bias = min(r[2] for r in rows)
    never = int(np.abs(x_values).max()) + 1  # |d*x| < never: ">= never" is never true
    # a row whose minimum exceeds the common bias gets "always true" thresholds (-never) first
    rows = [([-never] * (b - bias) + ts, d) for ts, d, b in rows]
    width = max(1, max(len(ts) for ts, _ in rows))
    thresholds = np.full((table.shape[0], width), never, dtype=np.int64)
    for c, (ts, _) in enumerate(rows):
        thresholds[c, :len(ts)] = ts
    direction = np.array([r[1] for r in rows], dtype=np.int64)
    return {"mode": "thresholds", "params": {"thresholds": thresholds, "direction": direction},
            "out_bias": bias, "in_min": in_min}


# -- per-channel functions shared by Requantize and the layers that fuse one (FracMVAU) ----------
def channel_function_reference(mode: str, params: dict, x: np.ndarray, out_bias: int = 0,
                               in_min: int = 0, where: str = "layer") -> np.ndarray:
    """``f_c(x[..., c])`` of a ``thresholds`` / ``affine`` / ``lut`` function (channels last)."""
    x = np.asarray(x, dtype=np.int64)
    if mode == "thresholds":
        return apply_thresholds(x, params["thresholds"], params.get("direction"), out_bias)
    if mode == "affine":
        return apply_piecewise_affine(x, params)
    if mode == "lut":
        lut = np.asarray(params["lut"], dtype=np.int64)
        idx = x - in_min
        if idx.min(initial=0) < 0 or idx.max(initial=0) >= lut.shape[1]:
            raise ChannelFunctionError(f"{where}: input outside the LUT range [{in_min}, "
                                       f"{in_min + lut.shape[1] - 1}]")
        return lut[np.arange(x.shape[-1]), idx]
    raise ChannelFunctionError(f"{where}: mode must be thresholds, affine or lut, got {mode!r}")


def channel_function_resources(mode: str, params: dict, in_bits: int, out_bits: int,
                               channels: int, pe: int) -> Resources:
    """Model of ``pe`` lanes of the function (without layer control).

    thresholds: :func:`~pynq_bnn.compiler.cost.threshold_unit` (parallel compare, or a binary
    search from 16 thresholds on); affine: :func:`~pynq_bnn.compiler.hw.affine.affine_resources`;
    lut: a ROM of ``(channels/pe)·entries`` words of ``out_bits`` per PE.
    """
    if mode == "lut":
        entries = int(np.asarray(params["lut"]).shape[1])
        return memory(depth=channels // pe * entries, width=out_bits, copies=pe)
    if mode == "affine":
        return affine_resources(params, in_bits, out_bits, channels, pe)
    return threshold_unit(int(np.asarray(params["thresholds"]).shape[1]), in_bits, channels, pe)


def channel_function_cpp(ident: str, mode: str, params: dict, out_type: StreamType, pe: int,
                         out_bias: int = 0, in_min: int = 0) -> tuple:
    """(params text, Act expression) of the function (CONTRACT.md section 4)."""
    from pynq_bnn.compiler.hls.params import affine_cpp, table_cpp

    if mode == "thresholds":
        return _thresholds_act_cpp(ident, params["thresholds"], params.get("direction"),
                                   out_bias, pe)
    if mode == "affine":
        return affine_cpp(ident, params, pe), f"{ident}_act"
    if mode == "lut":
        text = table_cpp(ident, params["lut"], in_min, out_type.bits, out_type.kind == "INT", pe)
        return text, f"{ident}_act"
    raise ChannelFunctionError(f"mode must be thresholds, affine or lut, got {mode!r}")


class Requantize(HWLayer, kind="Requantize"):
    """Per-output-channel integer function of one integer stream (thresholds, affine or LUT).

    ``out[..., c] = f_c(in[..., src[c]])``. Shapes are channels last; ``SPATIAL`` is the list of
    leading dims (``[H, W]`` for a feature map, ``[]`` for a vector).
    """

    ATTRS = (
        Attr("SPATIAL", list, None, "leading (spatial) dims of the stream, e.g. [H, W]"),
        Attr("IN_CH", int, None, "input channels"),
        Attr("OUT_CH", int, None, "output channels (src maps each to an input channel)"),
        Attr("in_dtype", str, None, "input stream type, e.g. INT12"),
        Attr("out_dtype", str, None, "output stream type, e.g. INT8, BIPOLAR, FRAC2"),
        Attr("MODE", str, "thresholds", "thresholds | affine | lut"),
        Attr("in_min", int, 0, "LUT mode: input value of LUT column 0"),
        Attr("out_bias", int, 0, "threshold mode: value added to the threshold count"),
        Attr("PE", int, 1, "output channels processed per cycle"),
    )

    def _pixels(self) -> int:
        return int(np.prod(self.SPATIAL)) if self.SPATIAL else 1

    def in_shapes(self) -> list:
        return [tuple(self.SPATIAL) + (self.IN_CH,)]

    def out_shape(self) -> tuple:
        return tuple(self.SPATIAL) + (self.OUT_CH,)

    def in_types(self) -> list:
        return [StreamType.parse(self.in_dtype)]

    def out_type(self) -> StreamType:
        return StreamType.parse(self.out_dtype)

    def src(self) -> np.ndarray:
        """Input channel read by each output channel (identity when not given)."""
        if "src" in self.params:
            return np.asarray(self.params["src"], dtype=np.int64)
        if self.IN_CH != self.OUT_CH:
            raise ChannelFunctionError(f"{self.name}: IN_CH != OUT_CH needs a 'src' parameter")
        return np.arange(self.OUT_CH)

    def folding_space(self) -> dict:
        return {"PE": [d for d in range(1, self.OUT_CH + 1) if self.OUT_CH % d == 0]}

    def check_folding(self) -> list:
        if self.PE < 1 or self.OUT_CH % self.PE:
            return [f"{self.name}: PE={self.PE} must divide OUT_CH={self.OUT_CH}"]
        return []

    def cycles(self) -> int:
        return self._pixels() * self.OUT_CH // self.PE

    def resources(self, board) -> Resources:
        """Model: :func:`channel_function_resources` on ``in_bits + 1`` (the sign-flipped
        comparison of a decreasing row) plus a flat streaming process's control
        (:func:`~pynq_bnn.compiler.cost.stream_control`: one loop over the words)."""
        out_bits = self.out_type().bits
        act = channel_function_resources(self.MODE, self.params, self.in_types()[0].bits + 1,
                                         out_bits, self.OUT_CH, self.PE)
        return act + stream_control(self.PE * out_bits)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """``f_c(x[..., src[c]])``: one gather in a per-channel table of the function over the
        input type's stored range (:class:`~pynq_bnn.compiler.kernels.ChannelTable`, built by
        :func:`channel_function_reference` itself, so bit-identical); the function directly
        when the range is too large for a table or an input lies outside it."""
        x = np.asarray(x)
        table = self._table()
        if table is not None and x.dtype.kind in "iu":
            if self._has_channel_map():
                x = np.take(x, self.src(), axis=-1)
            if table.covers(x):
                return table(x)
        x = np.asarray(x, dtype=np.int64)
        if table is None or x.shape[-1] != self.OUT_CH:
            x = x[..., self.src()]
        return channel_function_reference(self.MODE, self.params, x, self.out_bias, self.in_min,
                                          self.name)

    def mapped_reference(self, x: np.ndarray, values: np.ndarray):
        """``rows(start, stop) -> values[reference(x[start:stop])]``, one gather per call (the
        table mapped through ``values``, e.g. a consumer's float encoding of this layer's
        output codes), or None when there is no table, an input of ``x`` lies outside it, or
        an output is not an index of ``values``."""
        x = np.asarray(x)
        table = self._table()
        if table is None or x.dtype.kind not in "iu":
            return None
        values = np.asarray(values)

        def build():
            try:
                return table.mapped(values)
            except IndexError:
                return None

        mapped = cached(self, "mapped", [values, table.table], build)
        if mapped is None:
            return None
        if self._has_channel_map():
            x = np.take(x, self.src(), axis=-1)
        if not mapped.covers(x):
            return None
        return lambda start, stop: mapped(x[start:stop])

    def _table(self):
        """The cached :class:`ChannelTable` of this layer's function, or None."""
        lo, hi = stored_range(self.in_types()[0])
        if not ChannelTable.fits(lo, hi, self.OUT_CH):
            return None
        keys = [np.asarray(v) for _, v in sorted(self.params.items())]
        attrs = np.array([lo, hi, self.out_bias, self.in_min, self.OUT_CH])

        def build():
            try:
                return ChannelTable(
                    lambda grid: channel_function_reference(self.MODE, self.params, grid,
                                                            self.out_bias, self.in_min,
                                                            self.name), lo, hi, self.OUT_CH)
            except ChannelFunctionError:  # e.g. a LUT narrower than the type: no table
                return None

        return cached(self, "table", keys + [attrs, np.frombuffer(self.MODE.encode(), np.uint8)],
                      build)

    def _has_channel_map(self) -> bool:
        src = self.src()
        return self.IN_CH != self.OUT_CH or not np.array_equal(src, np.arange(self.OUT_CH))

    def render_hls(self) -> HlsSnippet:
        """``threshold_stream`` (identity channel map) or ``channel_map_activate`` (``src``),
        with ``Thresholds``, ``Affine`` or ``Lut``. Input lanes are read as raw stored values (as
        :meth:`reference`: BIPOLAR/FRAC2 codes count as unsigned integers)."""
        from pynq_bnn.compiler.hls.params import cname, partition_pragmas

        ident = cname(self.name)
        in_t, out_t = self.in_types()[0], self.out_type()
        act_text, act = channel_function_cpp(ident, self.MODE, self.params, out_t, self.PE,
                                             self.out_bias, self.in_min)
        pixels = self._pixels()
        if not self._has_channel_map():
            call = (f"bnn::threshold_stream<{self.OUT_CH}, {self.PE}, {pixels}, "
                    f"{raw_kind_cpp(in_t)}, {in_t.bits}, {out_t.bits}>(${{in0}}, ${{out}}, {act}, "
                    "${reps});")
            return HlsSnippet(includes=["bnn/activations.hpp"], params_header=act_text,
                              call=call, in_lanes=[self.PE], out_lanes=self.PE)
        src = self.src()
        if src.shape != (self.OUT_CH,) or src.min() < 0 or src.max() >= self.IN_CH:
            raise ChannelFunctionError(f"{self.name}: src must map {self.OUT_CH} output channels "
                                       f"to input channels 0..{self.IN_CH - 1}")
        in_pe = max(d for d in range(1, self.IN_CH + 1) if self.IN_CH % d == 0 and d <= self.PE)
        # OUT_PE consecutive entries per cycle -> cyclic by OUT_PE
        text = const_array_cpp(f"{ident}_src", "ap_uint<16>", src,
                               partition_pragmas(f"{ident}_src", (1,), "cyclic", self.PE)
                               if self.PE > 1 else "") + act_text
        call = (f"bnn::channel_map_activate<{self.IN_CH}, {in_pe}, {self.OUT_CH}, {self.PE}, "
                f"{pixels}, {raw_kind_cpp(in_t)}, {in_t.bits}, {out_t.bits}>(${{in0}}, ${{out}}, "
                f"{ident}_src, {act}, ${{reps}});")
        return HlsSnippet(includes=["bnn/activations.hpp"], params_header=text, call=call,
                          in_lanes=[in_pe], out_lanes=self.PE)


# -- HLS rendering helpers shared by the seed-technique layers (frac_mvau, residual, avgpool, lab)


def raw_kind_cpp(stype: StreamType) -> str:
    """``bnn::`` element kind reading a lane as its stored value, as the numpy references do
    (BIPOLAR bits and FRAC2 codes are unsigned integers there; INT is two's complement)."""
    return "bnn::INT" if stype.kind == "INT" else "bnn::UINT"


def const_array_cpp(name: str, ctype: str, values, partition: str = "") -> str:
    """``static const <ctype> <name>[d0][d1].. = {..};`` for an integer array (row-major),
    followed by ``partition`` (its ARRAY_PARTITION pragma lines, see
    :func:`pynq_bnn.compiler.hls.params.partition_pragmas`)."""
    values = np.asarray(values, dtype=np.int64)

    def braces(a) -> str:
        if a.ndim == 1:
            return "{" + ", ".join(str(int(v)) for v in a) + "}"
        return "{" + ", ".join(braces(row) for row in a) + "}"

    dims = "".join(f"[{d}]" for d in values.shape)
    return f"static const {ctype} {name}{dims} = {braces(values)};\n" + partition


def _thresholds_act_cpp(ident: str, thresholds, direction, out_bias: int, pe: int) -> tuple:
    """(params text, Act expression) of per-channel thresholds with directions ``±1``."""
    from pynq_bnn.compiler.hls.params import thresholds_cpp

    thresholds = np.asarray(thresholds, dtype=np.int64)
    if thresholds.ndim == 1:
        thresholds = thresholds[:, None]
    neg = None if direction is None else np.asarray(direction, dtype=np.int64) < 0
    return thresholds_cpp(ident, thresholds, pe, neg=neg, out_bias=int(out_bias)), f"{ident}_act"
