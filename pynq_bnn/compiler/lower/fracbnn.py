# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Lowering rules for the FracBNN residual network (``docs/export_patterns.md`` sections 3-6).

The streamline passes leave every FracBNN unit in float (the residual add has two non-constant
inputs, the gated conv two MACs). These rules lower the float nodes directly, always by
**tabulating the graph's own nodes** (qonnx ``execute_node``, float32, the graph's op order) on
every integer of the source domain, so the result is bit-exact by construction:

* :class:`ScaledStreamRule` — ``Mul(int stream, positive scalar)`` (the ``Mul(s_out)`` the
  streamline step leaves after an int8 quantizer): no layer, the stream carries the tensor and
  the rules remember its scale (float value = integer * scale).
* :class:`FracUnitRule` — ``r -> ChannelShift -> frac activation -> gated conv (two Convs sharing
  ±1 weights, Greater/Cast gate) -> tail -> Quant``: :class:`Requantize` (int8 -> FRAC2, three
  thresholds per channel) + :class:`FracMVAU` (gate ``G_c`` tabulated over ``[-K, K]``, the
  following tail tabulated over ``acc = 2·acc_M + mask·acc_L`` in ``[-3K, 3K]``).
* :class:`ResidualAddRule` — ``Add(branch, shortcut) -> tail -> Quant``: :class:`AddStreams` (shifts
  aligning the power-of-two scales) + :class:`Requantize` tabulated over the sum's range
  (thresholds, or a LUT when RPReLU makes a row non-monotone).
* :class:`DownsampleRule` — ``AveragePool(2x2, s2) -> Gather(channel duplication)``:
  :class:`DownsampleShortcut` (the average is the sum at a 4x finer scale).
* :class:`GlobalPoolHeadRule` — ``GlobalAveragePool|ReduceMean -> tail -> Quant`` :
  :class:`SumPool` (GLOBAL) + :class:`Requantize`.
* :class:`ConstantNodeRule` — a node whose inputs are all initializers (the weight ``Mul(W_int,
  s)`` of the classifier): consumed; its consumer reads the constant.
* :class:`ScaledMatMulRule` — the classifier ``MatMul(int stream, Mul(W_int, s))`` ending at the
  graph output: MVAU on ``W_int`` (the positive scalar ``s_in·s`` does not change the top-k).
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.onnx_exec import execute_node

from pynq_bnn.compiler.hw.avgpool import DownsampleShortcut, SumPool
from pynq_bnn.compiler.hw.frac_mvau import FracMVAU
from pynq_bnn.compiler.hw.requantize import Requantize, fit_channel_function
from pynq_bnn.compiler.hw.residual import AddStreams, type_range
from pynq_bnn.compiler.hw.requantize import stream_type_for_range
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule, StreamInfo
from pynq_bnn.compiler.lower.mac import add_mvau
from pynq_bnn.compiler.passes.tail_eval import ELEMENTWISE_OPS, QUANT_OPS, is_per_channel, \
    quant_levels

__all__ = ["ScaledStreamRule", "FracUnitRule", "ResidualAddRule", "DownsampleRule",
           "GlobalPoolHeadRule", "ConstantNodeRule", "ScaledMatMulRule", "ScaledFlattenRule",
           "FRACBNN_RULES", "FRACBNN_FALLBACK_RULES",
           "evaluate_nodes"]

CHAIN_OPS = ELEMENTWISE_OPS + ("Round",)
_BOOL_OPS = ("Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or")


# -- helpers -------------------------------------------------------------------------------------
def _scales(ctx) -> dict:
    return ctx.__dict__.setdefault("_fracbnn_scales", {})


def scaled(ctx, tensor: str):
    """``(StreamInfo, scale)`` when ``tensor`` is an integer stream times a known scale."""
    if tensor in _scales(ctx) and tensor in ctx.streams:
        return ctx.streams[tensor], _scales(ctx)[tensor]
    return None


def _set_scaled(ctx, tensor: str, info: StreamInfo, scale: float) -> None:
    ctx.streams[tensor] = info
    _scales(ctx)[tensor] = float(scale)


def _hw(tensor: str) -> str:
    """Stream name of an integer stream carrying the scaled float tensor ``tensor`` (the graph
    tensor holds ``integer * scale``; :func:`~pynq_bnn.compiler.verify.compare_layers` compares
    same-named tensors as integers, so the stream gets its own name)."""
    return f"{tensor}_int"


def _scalar(ctx, name: str):
    value = ctx.initializer(name)
    if value is None or np.size(value) != 1:
        return None
    return float(np.asarray(value).reshape(()))


def _is_pow2(x: float) -> bool:
    m, _ = np.frexp(x)
    return x > 0 and m == 0.5


def evaluate_nodes(model, nodes: list, feeds: dict) -> dict:
    """Run ``nodes`` (topologically ordered) with qonnx ``execute_node`` on ``feeds``.

    Initializers are loaded automatically; every other tensor is float32 except the outputs of
    comparison ops (bool). Returns the whole context.
    """
    context = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in feeds.items()}
    infos = {k: TensorProto.FLOAT for k in feeds}
    for node in nodes:
        for name in node.input:
            if name and name not in context and name not in infos:
                value = model.get_initializer(name)
                if value is None:
                    raise UnsupportedGraphError(node, f"reads {name!r}, which is neither fed nor "
                                                "a constant while tabulating")
                context[name] = value
                infos[name] = helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)
        for name in node.output:
            infos[name] = TensorProto.BOOL if node.op_type in _BOOL_OPS else TensorProto.FLOAT
    graph = helper.make_graph([], "tab", [], [], value_info=[
        helper.make_tensor_value_info(n, e, None) for n, e in infos.items()])
    opset = next((int(i.version) for i in model.model.opset_import if i.domain in ("", "ai.onnx")),
                 13)
    for node in nodes:
        first = context[node.input[0]] if node.input and node.input[0] in context else None
        shape = () if first is None else np.shape(first)
        if node.op_type not in ("BatchNormalization", "Conv", "Clip") and first is not None:
            shape = np.broadcast_shapes(*[np.shape(context[i]) for i in node.input if i])
        dtype = np.bool_ if node.op_type in _BOOL_OPS else np.float32
        for out in node.output:
            context[out] = np.empty(shape, dtype=dtype)
        execute_node(node, context, graph, opset)
    return context


def _walk_chain(ctx, tensor: str, channels: int, rank: int = 4):
    """Single-consumer per-channel elementwise nodes from ``tensor``; returns (nodes, last tensor,
    next node)."""
    nodes = []
    node = ctx.only_consumer(tensor)
    while node is not None and node.op_type in CHAIN_OPS and node.input[0] == tensor and \
            is_per_channel(ctx.model, node, tensor, channels, rank):
        nodes.append(node)
        tensor = node.output[0]
        node = ctx.only_consumer(tensor)
    return nodes, tensor, node


def _quant_tail(ctx, tensor: str, channels: int, rank: int = 4):
    """``(nodes incl. the Quant, quant node)`` of a tail ``tensor -> chain -> Quant``, or None."""
    nodes, last, node = _walk_chain(ctx, tensor, channels, rank)
    if node is None or node.op_type not in QUANT_OPS or node.input[0] != last or not all(
            ctx.initializer(i) is not None for i in node.input[1:]):
        return None
    return nodes + [node], node


def _tabulate_quant(ctx, nodes, quant, in_tensor: str, domain: np.ndarray, scale: float,
                    channels: int):
    """Integer output codes ``(C, D)`` of ``nodes`` fed with ``domain * scale`` per channel."""
    values = (domain.astype(np.float32) * np.float32(scale))[:, None, None, None] * \
        np.ones((1, channels, 1, 1), np.float32)
    out = evaluate_nodes(ctx.model, nodes, {in_tensor: values})[quant.output[0]]
    out = np.asarray(out, dtype=np.float64).reshape(domain.size, channels)
    levels = quant_levels(ctx.model, quant)
    codes = out / levels.scale
    if np.any(codes != np.round(codes)):
        raise UnsupportedGraphError(quant, "produced values off its grid while tabulating")
    return codes.astype(np.int64).T, levels


def _requantize(ctx, name, src: StreamInfo, table, domain, out_dtype: str, out_tensor: str,
                nchw=None):
    fit = fit_channel_function(domain, table, "auto")
    spatial = list(src.shape[:-1])
    layer = Requantize(ctx.unique_layer_name(name), [src.stream], _hw(out_tensor), fit["params"],
                       SPATIAL=spatial, IN_CH=int(src.shape[-1]), OUT_CH=int(table.shape[0]),
                       in_dtype=src.stype.name, out_dtype=out_dtype, MODE=fit["mode"],
                       in_min=fit["in_min"], out_bias=fit["out_bias"])
    return ctx.add_layer(layer, out_tensor, nchw)


# -- rules ---------------------------------------------------------------------------------------
class ScaledStreamRule(LoweringRule):
    """``Mul(integer stream, positive scalar)``: the stream carries the product (scale noted)."""

    def match(self, node, ctx) -> bool:
        if node.op_type != "Mul" or node.input[0] not in ctx.streams:
            return False
        s = _scalar(ctx, node.input[1])
        src = ctx.streams[node.input[0]]
        return s is not None and s > 0 and src.stype.kind in ("INT", "UINT")

    def apply(self, node, ctx) -> None:
        src = ctx.streams[node.input[0]]
        prev = _scales(ctx).get(node.input[0], 1.0)
        _set_scaled(ctx, node.output[0], src, prev * _scalar(ctx, node.input[1]))
        ctx.consume(node)


class ConstantNodeRule(LoweringRule):
    """A node computing a constant (all inputs are initializers): its consumers read it."""

    def match(self, node, ctx) -> bool:
        return bool(node.input) and all(ctx.initializer(i) is not None for i in node.input if i)

    def apply(self, node, ctx) -> None:
        ctx.consume(node)


def _find_one(nodes, op_type):
    found = [n for n in nodes if n.op_type == op_type]
    return found[0] if len(found) == 1 else None


class FracUnitRule(LoweringRule):
    """ChannelShift + fractional activation + gated conv + tail -> Requantize + FracMVAU."""

    def _match(self, node, ctx):
        if node.op_type not in CHAIN_OPS or not node.input or scaled(ctx, node.input[0]) is None:
            return None
        src, _ = scaled(ctx, node.input[0])
        if len(src.shape) != 3:
            return None
        channels = int(src.shape[-1])
        if not is_per_channel(ctx.model, node, node.input[0], channels, 4):
            return None
        # activation chain: single consumers up to q (two consumers: BipolarQuant + Mul)
        chain, tensor = [node], node.output[0]
        while True:
            users = ctx.consumers(tensor)
            if len(users) == 1 and users[0].op_type in CHAIN_OPS and users[0].input[0] == tensor:
                chain.append(users[0])
                tensor = users[0].output[0]
                continue
            break
        q = tensor
        bq_m = [u for u in ctx.consumers(q) if u.op_type == "BipolarQuant"]
        if len(bq_m) != 1:
            return None
        bq_m = bq_m[0]
        s_m = bq_m.output[0]
        conv_m = [u for u in ctx.consumers(s_m) if u.op_type == "Conv" and u.input[0] == s_m]
        if len(conv_m) != 1:
            return None
        conv_m = conv_m[0]
        # the LSB plane: the nodes between (q, s_M) and the BipolarQuant feeding the other Conv
        plane, frontier = [], [q, s_m]
        seen = {bq_m.name, conv_m.name}
        bq_l = None
        for _ in range(6):
            nxt = []
            for t in frontier:
                for u in ctx.consumers(t):
                    if u.name in seen or u.op_type == "Conv":
                        continue
                    seen.add(u.name)
                    if u.op_type == "BipolarQuant":
                        bq_l = u
                    elif u.op_type in ("Mul", "Sub", "Add"):
                        plane.append(u)
                        nxt.append(u.output[0])
            frontier = nxt
            if bq_l is not None:
                break
        if bq_l is None:
            return None
        conv_l = [u for u in ctx.consumers(bq_l.output[0]) if u.op_type == "Conv"]
        if len(conv_l) != 1:
            return None
        conv_l = conv_l[0]
        # combination: from acc_M / acc_L to the Add producing 2*acc_M + mask*acc_L
        comb, frontier, add = [], [conv_m.output[0], conv_l.output[0]], None
        seen = set()
        for _ in range(5):
            nxt = []
            for t in frontier:
                for u in ctx.consumers(t):
                    if u.name in seen:
                        continue
                    seen.add(u.name)
                    comb.append(u)
                    if u.op_type == "Add" and all(ctx.initializer(i) is None for i in u.input):
                        add = u
                    else:
                        nxt.append(u.output[0])
            frontier = nxt
        if add is None or _find_one(comb, "Greater") is None:
            return None
        oc = int(ctx.model.get_tensor_shape(conv_m.output[0])[1])
        tail = _quant_tail(ctx, add.output[0], oc)
        if tail is None:
            return None
        order = {n.name: i for i, n in enumerate(ctx.model.graph.node)}
        plane = sorted(plane + [bq_m, bq_l], key=lambda n: order[n.name])
        comb = sorted(comb, key=lambda n: order[n.name])
        return dict(src=src, scale=scaled(ctx, node.input[0])[1], source=node.input[0],
                    chain=chain, q=q, plane=plane, s_m=s_m, s_l=bq_l.output[0], conv_m=conv_m,
                    conv_l=conv_l, comb=comb, add=add, tail=tail[0], quant=tail[1])

    def match(self, node, ctx) -> bool:
        return self._match(node, ctx) is not None

    def apply(self, node, ctx) -> None:
        m = self._match(node, ctx)
        model, src = ctx.model, m["src"]
        channels = int(src.shape[-1])
        # 1. activation: int source -> FRAC2 code (2*[s_M > 0] + [s_L > 0])
        lo, hi = type_range(src.stype)
        domain = np.arange(lo, hi + 1, dtype=np.int64)
        values = (domain.astype(np.float32) * np.float32(m["scale"]))[:, None, None, None] * \
            np.ones((1, channels, 1, 1), np.float32)
        out = evaluate_nodes(model, m["chain"] + m["plane"], {m["source"]: values})
        s_m = np.asarray(out[m["s_m"]]).reshape(domain.size, channels)
        s_l = np.asarray(out[m["s_l"]]).reshape(domain.size, channels)
        if not (np.all(np.abs(s_m) == 1) and np.all(np.abs(s_l) == 1)):
            raise UnsupportedGraphError(m["conv_m"], "reads activation planes that are not ±1")
        codes = (2 * (s_m > 0) + (s_l > 0)).astype(np.int64).T
        act_tensor = f"{m['q']}_frac2"
        act = _requantize(ctx, f"{node.name}_frac_act", src, codes, domain, "FRAC2", act_tensor)
        # 2. weights (shared, ±1) and conv geometry
        conv_m, conv_l = m["conv_m"], m["conv_l"]
        w_m, w_l = (ctx.initializer(c.input[1]) for c in (conv_m, conv_l))
        if w_m is None or w_l is None or not np.array_equal(w_m, w_l) or not np.all(
                np.abs(w_m) == 1):
            raise UnsupportedGraphError(conv_m, "gated conv: the two planes need the same "
                                        "constant ±1 weights")
        for c in (conv_m, conv_l):
            if len(c.input) > 2 and c.input[2]:
                raise UnsupportedGraphError(c, "gated conv with a bias")
            if attr(c, "group", 1) != 1 or list(attr(c, "dilations", [1, 1])) != [1, 1]:
                raise UnsupportedGraphError(c, "gated conv needs group 1, dilation 1")
        for a in ("strides", "pads", "kernel_shape"):
            if list(attr(conv_m, a, [])) != list(attr(conv_l, a, [])):
                raise UnsupportedGraphError(conv_l, f"differs from its MSB conv in {a}")
        oc, ic, kh, kw = w_m.shape
        stride = list(attr(conv_m, "strides", [1, 1]))
        pads = list(attr(conv_m, "pads", [0, 0, 0, 0]))
        if kh != kw or len(set(stride)) != 1 or len(set(pads)) != 1 or ic != channels:
            raise UnsupportedGraphError(conv_m, "gated conv needs a square kernel, one stride, "
                                        "symmetric padding")
        k = int(kh * kw * ic)
        # 3. gate: mask(acc_M) on [-K, K] must be a step [acc_M >= G_c]
        acc = np.arange(-k, k + 1, dtype=np.int64)
        gate_nodes = []
        greater = _find_one(m["comb"], "Greater")
        cast = next((n for n in m["comb"] if n.op_type == "Cast" and n.input[0] ==
                     greater.output[0]), None)
        mul_mask = next((n for n in m["comb"] if cast is not None and n.op_type == "Mul" and
                         cast.output[0] in n.input), None)
        if cast is None or mul_mask is None or conv_l.output[0] not in mul_mask.input:
            raise UnsupportedGraphError(greater, "gate is not mask * acc_L")
        grid = acc.astype(np.float32)[:, None, None, None] * np.ones((1, oc, 1, 1), np.float32)
        gate_nodes = [n for n in m["comb"] if n.output[0] in self._ancestors(
            ctx, cast, conv_m.output[0])]
        out = evaluate_nodes(model, gate_nodes, {conv_m.output[0]: grid})
        mask = np.asarray(out[cast.output[0]]).reshape(acc.size, oc) != 0
        gate = np.where(mask.any(axis=0), np.argmax(mask, axis=0) + acc[0], k + 1)
        if not np.array_equal(mask, acc[:, None] >= gate[None, :]):
            raise UnsupportedGraphError(greater, "gate is not monotone in acc_M")
        # 4. combination must be 2*acc_M + mask*acc_L (checked on the graph's nodes)
        rng = np.random.default_rng(0)
        acc_l = rng.integers(-k, k + 1, size=grid.shape).astype(np.float32)
        out = evaluate_nodes(model, m["comb"], {conv_m.output[0]: grid, conv_l.output[0]: acc_l})
        expect = 2 * grid + mask.reshape(grid.shape) * acc_l
        if not np.array_equal(np.asarray(out[m["add"].output[0]]), expect):
            raise UnsupportedGraphError(m["add"], "gated conv does not combine 2*acc_M + "
                                        "mask*acc_L")
        # 5. tail on acc in [-3K, 3K]
        dom = np.arange(-3 * k, 3 * k + 1, dtype=np.int64)
        table, levels = _tabulate_quant(ctx, m["tail"], m["quant"], m["add"].output[0], dom,
                                        1.0, oc)
        weights = w_m.transpose(0, 2, 3, 1).reshape(oc, k).astype(np.int8)
        attrs = dict(IFM_DIM=[int(d) for d in src.shape[:2]], IFM_CH=int(ic), OFM_CH=int(oc),
                     K=int(kh), STRIDE=int(stride[0]), PAD=int(pads[0]), in_dtype="FRAC2")
        params = {"weights": weights, "gate": gate.astype(np.int64)}
        out_tensor = m["quant"].output[0]
        fit = fit_channel_function(dom, table, "auto")
        if fit["mode"] in ("thresholds", "affine"):  # fused into the conv's output stage
            params.update(fit["params"])
            layer = FracMVAU(ctx.unique_layer_name(conv_m.name), [act.output], _hw(out_tensor),
                             params, OUT_MODE=fit["mode"], out_dtype=levels.dtype.name,
                             out_bias=fit["out_bias"], **attrs)
            ctx.add_layer(layer, out_tensor)
        else:  # a lookup table: separate Requantize on the raw accumulator
            acc_tensor = f"{conv_m.name}_acc"
            layer = FracMVAU(ctx.unique_layer_name(conv_m.name), [act.output], acc_tensor,
                             params, OUT_MODE="acc", **attrs)
            ctx.add_layer(layer, acc_tensor)
            _requantize(ctx, f"{conv_m.name}_requant", ctx.streams[acc_tensor], table, dom,
                        levels.dtype.name, out_tensor)
        _set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
        ctx.consume(*m["chain"], *m["plane"], conv_m, conv_l, *m["comb"], *m["tail"])

    @staticmethod
    def _ancestors(ctx, node, stop: str) -> set:
        """Tensors computed between ``stop`` and ``node`` (inclusive of node's output)."""
        names, todo = set(), [node]
        while todo:
            n = todo.pop()
            names.add(n.output[0])
            for i in n.input:
                if i and i != stop and ctx.initializer(i) is None:
                    p = ctx.producer(i)
                    if p is not None and p.output[0] not in names:
                        todo.append(p)
        return names


class ResidualAddRule(LoweringRule):
    """``Add(branch, shortcut)`` of two scaled int streams + tail + Quant -> AddStreams +
    Requantize."""

    def match(self, node, ctx) -> bool:
        return (node.op_type == "Add" and len(node.input) == 2
                and all(scaled(ctx, i) is not None for i in node.input))

    def apply(self, node, ctx) -> None:
        (a, sa), (b, sb) = (scaled(ctx, i) for i in node.input)
        if not (_is_pow2(sa) and _is_pow2(sb)):
            raise UnsupportedGraphError(node, f"adds streams at scales {sa}, {sb}; only powers "
                                        "of two align exactly")
        if a.shape != b.shape:
            raise UnsupportedGraphError(node, f"adds streams of shapes {a.shape} and {b.shape}")
        s = min(sa, sb)
        sha, shb = int(round(np.log2(sa / s))), int(round(np.log2(sb / s)))
        (alo, ahi), (blo, bhi) = type_range(a.stype), type_range(b.stype)
        lo, hi = (alo << sha) + (blo << shb), (ahi << sha) + (bhi << shb)
        out_type = stream_type_for_range(lo, hi)
        channels = int(a.shape[-1])
        add_tensor = node.output[0]
        layer = AddStreams(ctx.unique_layer_name(node.name), [a.stream, b.stream], _hw(add_tensor),
                           SPATIAL=list(a.shape[:-1]), CH=channels, a_dtype=a.stype.name,
                           b_dtype=b.stype.name, out_dtype=out_type.name, SHIFT_A=sha,
                           SHIFT_B=shb)
        ctx.add_layer(layer, add_tensor)
        # the float graph's Add is exact: (n_a*sa + n_b*sb) == sum * s
        probe = np.array([[alo, blo], [ahi, bhi], [alo, bhi], [ahi, blo]], np.float32)
        got = evaluate_nodes(ctx.model, [node], {node.input[0]: probe[:, :1] * np.float32(sa),
                                                 node.input[1]: probe[:, 1:] * np.float32(sb)})
        want = ((probe[:, 0].astype(np.int64) << sha) + (probe[:, 1].astype(np.int64) << shb)
                ) * s
        if not np.array_equal(np.asarray(got[add_tensor]).reshape(-1), want.astype(np.float32)):
            raise UnsupportedGraphError(node, "float add is not exact on the integer grid")
        _set_scaled(ctx, add_tensor, ctx.streams[add_tensor], s)
        tail = _quant_tail(ctx, add_tensor, channels)
        if tail is not None:
            domain = np.arange(lo, hi + 1, dtype=np.int64)
            table, levels = _tabulate_quant(ctx, tail[0], tail[1], add_tensor, domain, s, channels)
            out_tensor = tail[1].output[0]
            _requantize(ctx, f"{node.name}_requant", ctx.streams[add_tensor], table, domain,
                        levels.dtype.name, out_tensor)
            _set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
            ctx.consume(*tail[0])
        ctx.consume(node)


class DownsampleRule(LoweringRule):
    """``AveragePool(K, stride K) [-> Gather(axis=1, duplication)]`` on a scaled int stream."""

    def match(self, node, ctx) -> bool:
        return node.op_type == "AveragePool" and scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        src, s = scaled(ctx, node.input[0])
        kernel = list(attr(node, "kernel_shape", []))
        stride = list(attr(node, "strides", kernel))
        if len(set(kernel)) != 1 or stride != kernel or any(attr(node, "pads", [0])) or \
                attr(node, "ceil_mode", 0):
            raise UnsupportedGraphError(node, "only K x K, stride K average pooling, no padding")
        k = int(kernel[0])
        if not (_is_pow2(s) and _is_pow2(k * k)):
            raise UnsupportedGraphError(node, "average pooling is exact only on power-of-two "
                                        "scales and windows")
        channels = int(src.shape[-1])
        gather = ctx.only_consumer(node.output[0], "Gather")
        dup, order, out_tensor, consumed = 1, "tile", node.output[0], [node]
        if gather is not None and attr(gather, "axis", 0) == 1:
            idx = ctx.initializer(gather.input[1])
            if idx is not None and np.size(idx) % channels == 0:
                idx = np.asarray(idx).reshape(-1)
                d = idx.size // channels
                if np.array_equal(idx, np.tile(np.arange(channels), d)):
                    dup, order = d, "tile"
                elif np.array_equal(idx, np.repeat(np.arange(channels), d)):
                    dup, order = d, "interleave"
                else:
                    d = 0
                if d:
                    out_tensor = gather.output[0]
                    consumed.append(gather)
        if dup == 1:
            layer = SumPool(ctx.unique_layer_name(node.name), [src.stream], _hw(out_tensor),
                            IFM_DIM=list(src.shape[:2]), CH=channels, K=k, STRIDE=k,
                            in_dtype=src.stype.name)
        else:
            layer = DownsampleShortcut(ctx.unique_layer_name(node.name), [src.stream],
                                       _hw(out_tensor), IFM_DIM=list(src.shape[:2]), CH=channels,
                                       K=k, STRIDE=k, DUP=dup, DUP_ORDER=order,
                                       in_dtype=src.stype.name)
        ctx.add_layer(layer, out_tensor)
        _set_scaled(ctx, out_tensor, ctx.streams[out_tensor], s / (k * k))
        ctx.consume(*consumed)


class GlobalPoolHeadRule(LoweringRule):
    """``GlobalAveragePool | ReduceMean(H, W)`` on a scaled int stream -> SumPool(GLOBAL)
    [+ Requantize of the following tail + Quant]."""

    def match(self, node, ctx) -> bool:
        if node.op_type not in ("GlobalAveragePool", "ReduceMean"):
            return False
        return scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        src, s = scaled(ctx, node.input[0])
        if node.op_type == "ReduceMean":
            axes = attr(node, "axes", None)
            if axes is None and len(node.input) > 1:
                axes = ctx.initializer(node.input[1])
            if axes is None or sorted(int(a) % 4 for a in np.ravel(axes)) != [2, 3]:
                raise UnsupportedGraphError(node, "only a mean over H and W is supported")
        h, w = src.shape[:2]
        if not (_is_pow2(s) and _is_pow2(h * w)):
            raise UnsupportedGraphError(node, "global average is exact only on power-of-two "
                                        "frames and scales")
        channels = int(src.shape[-1])
        pool_tensor = node.output[0]
        layer = SumPool(ctx.unique_layer_name(node.name), [src.stream], _hw(pool_tensor),
                        IFM_DIM=[int(h), int(w)], CH=channels, GLOBAL=1, in_dtype=src.stype.name)
        ctx.add_layer(layer, pool_tensor, (channels, 1, 1))
        s_sum = s / (h * w)
        _set_scaled(ctx, pool_tensor, ctx.streams[pool_tensor], s_sum)
        ctx.consume(node)
        tail = _quant_tail(ctx, pool_tensor, channels)
        if tail is None:
            return
        lo, hi = type_range(layer.out_type())
        domain = np.arange(lo, hi + 1, dtype=np.int64)
        table, levels = _tabulate_quant(ctx, tail[0], tail[1], pool_tensor, domain, s_sum,
                                        channels)
        out_tensor = tail[1].output[0]
        _requantize(ctx, f"{node.name}_requant", ctx.streams[pool_tensor], table, domain,
                    levels.dtype.name, out_tensor, (channels, 1, 1))
        _set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
        ctx.consume(*tail[0])


class ScaledFlattenRule(LoweringRule):
    """``Flatten``/``Reshape`` to ``(1, K)`` of a scaled stream: an alias keeping the scale."""

    def match(self, node, ctx) -> bool:
        return node.op_type in ("Flatten", "Reshape") and scaled(ctx, node.input[0]) is not None

    def apply(self, node, ctx) -> None:
        from pynq_bnn.compiler.lower.layout import FlattenRule

        s = scaled(ctx, node.input[0])[1]
        FlattenRule().apply(node, ctx)
        _scales(ctx)[node.output[0]] = s


class ScaledMatMulRule(LoweringRule):
    """Classifier ``MatMul(scaled int stream, W_int * s_w)`` ending at the graph output."""

    def _weights(self, node, ctx):
        w = ctx.initializer(node.input[1])
        if w is not None:
            return np.asarray(w, np.float64), 1.0
        mul = ctx.producer(node.input[1])
        if mul is None or mul.op_type != "Mul":
            return None
        a, b = (ctx.initializer(i) for i in mul.input)
        if a is None or b is None:
            return None
        if np.size(b) != 1:
            a, b = b, a
        if np.size(b) != 1 or float(np.asarray(b).reshape(())) <= 0:
            return None
        a = np.asarray(a, np.float64)
        if not np.all(a == np.round(a)):
            return None
        return a, float(np.asarray(b).reshape(()))

    def match(self, node, ctx) -> bool:
        return (node.op_type == "MatMul" and scaled(ctx, node.input[0]) is not None
                and ctx.is_graph_output(node.output[0]) and self._weights(node, ctx) is not None)

    def apply(self, node, ctx) -> None:
        src, _ = scaled(ctx, node.input[0])
        w, _ = self._weights(node, ctx)
        weights = w.T  # (MH, K)
        if src.flattened_from is not None:
            c, h, ww = src.flattened_from
            order = np.arange(c * h * ww).reshape(c, h, ww).transpose(1, 2, 0).ravel()
            weights = weights[:, order]
        add_mvau(ctx, node, weights, src.stream, (weights.shape[1],), src.stype)
        layer, out = ctx.layers[-1], node.output[0]
        layer.output = _hw(out)  # the graph tensor holds the scaled logits
        info = ctx.streams[out]
        ctx.streams[out] = StreamInfo(layer.output, info.shape, info.stype, info.nchw_shape)


#: In order; appended after the generic rules in :data:`pynq_bnn.compiler.lower.RULES`.
FRACBNN_RULES = [FracUnitRule(), ResidualAddRule(), DownsampleRule(), GlobalPoolHeadRule(),
                 ScaledFlattenRule(), ScaledMatMulRule()]
#: Catch-alls: after every other rule.
FRACBNN_FALLBACK_RULES = [ScaledStreamRule(), ConstantNodeRule()]
