# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Render the top-level DATAFLOW function ``bnn_top`` of a :class:`DataflowGraph` (pure).

Every layer's :class:`~pynq_bnn.compiler.hw.base.HlsSnippet` gives its call and its lane counts;
from those this module derives every stream's word width (``lanes x element bits``) and
inserts the plumbing of CONTRACT.md: ``bnn::axi_to_stream`` + ``bnn::resize`` at the input,
``bnn::duplicate`` for tensors with several consumers (residual forks), ``bnn::resize`` wherever a
producer's word differs from its consumer's, and ``bnn::resize`` + ``bnn::stream_to_axi`` at the
output.

Hardware mapping: each call becomes one DATAFLOW process; each declared ``hls::stream`` a FIFO.
Every stream (the assembler's and those a layer declares in its ``decl``) is declared at the top
of ``bnn_top`` with exactly one ``STREAM depth`` pragma (Vitis rejects two depths for one stream,
HLS 214-160): a layer's own ``#pragma HLS STREAM variable = X depth = N`` is merged into X's
declaration, the larger depth winning. The layers' parameter headers are included inside
``bnn_top`` so their ``ARRAY_PARTITION`` pragmas sit where the arrays are defined.

Fork FIFO depths (exact from the geometry): ``bnn::duplicate`` writes each word to all branches in
the same cycle. The first consumer in layer order is the main branch; every other branch (a
shortcut) waits at its join until the main branch emits its first word, which a frame-buffered
window unit (``sliding_window``, CONTRACT.md) does only after reading the whole image. So each
shortcut branch FIFO holds exactly one image of the forked tensor (``words`` per image at the
fork's width), the main branch's the default 2. Depths measured by the bounded-FIFO dataflow
csim (:func:`pynq_bnn.compiler.hls.dataflow_csim.size_fifos`, stored in
``graph.meta["fifo_depths"]``) replace these when present.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

import numpy as np

from pynq_bnn.compiler.hls.params import cname

__all__ = ["HlsRenderError", "StreamIO", "TopLevel", "render_top"]

AXI_OUT = "<axi out>"
LIBRARY_INCLUDES = ("bnn/axi.hpp", "bnn/streams.hpp")
OUTPUT_ELEM_BITS = (8, 16, 32)  # output elements are widened to a numpy-viewable width
AP_INT_MAX_W = 4096  # widest ap_[u]int the generated code may use (Vitis allows up to 32768)
DEFAULT_DEPTH = 2
_STREAM_PRAGMA = re.compile(r"^\s*#pragma HLS STREAM variable\s*=\s*(\w+)\s+depth\s*=\s*(\d+)"
                            r"\s*$")
_STREAM_DECL = re.compile(r"hls::stream<\s*ap_uint<\s*(\d+)\s*>\s*>\s*(\w+)\s*"
                          r"(?:\(\s*\"\w*\"\s*\))?\s*;")


class HlsRenderError(ValueError):
    """A layer's snippet does not fit the template contract (message names the layer)."""


@dataclass(frozen=True)
class StreamIO:
    """One accelerator port: per image ``count`` elements of ``elem_bits`` in ``words`` AXI words."""

    count: int
    elem_bits: int
    signed: bool
    words: int
    shape: tuple


@dataclass
class TopLevel:
    """Rendered top level: C++ sources (by relative path) and the AXI port description."""

    files: dict
    axi_width: int
    input: StreamIO
    output: StreamIO
    layer_order: list = field(default_factory=list)
    identity: int = 0  # value of the read-only identity register (pynq_bnn.driver.identity)


@dataclass
class _Stream:
    name: str
    var: str
    count: int
    bits: int
    lanes: int = 0
    consumers: list = field(default_factory=list)  # (consumer key, lanes)

    @property
    def width(self) -> int:
        return self.lanes * self.bits

    @property
    def words(self) -> int:
        return self.count // self.lanes


def _snippet(layer):
    try:
        snip = layer.render_hls()
    except NotImplementedError as exc:
        raise HlsRenderError(f"layer {layer.name!r} ({layer.kind}) cannot be rendered to HLS: "
                             f"{exc}") from exc
    in_lanes = list(getattr(snip, "in_lanes", []) or [])
    out_lanes = int(getattr(snip, "out_lanes", 0) or 0)
    if len(in_lanes) != len(layer.inputs) or out_lanes <= 0:
        raise HlsRenderError(f"layer {layer.name!r} ({layer.kind}): render_hls() must set "
                             f"in_lanes (one per input, got {in_lanes}) and out_lanes (got "
                             f"{out_lanes}); see compiler/templates/CONTRACT.md section 3")
    return snip, in_lanes, out_lanes


class _Decls(dict):
    """Stream variable -> [width, depth] in declaration order; one depth per stream (max wins)."""

    def append(self, item):
        var, width, depth = item
        if var in self:
            if self[var][0] != width:
                raise HlsRenderError(f"stream {var!r} declared with widths {self[var][0]} and "
                                     f"{width}")
            self[var][1] = max(self[var][1], int(depth))
        else:
            self[var] = [int(width), int(depth)]

    def extend(self, items):
        for item in items:
            self.append(item)


def _split_decl(decl: str, decls: "_Decls") -> str:
    """Move the stream declarations of a layer's ``decl`` into ``decls``; return the rest."""
    for width, var in _STREAM_DECL.findall(decl):
        decls.append((var, int(width), DEFAULT_DEPTH))
    return _STREAM_DECL.sub("", decl).strip()


def _split_pragmas(pragmas, decls: "_Decls", layer) -> list:
    """Merge STREAM depth pragmas into ``decls``; return the other pragma lines."""
    rest = []
    for line in pragmas:
        match = _STREAM_PRAGMA.match(line)
        if match is None:
            rest.append(line)
            continue
        var, depth = match.group(1), int(match.group(2))
        if var not in decls:
            raise HlsRenderError(f"layer {layer.name!r}: STREAM pragma on {var!r}, which is not "
                                 "a stream of the top level")
        decls[var][1] = max(decls[var][1], depth)
    return rest


def _resize(src_var, src, dst_var, dst_width, dst_words, lines, decls, depth=DEFAULT_DEPTH):
    decls.append((dst_var, dst_width, depth))
    lines.append(f"  bnn::resize<{src.width}, {dst_width}, {src.words}, {dst_words}>"
                 f"({src_var}, {dst_var}, num_images);")


def render_top(graph, axi_width: int) -> TopLevel:
    """Render ``src/bnn_top.cpp``, ``src/bnn_top.hpp`` and ``src/params/*.hpp`` for ``graph``.

    Raises:
        HlsRenderError: a layer lacks ``render_hls`` or its lanes do not divide its tensor.
    """
    streams: dict = {}
    in_count = int(np.prod(graph.input_shape))
    streams[graph.input_name] = _Stream(graph.input_name, "s_" + cname(graph.input_name)[2:],
                                        in_count, 8)
    snippets = []
    for layer in graph.layers:
        snip, in_lanes, out_lanes = _snippet(layer)
        for idx, (tensor, lanes) in enumerate(zip(layer.inputs, in_lanes)):
            if tensor not in streams:
                raise HlsRenderError(f"layer {layer.name!r} reads {tensor!r} before it is written")
            streams[tensor].consumers.append(((layer.name, idx), lanes))
        out_t = layer.out_type()
        count = int(np.prod(layer.out_shape()))
        streams[layer.output] = _Stream(layer.output, "s_" + cname(layer.output)[2:], count,
                                        out_t.bits, lanes=out_lanes)
        snippets.append((layer, snip))
    out_stream = streams[graph.output_name]
    out_stream.consumers.append((AXI_OUT, None))
    source = streams[graph.input_name]
    source.lanes = source.consumers[0][1] if source.consumers else 1

    for s in streams.values():
        for _, lanes in s.consumers:
            if lanes is not None and s.count % lanes:
                raise HlsRenderError(f"stream {s.name!r}: {s.count} elements per image are not a "
                                     f"multiple of a consumer's {lanes} lanes")
        if s.count % s.lanes:
            raise HlsRenderError(f"stream {s.name!r}: {s.count} elements per image are not a "
                                 f"multiple of the producer's {s.lanes} lanes")

    out_elem = next(b for b in OUTPUT_ELEM_BITS if b >= out_stream.bits)
    out_signed = graph.layers[-1].out_type().kind == "INT" if graph.layers else False
    in_words = -(-in_count * 8 // axi_width)
    out_words = -(-out_stream.count * out_elem // axi_width)
    decls, body = _Decls(), []
    # Input: AXI words -> first layer's word width.
    decls.append(("axi_in", axi_width, 2))
    body.append(f"  bnn::axi_to_stream<{axi_width}, {in_words}>(in_stream, axi_in, num_images);")
    body.append(f"  bnn::resize<{axi_width}, {source.width}, {in_words}, {source.words}>"
                f"(axi_in, {source.var}, num_images);")
    decls.append((source.var, source.width, 2))
    # Per consumer: the variable it reads (after forks and width conversion).
    reads = {}

    def connect(s: _Stream):
        """Emit fork/resize plumbing of stream ``s`` and record each consumer's variable."""
        branches = [s.var]
        if len(s.consumers) > 1:
            image = max(DEFAULT_DEPTH, s.words)  # one image of the forked tensor (docstring)
            branches = []
            current = s.var
            last = len(s.consumers) - 2
            for i in range(len(s.consumers) - 1):
                a, b = f"{s.var}_f{i}", f"{s.var}_r{i}"
                decls.extend([(a, s.width, DEFAULT_DEPTH if i == 0 else image),
                              (b, s.width, image if i == last else DEFAULT_DEPTH)])
                body.append(f"  bnn::duplicate<{s.width}, {s.words}>({current}, {a}, {b}, "
                            "num_images);")
                branches.append(a)
                current = b
            branches.append(current)
        for (key, lanes), var in zip(s.consumers, branches):
            if key == AXI_OUT:
                continue
            if lanes * s.bits == s.width:
                reads[key] = var
            else:
                dst = f"{var}_w{lanes}"
                _resize(var, s, dst, lanes * s.bits, s.count // lanes, body, decls)
                reads[key] = dst
        return branches[-1] if s.consumers and s.consumers[-1][0] == AXI_OUT else None

    connect(source)
    params, includes = {}, list(LIBRARY_INCLUDES)
    final_var = None
    for layer, snip in snippets:
        mapping = {"out": streams[layer.output].var, "reps": "num_images"}
        for idx in range(len(layer.inputs)):
            mapping[f"in{idx}"] = reads[(layer.name, idx)]
        try:
            call = string.Template(snip.call).substitute(mapping)
            pragmas = [string.Template(p).substitute(mapping) for p in snip.pragmas]
            decl = string.Template(snip.decl).substitute(mapping) if snip.decl else ""
        except (KeyError, ValueError) as exc:
            raise HlsRenderError(f"layer {layer.name!r}: bad placeholder in its HLS call: "
                                 f"{exc}") from exc
        out = streams[layer.output]
        decls.append((out.var, out.width, DEFAULT_DEPTH))
        decl = _split_decl(decl, decls)
        pragmas = _split_pragmas(pragmas, decls, layer)
        body.append(f"  // {layer.kind} {layer.name}")
        if decl:
            body.append("  " + decl)
        body.extend("  " + p for p in pragmas)
        body.append("  " + call)
        includes.extend(h for h in snip.includes if h not in includes)
        if snip.params_header:
            params[f"src/params/{cname(layer.name)}.hpp"] = snip.params_header
        final = connect(out)
        if final is not None:
            final_var = final
    if final_var is None:
        final_var = source.var
    if out_elem != out_stream.bits:
        kind = "INT" if out_signed else "UINT"
        wide = f"{final_var}_x{out_elem}"
        decls.append((wide, out_stream.lanes * out_elem, 2))
        body.append(f"  bnn::widen<{out_stream.lanes}, {out_stream.bits}, {out_elem}, bnn::{kind}, "
                    f"{out_stream.words}>({final_var}, {wide}, num_images);")
        final_var = wide
    body.append(f"  bnn::resize<{out_stream.lanes * out_elem}, {axi_width}, {out_stream.words}, "
                f"{out_words}>({final_var}, axi_out, num_images);")
    decls.append(("axi_out", axi_width, 2))
    body.append(f"  bnn::stream_to_axi<{axi_width}, {out_words}>(axi_out, out_stream, "
                "num_images);")
    for var, depth in (getattr(graph, "meta", None) or {}).get("fifo_depths", {}).items():
        if var not in decls or int(depth) < 1:
            raise HlsRenderError(f"graph.meta['fifo_depths'] sets {var!r} to {depth}: not a "
                                 "stream of this graph's top level (re-measure the depths)")
        decls[var][1] = int(depth)
    files = dict(params)
    identity = _identity(graph)
    files["src/bnn_top.hpp"] = _header(axi_width, in_words, out_words, identity)
    files["src/bnn_top.cpp"] = _top_cpp(includes, sorted(params), decls, body)
    return TopLevel(files=files, axi_width=axi_width, identity=identity,
                    input=StreamIO(in_count, 8, False, in_words, tuple(graph.input_shape)),
                    output=StreamIO(out_stream.count, out_elem, out_signed, out_words,
                                    tuple(graph.layers[-1].out_shape()) if graph.layers else ()),
                    layer_order=[layer.name for layer in graph.layers])


def _identity(graph) -> int:
    """:func:`pynq_bnn.driver.identity.graph_identity` of ``graph`` as ``save_graph`` writes it."""
    import json

    from pynq_bnn.driver.identity import graph_identity

    arrays = {f"{layer.name}/{key}": np.asarray(value)
              for layer in graph.layers for key, value in layer.params.items()}
    return graph_identity(json.loads(json.dumps(graph.to_dict())), arrays)


def _header(axi_width: int, in_words: int, out_words: int, identity: int = 0) -> str:
    return f"""// SPDX-License-Identifier: BSD-3-Clause
// Generated by pynq_bnn: accelerator top level (see compiler/templates/CONTRACT.md section 2).
#ifndef BNN_TOP_HPP
#define BNN_TOP_HPP

// Before the first include of ap_int.h (UG1399): words up to 4096 bits (default limit 1024).
#ifndef AP_INT_MAX_W
#define AP_INT_MAX_W {AP_INT_MAX_W}
#endif

#include <ap_axi_sdata.h>
#include <ap_int.h>
#include <hls_stream.h>

#define BNN_AXI_W {axi_width}
#define BNN_IN_WORDS {in_words}
#define BNN_OUT_WORDS {out_words}
// Model identity (hash of graph.json + params.npz, pynq_bnn.driver.identity), read-only register
// written at the start of every run. Vitis HLS' default s_axilite map for the argument order
// (in, out, num_images, identity): 0x10 num_images, 0x18 identity data, 0x1c identity_ap_vld.
#define BNN_IDENTITY 0x{identity:08x}u
#define BNN_IDENTITY_OFFSET 0x18

void bnn_top(hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> >& in_stream,
             hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> >& out_stream, unsigned num_images,
             unsigned* identity);

#endif
"""


def _top_cpp(includes, param_files, decls, body) -> str:
    inc = "\n".join(f'#include "{h}"' for h in includes)
    par = "\n".join(f'#include "{p[len("src/"):]}"' for p in param_files)
    dec = []
    for var, (width, depth) in decls.items():
        dec.append(f'  hls::stream<ap_uint<{width}> > {var}("{var}");')
        dec.append(f"#pragma HLS STREAM variable = {var} depth = {depth}")
    return f"""// SPDX-License-Identifier: BSD-3-Clause
// Generated by pynq_bnn: DATAFLOW top level of the accelerator. Do not edit.
#include "bnn_top.hpp"
{inc}

void bnn_top(hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> >& in_stream,
             hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> >& out_stream, unsigned num_images,
             unsigned* identity) {{
#pragma HLS INTERFACE axis port = in_stream
#pragma HLS INTERFACE axis port = out_stream
#pragma HLS INTERFACE s_axilite port = num_images bundle = control
#pragma HLS INTERFACE s_axilite port = identity bundle = control
#pragma HLS INTERFACE s_axilite port = return bundle = control
  // Layer parameters: constant arrays (ROMs) defined here with their ARRAY_PARTITION pragmas.
{par}

#pragma HLS DATAFLOW
{chr(10).join(dec)}

  *identity = BNN_IDENTITY;  // read-only identity register (driver checks accelerator.json)
{chr(10).join(body)}
}}
"""
