# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``render_hls()`` of the core HW layers (MVAU, Thresholding, SlidingWindow, MaxPool,
LabelSelect): pure functions filling ``compiler/templates/CONTRACT.md`` (sections 3-5).

Each returns an :class:`HlsSnippet` whose ``call`` uses the ``${in0}``/``${out}``/``${reps}``
placeholders; constant arrays come from :mod:`pynq_bnn.compiler.hls.params` (never hand
formatted). Template arguments are the layer's attributes; ``Act`` is deduced from the argument.
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.base import HlsSnippet

__all__ = ["mvau_snippet", "threshold_snippet", "sliding_window_snippet", "max_pool_snippet",
           "label_select_snippet"]


def _kind(stype) -> str:
    return f"bnn::{stype.kind}"


def _act(layer, ident: str, channels: int, pe: int):
    """(params text, act expression) of a thresholded or affine layer, or a pass-through."""
    from pynq_bnn.compiler.hls.params import affine_cpp, thresholds_cpp

    if getattr(layer, "act_mode", "thresholds") == "affine":
        return affine_cpp(ident, layer.params, pe), f"{ident}_act"
    if not layer.num_thresholds:
        return "", "bnn::PassThrough()"
    text = thresholds_cpp(ident, layer.params["thresholds"], pe, neg=layer.params["neg"],
                          out_bias=layer.out_bias)
    return text, f"{ident}_act"


def mvau_snippet(layer) -> HlsSnippet:
    from pynq_bnn.compiler.hls.params import cname, weights_cpp

    ident = cname(layer.name)
    in_t, w_t, out_t = layer.in_types()[0], layer.weight_stream_type(), layer.out_type()
    weights = weights_cpp(ident, layer.params["weights"], layer.PE, layer.SIMD,
                          "BIPOLAR" if w_t.kind == "BIPOLAR" else w_t.kind, w_t.bits)
    act_text, act = _act(layer, ident, layer.MH, layer.PE)
    call = (f"bnn::mvau<{layer.MW}, {layer.MH}, {layer.SIMD}, {layer.PE}, {layer.pixels}, "
            f"{_kind(in_t)}, {in_t.bits}, {_kind(w_t)}, {w_t.bits}, ap_int<{layer.acc_bits()}>, "
            f"{out_t.bits}>(${{in0}}, ${{out}}, {ident}_w, {act}, ${{reps}});")
    return HlsSnippet(includes=["bnn/mvau.hpp"], params_header=weights + act_text, call=call,
                      in_lanes=[layer.SIMD], out_lanes=layer.PE)


def threshold_snippet(layer) -> HlsSnippet:
    from pynq_bnn.compiler.hls.params import cname

    ident = cname(layer.name)
    in_t, out_t = layer.in_types()[0], layer.out_type()
    act_text, act = _act(layer, ident, layer.channels, layer.PE)
    pixels = int(np.prod(layer.shape[:-1], dtype=np.int64))
    call = (f"bnn::threshold_stream<{layer.channels}, {layer.PE}, {pixels}, {_kind(in_t)}, "
            f"{in_t.bits}, {out_t.bits}>(${{in0}}, ${{out}}, {act}, ${{reps}});")
    return HlsSnippet(includes=["bnn/activations.hpp"], params_header=act_text, call=call,
                      in_lanes=[layer.PE], out_lanes=layer.PE)


def sliding_window_snippet(layer) -> HlsSnippet:
    """Unpadded or integer streams: one ``sliding_window``; padded ±1/FRAC2 streams are first
    widened to signed decoded values (``bnn::widen``) so the padding element 0 exists."""
    in_t, out_t = layer.in_types()[0], layer.out_type()
    (ih, iw), (kh, kw), (sh, sw) = layer.ifm_dim, layer.kernel, layer.stride
    pt, pl, pb, pr = (int(p) for p in layer.pad)
    src, decl, pre = "${in0}", "", ""
    if out_t != in_t:
        words = int(ih) * int(iw) * layer.channels // layer.SIMD
        decl = f"hls::stream<ap_uint<{layer.SIMD * out_t.bits}> > ${{out}}_wide;"
        pre = (f"bnn::widen<{layer.SIMD}, {in_t.bits}, {out_t.bits}, {_kind(in_t)}, {words}>"
               f"(${{in0}}, ${{out}}_wide, ${{reps}});\n  ")
        src = "${out}_wide"
    call = (f"{pre}bnn::sliding_window<{kh}, {kw}, {sh}, {sw}, {pt}, {pl}, {pb}, {pr}, {ih}, "
            f"{iw}, {layer.channels}, {layer.SIMD}, {out_t.bits}, 0>({src}, ${{out}}, "
            "${reps});")
    return HlsSnippet(includes=["bnn/sliding_window.hpp", "bnn/streams.hpp"], decl=decl,
                      call=call, in_lanes=[layer.SIMD], out_lanes=layer.SIMD)


def max_pool_snippet(layer) -> HlsSnippet:
    t = layer.out_type()
    (ih, iw), (kh, kw) = layer.ifm_dim, layer.kernel
    call = (f"bnn::max_pool<{kh}, {kw}, {ih}, {iw}, {layer.channels}, {layer.PE}, {_kind(t)}, "
            f"{t.bits}>(${{in0}}, ${{out}}, ${{reps}});")
    return HlsSnippet(includes=["bnn/pool.hpp"], call=call, in_lanes=[layer.PE],
                      out_lanes=layer.PE)


def label_select_snippet(layer) -> HlsSnippet:
    in_t, out_t = layer.in_types()[0], layer.out_type()
    call = (f"bnn::label_select<{layer.labels}, {layer.PE}, {layer.k}, {_kind(in_t)}, "
            f"{in_t.bits}, {out_t.bits}>(${{in0}}, ${{out}}, ${{reps}});")
    return HlsSnippet(includes=["bnn/label_select.hpp"], call=call, in_lanes=[layer.PE],
                      out_lanes=1)
