# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Area of the generated top level's plumbing: every stream FIFO and every stream helper process.

The HW layers price their own compute and memories (``resources()``); what sits *between* them
is only known once the top level is assembled (:func:`pynq_bnn.compiler.hls.topgen.render_top`):
the inter-layer FIFOs, the fork (``bnn::duplicate``) and shortcut FIFOs at their declared depths,
the width converters (``bnn::resize``), the lane wideners and the AXI adapters. This module reads
them from the generated ``bnn_top.cpp`` itself — the text Vitis HLS compiles — so the estimate
follows whatever depths the HLS generator declares, with no second copy of its sizing rules:

* a stream is every ``hls::stream<ap_uint<W> > name`` declared in ``bnn_top``; its depth is the
  ``#pragma HLS STREAM variable = name depth = D`` (the largest one if several are given, the
  Vitis default ``DEFAULT_FIFO_DEPTH`` = 2 if none) and costs :func:`~pynq_bnn.compiler.cost.fifo`;
* a helper process is every call of a stream-library template of ``bnn/streams.hpp`` /
  ``bnn/frac_mvau.hpp`` (:data:`HELPERS`); its cost is
  :func:`~pynq_bnn.compiler.cost.stream_control` with its output register, plus the bit buffer
  and shifter of a width converter (:func:`~pynq_bnn.compiler.cost.width_converter`). Layer
  templates (``bnn::mvau``, ``bnn::sliding_window``, ...) are not helpers: their layers price
  them.

Example:
    >>> items = plumbing_items('''
    ...   hls::stream<ap_uint<64> > a("a");
    ... #pragma HLS STREAM variable = a depth = 4096
    ...   bnn::resize<64, 24, 384, 1024>(a, b, num_images);''')
    >>> [item.name for item in items]
    ['fifo a', 'resize 64->24']
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pynq_bnn.compiler.cost import fifo, stream_control, width_converter
from pynq_bnn.compiler.hw.base import Resources

__all__ = ["PlumbingItem", "plumbing_items", "graph_plumbing", "DEFAULT_FIFO_DEPTH", "HELPERS"]

DEFAULT_FIFO_DEPTH = 2  # Vitis HLS config_dataflow -fifo_depth default

_DECL = re.compile(r"hls::stream<\s*ap_uint<\s*(\d+)\s*>\s*(?:,\s*(\d+)\s*)?>\s+(\w+)")
_ANY_DECL = re.compile(r"hls::stream<[^;&]*>\s+(\w+)\s*[;(\[{]")
_DEPTH = re.compile(r"#pragma\s+HLS\s+STREAM\s+variable\s*=\s*(\w+)\s+depth\s*=\s*(\d+)")
_CALL = re.compile(r"bnn::(\w+)<([^;()]*)>\s*\(")


def _ints(args: str) -> list:
    return [int(a) for a in (s.strip() for s in args.split(",")) if a.isdigit()]


def _resize(args):
    in_w, out_w = args[0], args[1]
    return f"resize {in_w}->{out_w}", width_converter(in_w, out_w)


def _passthrough(width_index):
    def price(args):
        return None, stream_control(args[width_index])
    return price


def _widen(args):
    lanes, out_bits = args[0], args[2]
    return None, stream_control(lanes * out_bits)


def _add_valid(args):
    lanes, bits = args[0], args[1]
    return None, stream_control(lanes * (bits + 1))


# Stream-library templates the top level (or a layer's snippet) calls, with their cost from the
# integer template arguments (see streams.hpp / frac_mvau.hpp for the argument order).
HELPERS = {
    "resize": _resize,                    # <IN_W, OUT_W, IN_WORDS, OUT_WORDS>
    "duplicate": _passthrough(0),         # <W, WORDS>: two output registers share the control
    "copy_stream": _passthrough(0),       # <W, WORDS>
    "axi_to_stream": _passthrough(0),     # <AXI_W, WORDS>
    "stream_to_axi": _passthrough(0),     # <AXI_W, WORDS>
    "widen": _widen,                      # <LANES, IN_BITS, OUT_BITS, KIND, WORDS>
    "add_valid": _add_valid,              # <LANES, BITS, WORDS>
}


@dataclass(frozen=True)
class PlumbingItem:
    """One FIFO or helper process of the top level with its estimated resources."""

    name: str
    kind: str  # "FIFO" or "helper"
    width: int
    depth: int
    resources: Resources


def plumbing_items(top_cpp: str) -> list:
    """Every stream FIFO and helper process declared/called in a generated ``bnn_top.cpp``.

    Raises:
        ValueError: a stream is declared in a form the parser cannot price (never skipped).
    """
    widths, depths = {}, {}
    for width, depth, name in _DECL.findall(top_cpp):
        widths[name] = int(width)
        if depth:  # hls::stream<T, DEPTH> (Vitis 2022+)
            depths[name] = int(depth)
    unknown = sorted(set(_ANY_DECL.findall(top_cpp)) - set(widths))
    if unknown:
        raise ValueError(f"cannot price streams {unknown}: the area model reads "
                         "'hls::stream<ap_uint<W> > name' declarations with a literal width W")
    for name, depth in _DEPTH.findall(top_cpp):
        depths[name] = max(depths.get(name, 0), int(depth))
    items = []
    for name, width in widths.items():
        depth = depths.get(name, DEFAULT_FIFO_DEPTH)
        items.append(PlumbingItem(f"fifo {name}", "FIFO", width, depth, fifo(depth, width)))
    for template, args in _CALL.findall(top_cpp):
        price = HELPERS.get(template)
        if price is None:
            continue
        values = _ints(args)
        label, res = price(values)
        items.append(PlumbingItem(label or template, "helper", values[0], 0, res))
    return items


def graph_plumbing(graph, axi_width: int) -> list:
    """:func:`plumbing_items` of the top level rendered for ``graph`` (a ``DataflowGraph``).

    Raises:
        pynq_bnn.compiler.hls.topgen.HlsRenderError: a layer cannot be rendered.
    """
    from pynq_bnn.compiler.hls.topgen import render_top

    return plumbing_items(render_top(graph, axi_width).files["src/bnn_top.cpp"])
