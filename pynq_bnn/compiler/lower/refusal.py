# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Why a node is left after lowering, and what the user changes to fix it.

:func:`refuse_unlowered` builds the :class:`~pynq_bnn.compiler.ir.UnsupportedGraphError` for the
first node no rule lowered. It always names a node of the user's graph (a node a pass created,
e.g. the ``PixelsToUnit`` division of the integer pixel input, is traced to the user's node that
reads it), says why the integer dataflow cannot implement it exactly, and names the fix:

* a float function with no integer form (Sigmoid, Softmax, ...): replace it by a quantized
  activation, or drop it after the classifier (top-k is the same);
* a shape computed at run time (Shape, dynamic Reshape): export with a fixed input shape;
* an op reading a float tensor no quantizer bounds (a residual add of an unquantized branch,
  a first layer with no input quantizer): add a ``QuantIdentity`` there.
"""
from __future__ import annotations

from pynq_bnn.compiler.ir import UnsupportedGraphError, origin_of

__all__ = ["refuse_unlowered", "FLOAT_ONLY_OPS", "DYNAMIC_SHAPE_OPS"]

#: Float functions the integer dataflow has no exact form for (outside a quantized tail).
FLOAT_ONLY_OPS = ("Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Exp", "Log", "Sqrt", "Pow",
                  "Erf", "Gelu", "HardSigmoid", "HardSwish", "Softplus", "Elu", "Selu",
                  "Reciprocal", "Sin", "Cos")
#: Ops that compute shapes from data at run time.
DYNAMIC_SHAPE_OPS = ("Shape", "Size", "NonZero", "Range", "ConstantOfShape", "Expand",
                     "TopK", "Resize", "Upsample")


def _user_node(ctx, node):
    """``node`` itself, or for a compiler-made node the first user's node reading its output."""
    seen = set()
    while origin_of(node) is not None and origin_of(node)[0] == "Input" and \
            node.name not in seen:
        seen.add(node.name)
        users = ctx.consumers(node.output[0])
        if not users:
            break
        node = users[0]
    return node


def _float_inputs(ctx, node) -> list:
    """Non-constant inputs of ``node`` that no rule turned into an integer stream."""
    return [t for t in node.input if t and ctx.initializer(t) is None and t not in ctx.streams
            and not ctx.model.get_tensor_datatype(t).is_integer()]


def _downstream_blocker(ctx, node, limit: int = 32):
    """For a node reading integer streams only: the first descendant that keeps the float
    values from reaching a quantizer (a float-only op, a dynamic shape, or an op joining a float
    tensor with another tensor), else None."""
    todo, seen = [node], set()
    while todo and len(seen) < limit:
        cur = todo.pop(0)
        if cur.name in seen:
            continue
        seen.add(cur.name)
        if cur.op_type in FLOAT_ONLY_OPS + DYNAMIC_SHAPE_OPS:
            return cur
        if cur is not node and sum(ctx.initializer(t) is None for t in cur.input if t) > 1:
            return cur
        for out in cur.output:
            todo.extend(ctx.consumers(out))
    return None


def refuse_unlowered(node, ctx) -> UnsupportedGraphError:
    """The error for ``node``, the first node no lowering rule matched."""
    made = origin_of(node)
    if made is not None and made[0] == "Input":
        blocker = _downstream_blocker(ctx, node)
        if blocker is not None:
            return refuse_unlowered(blocker, ctx)
        user = _user_node(ctx, node)
        if user is not node:
            return UnsupportedGraphError(user, "reads the input pixels through float ops that "
                                         "end in no quantizer before this node; make the "
                                         "model's first layer a QuantIdentity (8-bit, or "
                                         "1-bit for binarized pixels)")
        return UnsupportedGraphError(node, "is the model's float input with no quantizer; "
                                     "make the model's first layer a QuantIdentity")
    blocker = _downstream_blocker(ctx, node) if not _float_inputs(ctx, node) else None
    if blocker is not None and blocker is not node:
        return refuse_unlowered(blocker, ctx)
    op = node.op_type
    if op in FLOAT_ONLY_OPS:
        return UnsupportedGraphError(node, f"computes {op} in float, which has no exact "
                                     "integer form in the dataflow; use a quantized activation "
                                     "(BN + QuantReLU/QuantIdentity) instead, or drop it after "
                                     "the classifier (top-k of the logits is unchanged)")
    if op in DYNAMIC_SHAPE_OPS:
        return UnsupportedGraphError(node, f"computes a shape at run time ({op}); the dataflow "
                                     "needs static shapes: export with a fixed input shape and "
                                     "use fixed-size reshapes (torch.flatten)")
    floats = _float_inputs(ctx, node)
    if floats:
        src = ctx.producer(floats[0])
        made_by = origin_of(src) if src is not None else None
        src_name = (f"{made_by[0]} node {made_by[1]!r}" if made_by else
                    f"{src.op_type} node {src.name!r}" if src is not None else "the graph input")
        if op in ("Add", "Sub", "Concat") and sum(ctx.initializer(t) is None
                                                  for t in node.input if t) > 1:
            fix = "add a QuantIdentity on the residual path (after " + src_name + ")"
        else:
            fix = f"add a QuantIdentity (or a quantized activation) after {src_name}"
        return UnsupportedGraphError(node, f"reads the float tensor {floats[0]!r}, which no "
                                     "quantizer turns into an integer stream, so it cannot be "
                                     f"computed exactly in integers; {fix}")
    if blocker is node or op in ("BatchNormalization", "Mul", "Add", "Sub", "Div", "Relu",
                                 "PRelu", "Clip"):
        return UnsupportedGraphError(node, "starts float arithmetic on an integer tensor that "
                                     "reaches no quantizer, so it cannot be computed exactly "
                                     f"in integers; add a QuantIdentity after this {op}")
    return UnsupportedGraphError(node, "has no lowering rule for this pattern (the streamline "
                                 "passes left it in the integer graph)")
