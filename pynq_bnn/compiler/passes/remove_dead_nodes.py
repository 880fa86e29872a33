# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""RemoveDeadNodes: drop nodes none of whose outputs is read (or is a graph output)."""
from __future__ import annotations

from pynq_bnn.compiler.ir import remove_node
from pynq_bnn.compiler.passes.base import Pass

__all__ = ["RemoveDeadNodes"]


class RemoveDeadNodes(Pass):
    def apply(self, model):
        used = {name for node in model.graph.node for name in node.input}
        used |= {out.name for out in model.graph.output}
        for node in list(model.graph.node):
            if not any(out in used for out in node.output):
                remove_node(model, node)
                return model, True
        return model, False
