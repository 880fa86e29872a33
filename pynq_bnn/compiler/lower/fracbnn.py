# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""FracBNN's fractional unit (Zhang et al., FPGA 2021; ``docs/export_patterns.md`` section 3).

:class:`FracUnitRule` — ``r -> ChannelShift -> frac activation -> gated conv (two Convs sharing
±1 weights, Greater/Cast gate) -> tail -> Quant``: :class:`Requantize` (int8 -> FRAC2, three
thresholds per channel) + :class:`FracMVAU` (gate ``G_c`` tabulated over ``[-K, K]``, the
following tail tabulated over ``acc = 2·acc_M + mask·acc_L`` in ``[-3K, 3K]``). Everything is
tabulated with the graph's own nodes (:func:`~.scaled.evaluate_nodes`), so it is bit-exact by
construction. The residual adds, shortcuts and head of the network are generic rules
(:mod:`.residual`, :mod:`.head`, :mod:`.scaled`).
"""
from __future__ import annotations

import numpy as np

from pynq_bnn.compiler.hw.frac_mvau import FracMVAU
from pynq_bnn.compiler.hw.requantize import fit_channel_function
from pynq_bnn.compiler.hw.residual import type_range
from pynq_bnn.compiler.ir import UnsupportedGraphError, attr
from pynq_bnn.compiler.lower.base import LoweringRule
from pynq_bnn.compiler.lower.scaled import CHAIN_OPS, evaluate_nodes, hw_name, requantize, \
    scaled, set_scaled, quant_tail, tabulate_quant
from pynq_bnn.compiler.passes.tail_eval import is_per_channel

__all__ = ["FracUnitRule"]


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
        tail = quant_tail(ctx, add.output[0], oc)
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
        act = requantize(ctx, f"{node.name}_frac_act", src, codes, domain, "FRAC2", act_tensor)
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
        table, levels = tabulate_quant(ctx, m["tail"], m["quant"], m["add"].output[0], dom,
                                        1.0, oc)
        weights = w_m.transpose(0, 2, 3, 1).reshape(oc, k).astype(np.int8)
        attrs = dict(IFM_DIM=[int(d) for d in src.shape[:2]], IFM_CH=int(ic), OFM_CH=int(oc),
                     K=int(kh), STRIDE=int(stride[0]), PAD=int(pads[0]), in_dtype="FRAC2")
        params = {"weights": weights, "gate": gate.astype(np.int64)}
        out_tensor = m["quant"].output[0]
        fit = fit_channel_function(dom, table, "auto")
        if fit["mode"] in ("thresholds", "affine"):  # fused into the conv's output stage
            params.update(fit["params"])
            layer = FracMVAU(ctx.unique_layer_name(conv_m.name), [act.output], hw_name(out_tensor),
                             params, OUT_MODE=fit["mode"], out_dtype=levels.dtype.name,
                             out_bias=fit["out_bias"], **attrs)
            ctx.add_layer(layer, out_tensor)
        else:  # a lookup table: separate Requantize on the raw accumulator
            acc_tensor = f"{conv_m.name}_acc"
            layer = FracMVAU(ctx.unique_layer_name(conv_m.name), [act.output], acc_tensor,
                             params, OUT_MODE="acc", **attrs)
            ctx.add_layer(layer, acc_tensor)
            requantize(ctx, f"{conv_m.name}_requant", ctx.streams[acc_tensor], table, dom,
                        levels.dtype.name, out_tensor)
        set_scaled(ctx, out_tensor, ctx.streams[out_tensor], levels.scale)
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
