# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Shared FPGA resource-cost helpers: the building blocks every HW layer's ``resources()`` sums.

The model (first-order, documented so estimates can be checked and recalibrated):

Memories (:func:`memory`) — a ``depth x width`` bit array.

* Block RAM: a RAMB18 in simple dual-port mode offers the aspect ratios ``16K x 1``, ``8K x 2``,
  ``4K x 4``, ``2K x 9``, ``1K x 18`` and ``512 x 36``; a memory takes
  ``min over ratios (w, d) of ceil(width / w) * ceil(depth / d)`` blocks. This is why FINN keeps the
  per-PE weight word ≤ 36 bits: a wider word spreads over more, emptier blocks.
* LUTRAM: a LUT6 in a SLICEM is a ``64 x 1`` RAM, so ``width * ceil(depth / 64)`` LUTs.
* UltraRAM: ``72 x 4096`` per block (288 Kb), only when asked for and the board has it.
* ``style="auto"`` chooses by size, as the tools' inference does: LUTRAM (or LUT logic, for a
  constant table) when ``depth * width <= LUTRAM_MAX_BITS`` (512) or ``depth <= SHALLOW_DEPTH``
  (32: at most one LUT per bit, e.g. per-channel tables and fully unrolled weights); block RAM
  otherwise. Both limits are calibrated (see below): a 64-word limit puts CNV's 36-word per-PE
  weight tables of its second layer (PE 32) in LUTs and under-estimates the block RAM of both
  CNV anchors by 36-40 %; 1,024 bits instead of 512 moves BNN-PYNQ CNV from 0.76x to 0.74x.

Arithmetic (LUT6 fabric with carry chains; one FF per registered output bit):

* XNOR-popcount of ``n`` bit pairs (:func:`xnor_popcount`): three XNORs and their 2-bit count fit
  6 LUT inputs, so the first stage is ``2 * ceil(n/3)`` LUTs producing ``ceil(n/3)`` 2-bit partial
  counts (unregistered), followed by an :func:`adder_tree`.
* Adder tree of ``k`` operands of ``b`` bits (:func:`adder_tree`): ``ceil(log2 k)`` levels; level
  ``l`` has ``floor(k_l / 2)`` two-input adders of ``b + l`` bits, one LUT per bit; a pipeline
  register (one FF per bit) after every ``PIPELINE_LEVELS`` (2) levels and after the last, as
  HLS schedules two carry-chain adders per 10 ns cycle.
* Accumulator (:func:`accumulator`): ``b`` LUTs + ``b`` FFs.
* Compare with a constant (:func:`constant_compare`): a LUT6 compares 6 input bits with a fixed
  value; each further LUT folds 5 more bits with the previous partial result, so
  ``max(1, ceil((b - 1) / 5))`` LUTs (2 for an 8-bit pixel); no storage.
* Threshold compare (:func:`threshold_compare`): one ``b``-bit comparator against a stored value
  is ``b`` LUTs on the carry chain; ``T`` thresholds per channel are ``T`` comparators plus a small
  adder counting the passed ones (the multi-bit output code).
* Threshold unit with storage (:func:`threshold_unit`): below ``SEARCH_MIN_THRESHOLDS`` (16) the
  parallel compare above with one ``T * b``-bit word per channel; from 16 thresholds on a
  pipelined binary search (FINN's RTL thresholding does the same): ``n = ceil(log2(T + 1))``
  comparator stages, stage ``s`` reading its own table of ``2^s`` thresholds per channel.
* Integer products (:func:`int_mac`): ±1 weights make a product a conditional negation
  (``a_bits + 1`` LUTs); products with both operands ≥ ``DSP_MIN_BITS`` (5) bits take one DSP
  each; other small products ``a_bits * w_bits`` LUTs. Products are summed by an
  :func:`adder_tree`.
* Control and stream handshakes: a constant per HLS process plus one register per output-stream
  bit — :func:`layer_control` for a process with nested loops and index arithmetic (MVAU,
  window, pooling: loop counters, ``/`` and ``%`` by constants, FSM, ``ap_ctrl``; calibrated,
  see below), :func:`stream_control` for a flat streaming loop (forks, converters, element-wise
  units).
* Stream FIFOs (:func:`fifo`), following Vitis HLS's ``config_storage fifo`` defaults
  (``auto_srl_max_depth`` 2, ``auto_srl_max_bits`` 1024): a FIFO of at most 2 words and at most
  1,024 bits is a shift register (``depth * width`` FFs, a ``width``-bit read multiplexer and a
  few control bits); any other FIFO is a dual-port memory (:func:`memory`, so LUTRAM or BRAM by
  the rule above) with read/write pointers and an output register.
* Width converters (:func:`width_converter`, ``bnn::resize``): a bit buffer of ``in + out`` bits
  and a variable shifter placing each input word at one of ``out / gcd(in, out)`` offsets (each
  buffer bit a multiplexer over the input bits that can land on it; a LUT6 is a 4:1
  multiplexer), plus a process's control.

Calibration: the control constant of a nested-loop process (``CONTROL_LUT``/``CONTROL_FF`` =
400/800), the popcount pipelining and the two memory-style limits were set once, for all designs,
against three synthesized designs with published foldings (the facts are in
``tests/compiler/data/area_anchors.json``, the comparison in
``tests/compiler/test_area_calibration.py``); everything else is structural. Estimate of our
templates with each published folding / published total (the BNN-PYNQ designs with their own
published FIFO depths, which are deeper than ours; finn-examples without its shell):

=====================  ================  ================  ============
design                 LUT               FF                BRAM18
=====================  ================  ================  ============
finn-examples cnv-w1a1 21,440 (1.01x)    31,161 (0.99x)    170 (0.83x)
BNN-PYNQ CNV-W1A1      23,582 (0.90x)    34,131 (0.83x)    188 (0.76x)
BNN-PYNQ LFC-W1A1      25,294 (0.89x)    31,223 (0.93x)    221 (1.00x)
=====================  ================  ================  ============

Block RAM is the loosest fit: finn-examples sizes its FIFOs by simulation at build time and
BNN-PYNQ binds its (run-time writable) weight and threshold arrays to RAMs; neither is published
per stream, so both CNV anchors keep more block RAM than our templates would. Every estimate is
labelled :data:`MODEL_LABEL`.

All helpers return :class:`~pynq_bnn.compiler.hw.base.Resources` (BRAM in 18 Kb blocks) and reject
nonsensical arguments with a ``ValueError`` naming the argument.

Example:
    >>> memory(depth=512, width=36).bram18
    1
    >>> memory(depth=16, width=32).lut      # 512 bits: LUTRAM
    32
"""
from __future__ import annotations

import math

from pynq_bnn.compiler.hw.base import Resources

__all__ = [
    "BRAM18_ASPECTS", "LUTRAM_MAX_BITS", "SHALLOW_DEPTH", "DSP_MIN_BITS", "memory", "adder_tree",
    "xnor_popcount", "accumulator", "threshold_compare", "threshold_unit",
    "SEARCH_MIN_THRESHOLDS", "constant_compare", "int_mac",
    "layer_control", "stream_control", "fifo", "width_converter", "MODEL_LABEL",
    "popcount_bits", "signed_sum_bits", "platform_shell",
]

MODEL_LABEL = ("estimated (model calibrated on finn-examples cnv-w1a1, BNN-PYNQ CNV/LFC; "
               "pynq_bnn.compiler.cost)")

BRAM18_ASPECTS = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))
LUTRAM_MAX_BITS = 512
SHALLOW_DEPTH = 32
DSP_MIN_BITS = 5
SEARCH_MIN_THRESHOLDS = 16
URAM_WIDTH, URAM_DEPTH = 72, 4096
LUTRAM_DEPTH = 64


def _check_int(name: str, value, minimum: int = 0) -> int:
    if not isinstance(value, (int,)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def popcount_bits(n: int) -> int:
    """Bits of an unsigned count of ``0..n``: ``ceil(log2(n + 1))`` (at least 1)."""
    n = _check_int("n", n)
    return max(1, n.bit_length())


def signed_sum_bits(max_abs: int) -> int:
    """Bits of a two's-complement integer holding ``-max_abs..max_abs``."""
    max_abs = _check_int("max_abs", max_abs)
    return max_abs.bit_length() + 1


def _bram18_blocks(depth: int, width: int) -> int:
    return min(math.ceil(width / w) * math.ceil(depth / d) for w, d in BRAM18_ASPECTS)


def memory(depth: int, width: int, style: str = "auto", copies: int = 1) -> Resources:
    """Resources of ``copies`` independent memories of ``depth`` words of ``width`` bits.

    Args:
        depth: words per memory (e.g. weight words per PE: ``(MW/SIMD) * (MH/PE)``).
        width: bits per word (e.g. ``SIMD * weight_bits``).
        style: ``"auto"``, ``"bram"``, ``"lutram"`` or ``"uram"`` (see module docstring).
        copies: number of identical memories (one per PE, typically).
    """
    depth, width = _check_int("depth", depth), _check_int("width", width)
    copies = _check_int("copies", copies)
    if depth == 0 or width == 0 or copies == 0:
        return Resources()
    luts = width * math.ceil(depth / LUTRAM_DEPTH)
    blocks = _bram18_blocks(depth, width)
    if style == "auto":
        small = depth * width <= LUTRAM_MAX_BITS or depth <= SHALLOW_DEPTH
        style = "lutram" if small else "bram"
    if style == "lutram":
        return Resources(lut=copies * luts, ff=copies * width)
    if style == "bram":
        return Resources(bram18=copies * blocks, ff=copies * width)
    if style == "uram":
        urams = math.ceil(width / URAM_WIDTH) * math.ceil(depth / URAM_DEPTH)
        return Resources(uram=copies * urams, ff=copies * width)
    raise ValueError(f"memory style must be 'auto', 'bram', 'lutram' or 'uram', got {style!r}")


PIPELINE_LEVELS = 2


def adder_tree(operands: int, bits: int, copies: int = 1) -> Resources:
    """A pipelined binary adder tree summing ``operands`` values of ``bits`` bits (registered
    every ``PIPELINE_LEVELS`` levels and at its output)."""
    operands, bits = _check_int("operands", operands), _check_int("bits", bits, 1)
    copies = _check_int("copies", copies)
    luts = ffs = 0
    level, count = 0, operands
    while count > 1:
        level += 1
        adders = count // 2
        count = adders + count % 2
        luts += adders * (bits + level)
        if level % PIPELINE_LEVELS == 0 or count == 1:
            ffs += count * (bits + level)
    return Resources(lut=copies * luts, ff=copies * ffs)


def xnor_popcount(simd: int, pe: int = 1) -> Resources:
    """``pe`` XNOR-popcount units, each over ``simd`` (activation bit, weight bit) pairs."""
    simd, pe = _check_int("simd", simd, 1), _check_int("pe", pe, 1)
    groups = math.ceil(simd / 3)
    first = Resources(lut=2 * groups * pe)
    return first + adder_tree(groups, 2, copies=pe)


def accumulator(bits: int, pe: int = 1) -> Resources:
    """``pe`` accumulators (adder + register) of ``bits`` bits."""
    bits, pe = _check_int("bits", bits, 1), _check_int("pe", pe, 1)
    return Resources(lut=bits * pe, ff=bits * pe)


def constant_compare(bits: int, count: int = 1) -> Resources:
    """``count`` comparisons of a ``bits``-bit value with fixed constants (registered 1-bit out)."""
    bits, count = _check_int("bits", bits, 1), _check_int("count", count)
    return Resources(lut=count * max(1, math.ceil((bits - 1) / 5)), ff=count)


def threshold_compare(thresholds: int, bits: int, pe: int = 1) -> Resources:
    """``pe`` lanes, each comparing a ``bits``-bit value with ``thresholds`` stored thresholds.

    The output code is the number of thresholds passed (0..T), counted by a small adder tree.
    Threshold storage is not included: add a :func:`memory` of ``T * bits`` wide words.
    """
    thresholds, bits = _check_int("thresholds", thresholds, 1), _check_int("bits", bits, 1)
    pe = _check_int("pe", pe, 1)
    compare = Resources(lut=thresholds * bits * pe, ff=popcount_bits(thresholds) * pe)
    return compare + adder_tree(thresholds, 1, copies=pe)


def threshold_unit(thresholds: int, bits: int, channels: int, pe: int = 1) -> Resources:
    """``pe`` multi-threshold lanes for ``channels`` channels including the threshold storage.

    ``T < SEARCH_MIN_THRESHOLDS``: :func:`threshold_compare` + a table of ``channels/pe`` words of
    ``T * bits`` bits per lane. Otherwise a binary search over the thresholds padded to
    ``2^n - 1``: ``n`` registered ``bits``-bit comparator stages, stage ``s`` with a table of
    ``(channels/pe) * 2^s`` words of ``bits`` bits per lane (the ``bnn::ThresholdSearch`` template).
    """
    thresholds, bits = _check_int("thresholds", thresholds, 1), _check_int("bits", bits, 1)
    channels, pe = _check_int("channels", channels, 1), _check_int("pe", pe, 1)
    nf = max(1, channels // pe)
    if thresholds < SEARCH_MIN_THRESHOLDS:
        return (threshold_compare(thresholds, bits, pe)
                + memory(depth=nf, width=thresholds * bits, copies=pe))
    stages = popcount_bits(thresholds)
    res = Resources(lut=stages * bits * pe, ff=stages * (bits + stages) * pe)
    for stage in range(stages):
        res = res + memory(depth=nf << stage, width=bits, copies=pe)
    return res


def int_mac(simd: int, pe: int, in_bits: int, weight_bits: int) -> Resources:
    """``pe`` dot-product units over ``simd`` integer products ``in_bits x weight_bits``.

    ``weight_bits == 1`` means bipolar ±1 weights (conditional negation, no multiplier).
    The accumulator is not included (see :func:`accumulator`).
    """
    simd, pe = _check_int("simd", simd, 1), _check_int("pe", pe, 1)
    in_bits = _check_int("in_bits", in_bits, 1)
    weight_bits = _check_int("weight_bits", weight_bits, 1)
    lanes = simd * pe
    if weight_bits == 1:
        products = Resources(lut=lanes * (in_bits + 1), ff=lanes * (in_bits + 1))
        product_bits = in_bits + 1
    elif min(in_bits, weight_bits) >= DSP_MIN_BITS:
        products = Resources(dsp=lanes, ff=lanes * (in_bits + weight_bits))
        product_bits = in_bits + weight_bits
    else:
        products = Resources(lut=lanes * in_bits * weight_bits, ff=lanes * (in_bits + weight_bits))
        product_bits = in_bits + weight_bits
    return products + adder_tree(simd, product_bits, copies=pe)


CONTROL_LUT, CONTROL_FF = 400, 800
STREAM_CONTROL_LUT, STREAM_CONTROL_FF = 100, 130
SRL_MAX_DEPTH, SRL_MAX_BITS = 2, 1024


def layer_control(stream_bits: int = 0) -> Resources:
    """One HLS process's constant: loop counters, FSM and AXI-Stream handshakes, plus its output
    register: ``CONTROL_LUT`` LUTs and ``CONTROL_FF + stream_bits`` FFs (calibrated, see above).

    Args:
        stream_bits: width of the output stream word (registered once).
    """
    stream_bits = _check_int("stream_bits", stream_bits)
    return Resources(lut=CONTROL_LUT, ff=CONTROL_FF + stream_bits)


def stream_control(stream_bits: int = 0) -> Resources:
    """A flat streaming process's constant (one pipelined loop over the words of an image, no
    index arithmetic: forks, lane wideners, AXI adapters, element-wise adds and requantizers):
    a 32-bit trip counter with its compare, the FSM and ``ap_ctrl`` handshake and the copy of the
    ``num_images`` argument Vitis passes along the DATAFLOW region — ``STREAM_CONTROL_LUT`` LUTs
    and ``STREAM_CONTROL_FF + stream_bits`` FFs (the output register)."""
    stream_bits = _check_int("stream_bits", stream_bits)
    return Resources(lut=STREAM_CONTROL_LUT, ff=STREAM_CONTROL_FF + stream_bits)


def fifo(depth: int, width: int) -> Resources:
    """A stream FIFO of ``depth`` words of ``width`` bits as Vitis HLS binds it by default.

    * ``depth <= SRL_MAX_DEPTH`` and ``depth * width <= SRL_MAX_BITS``: shift register,
      ``depth * width + 4`` FFs and ``width + 6`` LUTs (read multiplexer, full/empty logic);
    * otherwise a memory FIFO: ``memory(depth, width)`` (LUTRAM/BRAM by the auto rule), an output
      register of ``width`` FFs and two ``ceil(log2 depth)``-bit pointers with their
      incrementers and comparators (``2 p`` FFs, ``3 p + 8`` LUTs).
    """
    depth, width = _check_int("depth", depth), _check_int("width", width)
    if depth == 0 or width == 0:
        return Resources()
    if depth <= SRL_MAX_DEPTH and depth * width <= SRL_MAX_BITS:
        return Resources(lut=width + 6, ff=depth * width + 4)
    pointer = max(1, (depth - 1).bit_length())
    storage = memory(depth, width)
    return Resources(lut=storage.lut + 3 * pointer + 8, ff=width + 2 * pointer,
                     bram18=storage.bram18)


def width_converter(in_bits: int, out_bits: int) -> Resources:
    """``bnn::resize`` from ``in_bits`` to ``out_bits`` words: an ``in + out``-bit buffer (FFs)
    and a shifter placing each input word at an offset ``a`` (a multiple of ``g = gcd(in, out)``
    below ``out``): buffer bit ``j`` selects among ``fanin = min(out / g, ceil(in / g))`` input
    bits (the offsets with ``0 <= j - a < in``), ``ceil(fanin / 4)`` LUTs (a LUT6 is a 4:1
    multiplexer); plus one process's :func:`layer_control` (its output register included)."""
    in_bits, out_bits = _check_int("in_bits", in_bits, 1), _check_int("out_bits", out_bits, 1)
    buffer = in_bits + out_bits
    g = math.gcd(in_bits, out_bits)
    fanin = max(1, min(out_bits // g, math.ceil(in_bits / g)))
    counters = Resources(lut=3 * 32, ff=3 * 32)  # bits held, words read, words written
    return (Resources(lut=buffer * math.ceil(fanin / 4), ff=buffer) + counters
            + stream_control(out_bits))


def platform_shell() -> Resources:
    """The fixed platform around the accelerator, counted once per design.

    AXI DMA (MM2S + S2MM), AXI interconnect, reset and clocking IP: a first-order figure from
    typical PYNQ block designs, used by the estimates and the fits-budget folding search.
    """
    return Resources(lut=2_500, ff=3_500, bram18=4)
