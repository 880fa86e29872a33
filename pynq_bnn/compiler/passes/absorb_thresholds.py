# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""AbsorbThresholds: the streamline step — every segment between integer points becomes
``integer MAC -> [Mul(±1)] -> MultiThreshold`` (see :mod:`.segments` and :mod:`.tail_eval`).

For a segment ``S -> scales -> layout -> MAC(W_int * s_w) -> tail -> quantizer``:

1. the accumulator range per output channel follows from the integer weights and the range of
   ``S`` (its qonnx DataType; 0 is added when a Conv pads);
2. the tail is evaluated on every integer ``a`` of that range, fed with the float value the graph
   computes for it, ``float32(a) * (s_in * s_w)`` (exact when the scales are powers of two, as for
   every binary layer; otherwise the float graph itself rounds per image); a Conv bias is added
   to that value as the first per-channel op;
3. the levels give thresholds (+ ``neg`` flags, applied by a ``Mul(±1)``); the scale nodes are
   removed, the weights replaced by ``W_int`` and the tail + quantizer by the MultiThreshold
   (followed by ``Mul(s_out)`` when the quantizer scale is not 1, absorbed by the next segment).

A standalone tail (no MAC: input binarization, the 8-bit input quantizer) is evaluated on the
source's own range; an identity (e.g. ``Quant(p/255, 1/255, 8 bit) = p``) becomes just
``Mul(S, s_out)``. The last segment (tail ending at the graph output) must be one strictly
increasing function shared by all classes (a positive logit scale): it is dropped so the graph
outputs the integer accumulators, which have the same top-k.
"""
from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType

from pynq_bnn.compiler.ir import QONNX_DOMAIN, UnsupportedGraphError, attr, consumers, made_from, \
    remove_node, replace_tensor_uses, unique_tensor_name
from pynq_bnn.compiler.passes.base import Pass
from pynq_bnn.compiler.passes.segments import find_segment
from pynq_bnn.compiler.passes.tail_eval import MAX_EVALUATIONS, derive_thresholds, \
    evaluate_tail, quant_levels

__all__ = ["AbsorbThresholds", "int_dtype_for"]


def int_dtype_for(lo: int, hi: int):
    """Smallest qonnx integer DataType holding ``[lo, hi]``."""
    if lo >= 0:
        return DataType[f"UINT{max(1, int(hi).bit_length())}"]
    return DataType[f"INT{max(abs(int(lo)) - 1, int(hi)).bit_length() + 1}"]


def _integer_tensors(model) -> list:
    names = [i.name for i in model.graph.input] + [o for n in model.graph.node for o in n.output]
    return [t for t in names if model.get_initializer(t) is None
            and model.get_tensor_datatype(t).is_integer()]


def _acc_range(seg, model):
    """Per-channel accumulator range ``(lo, hi)`` of the segment's MAC and its channel axis."""
    dt = model.get_tensor_datatype(seg.source)
    xmin, xmax = float(dt.min()), float(dt.max())
    w = seg.weights
    if seg.mac.op_type == "Conv":
        if any(attr(seg.mac, "pads", [0])):
            xmin, xmax = min(xmin, 0.0), max(xmax, 0.0)
        w = w.reshape(w.shape[0], -1).T  # (K, OC)
    lo = np.minimum(w * xmin, w * xmax).sum(axis=0)
    hi = np.maximum(w * xmin, w * xmax).sum(axis=0)
    return lo.astype(np.int64), hi.astype(np.int64)


def _channel_scale(model, seg, channels: int) -> np.ndarray:
    """float32 product of the input scale(s) and the per-channel weight scale."""
    scale = np.float32(1.0)
    for node in seg.scales:  # the graph's own op on 1.0
        value = np.float32(np.asarray(model.get_initializer(node.input[1])).reshape(()))
        scale = scale * value if node.op_type == "Mul" else scale / value
    return np.broadcast_to(np.float32(scale) * seg.weight_scale.reshape(-1).astype(np.float32),
                           (channels,))


class AbsorbThresholds(Pass):
    """Streamline one segment per ``apply`` (qonnx repeats until no segment is left)."""

    def apply(self, model):
        for source in _integer_tensors(model):
            for node in consumers(model, source):
                seg = find_segment(model, source, node)
                if seg is not None:
                    self._rewrite(model, seg)
                    return model, True
        return model, False

    # -- evaluation ------------------------------------------------------------------------------
    def _tail_values(self, model, seg):
        """(domain, lo, hi, tail output (D, C), rank) of the segment."""
        if seg.mac is not None:
            lo, hi = _acc_range(seg, model)
            out_shape = model.get_tensor_shape(seg.mac.output[0])
        else:
            dt = model.get_tensor_datatype(seg.source)
            out_shape = model.get_tensor_shape(seg.source)
            lo = np.full(out_shape[1], int(dt.min()), dtype=np.int64)
            hi = np.full(out_shape[1], int(dt.max()), dtype=np.int64)
        channels, rank = out_shape[1], len(out_shape)
        domain = np.arange(lo.min(), hi.max() + 1, dtype=np.int64)
        node = seg.quant or (seg.tail[-1] if seg.tail else seg.mac)
        if domain.size * channels > MAX_EVALUATIONS:
            raise UnsupportedGraphError(node, f"ends a tail over an integer range of {domain.size}"
                                        f" values x {channels} channels: too wide to tabulate")
        values = domain.astype(np.float32)[:, None] * np.ones(channels, np.float32)
        if seg.mac is not None:
            values = values * _channel_scale(model, seg, channels)[None, :]
            if seg.bias is not None:  # Conv bias: the first per-channel op of the tail
                values = values + seg.bias[None, :]
        values = values.reshape((domain.size, channels) + (1,) * (rank - 2))
        nodes = seg.tail + ([seg.quant] if seg.quant is not None else [])
        out = evaluate_tail(model, nodes, seg.tail_input, values) if nodes else values
        return domain, lo, hi, out.reshape(domain.size, channels), rank

    # -- rewriting -------------------------------------------------------------------------------
    def _rewrite(self, model, seg) -> None:
        domain, lo, hi, out, rank = self._tail_values(model, seg)
        if seg.quant is None:
            self._rewrite_output(model, seg, out)
            return
        levels = quant_levels(model, seg.quant)
        counts = np.round(out.astype(np.float64) / levels.scale) - levels.qmin
        counts = counts / levels.step
        if np.any(counts != np.round(counts)) or counts.min() < 0 or counts.max() > levels.n:
            raise UnsupportedGraphError(seg.quant, "produced values off its quantization grid "
                                        "while tabulating the tail")
        counts = counts.astype(np.int64)
        identity = (seg.mac is None and levels.step == 1 and np.all(
            counts + levels.qmin == domain[:, None]))
        q_out = seg.quant.output[0]
        for node in seg.tail + [seg.quant]:
            model.graph.node.remove(node)
        if identity:
            self._emit_scale(model, seg.source, q_out, levels.scale,
                             self._insert_index(model, seg.source), seg.quant)
            return
        thresholds, neg = derive_thresholds(seg.quant, counts, domain, lo, hi, levels.n)
        acc = self._absorb_mac(model, seg)
        index = self._insert_index(model, acc)
        channels = thresholds.shape[0]
        bshape = (1, channels) + (1,) * (rank - 2)
        if np.any(neg):
            signs = unique_tensor_name(model, f"{acc}_sign")
            sign_values = np.where(neg, -1.0, 1.0).astype(np.float32).reshape(bshape)
            model.set_initializer(signs, sign_values)
            signed = unique_tensor_name(model, f"{acc}_signed")
            model.graph.node.insert(index, helper.make_node("Mul", [acc, signs], [signed],
                                                            name=f"{seg.quant.name}_neg",
                                                            doc_string=made_from(seg.quant)))
            index, acc = index + 1, signed
        thr_name = unique_tensor_name(model, f"{seg.quant.name}_thresholds")
        model.set_initializer(thr_name, thresholds.astype(np.float32))
        mt_out = q_out if levels.scale == 1.0 else unique_tensor_name(model, f"{q_out}_int")
        model.graph.node.insert(index, helper.make_node(
            "MultiThreshold", [acc, thr_name], [mt_out], domain=QONNX_DOMAIN,
            name=f"{seg.quant.name}_MT", doc_string=made_from(seg.quant),
            out_scale=levels.mt_out_scale,
            out_bias=levels.mt_out_bias, data_layout="NCHW" if rank == 4 else "NC"))
        model.set_tensor_datatype(mt_out, levels.dtype)
        if mt_out != q_out:
            self._emit_scale(model, mt_out, q_out, levels.scale, index + 1, seg.quant)

    def _rewrite_output(self, model, seg, out) -> None:
        first = seg.tail[0] if seg.tail else seg.mac
        if not (np.all(out == out[:, :1]) and np.all(np.diff(out[:, 0].astype(np.float64)) > 0)):
            raise UnsupportedGraphError(first, "maps the final accumulators to the logits with a "
                                        "per-class or non-increasing function; label select "
                                        "needs one strictly increasing map for all classes")
        graph_out = seg.tail[-1].output[0] if seg.tail else seg.mac.output[0]
        for node in seg.tail:
            model.graph.node.remove(node)
        acc = self._absorb_mac(model, seg)
        if acc != graph_out:
            seg.mac.output[0] = graph_out
            model.set_tensor_datatype(graph_out, model.get_tensor_datatype(acc))

    def _absorb_mac(self, model, seg) -> str:
        """Drop the scale nodes, give the MAC its integer weights; returns the accumulator name."""
        for node in seg.scales:
            replace_tensor_uses(model, node.output[0], node.input[0])
            remove_node(model, node)
        if seg.mac is None:
            return seg.source
        name = unique_tensor_name(model, f"{seg.mac.name}_W_int")
        model.set_initializer(name, seg.weights.astype(np.float32))
        is_bipolar = np.all(np.abs(seg.weights) == 1)
        model.set_tensor_datatype(name, DataType["BIPOLAR"] if is_bipolar else int_dtype_for(
            int(seg.weights.min()), int(seg.weights.max())))
        seg.mac.input[1] = name
        if seg.bias is not None:
            del seg.mac.input[2]
        for node in seg.weight_nodes:
            if not consumers(model, node.output[0]):
                remove_node(model, node)
        lo, hi = _acc_range(seg, model)
        model.set_tensor_datatype(seg.mac.output[0], int_dtype_for(int(lo.min()), int(hi.max())))
        return seg.mac.output[0]

    @staticmethod
    def _insert_index(model, tensor: str) -> int:
        for i, node in enumerate(model.graph.node):
            if tensor in node.output:
                return i + 1
        return 0

    @staticmethod
    def _emit_scale(model, src: str, dst: str, scale: float, index: int, origin) -> None:
        if scale == 1.0:
            replace_tensor_uses(model, dst, src)
            return
        name = unique_tensor_name(model, f"{dst}_scale")
        model.set_initializer(name, np.asarray(scale, dtype=np.float32))
        model.graph.node.insert(index, helper.make_node("Mul", [src, name], [dst],
                                                        name=f"{dst}_rescale",
                                                        doc_string=made_from(origin)))
