# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``check_deployable(model)``: will the compiler lower this model? Asked before any build.

Steps:

1. Export the model to QONNX (:func:`pynq_bnn.export.export_qonnx`: batch size 1, input
   ``global_in`` = ``p / 255``); any ``nn.Module`` works, ``input_shape`` names its input when
   the module has no ``input_shape`` attribute.
2. If :func:`pynq_bnn.compiler.compile_qonnx` is importable, lower the graph. A compiler error
   names the first node it could not lower; the report carries its name, op type and reason.
3. The report is ``ok`` only when the compiler lowered the whole graph. If export works but no
   compiler is available, the report lists the exported op types as *unchecked* and is not ok.

The report never claims "deployable" without the compiler having lowered the model.

Example:
    >>> from pynq_bnn import zoo
    >>> report = check_deployable(zoo.build("lfc", hidden=(16,)))   # doctest: +SKIP
    >>> report.ok, report.first_problem                             # doctest: +SKIP
    (True, None)
"""
import logging
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

__all__ = ["DeployReport", "Problem", "check_deployable", "export_for_check"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """The first thing that stops deployment: the stage, the node (when known) and why."""

    stage: str  # "export" or "compile"
    reason: str
    node_name: Optional[str] = None
    op_type: Optional[str] = None

    def __str__(self) -> str:
        where = f" at node {self.node_name!r} ({self.op_type})" if self.node_name else ""
        return f"{self.stage} failed{where}: {self.reason}"


@dataclass
class DeployReport:
    """Result of :func:`check_deployable`.

    Attributes:
        model_name: ``model.config["name"]`` (or the class name).
        ok: True only when export and compiler lowering both succeeded.
        first_problem: the first :class:`Problem`, or None.
        unchecked: what could not be checked (e.g. "compiler not available: ...").
        op_counts: op type -> count in the exported QONNX graph (empty if export failed).
        num_hw_layers: number of HW layers after lowering (None when not lowered).
    """

    model_name: str
    ok: bool = False
    first_problem: Optional[Problem] = None
    unchecked: list = field(default_factory=list)
    op_counts: dict = field(default_factory=dict)
    num_hw_layers: Optional[int] = None

    def __str__(self) -> str:
        if self.ok:
            head = f"{self.model_name}: deployable ({self.num_hw_layers} HW layers)"
        elif self.first_problem is not None:
            head = f"{self.model_name}: NOT deployable — {self.first_problem}"
        else:
            head = f"{self.model_name}: unknown — exported, but lowering was not checked"
        lines = [head]
        if self.op_counts:
            ops = ", ".join(f"{op}×{n}" for op, n in sorted(self.op_counts.items()))
            lines.append(f"  exported ops: {ops}")
        lines += [f"  unchecked: {item}" for item in self.unchecked]
        return "\n".join(lines)


def export_for_check(model: torch.nn.Module, path, input_shape=None) -> "ModelWrapper":  # noqa: F821
    """Export ``model`` (eval mode, batch 1) to a cleaned QONNX ``ModelWrapper`` at ``path``."""
    from pynq_bnn.export import export_qonnx

    return export_qonnx(model, path, input_shape=input_shape)


def _node_from_error(err: Exception, wrapper) -> tuple:
    """Best effort: the (name, op_type) of the node a compiler error refers to."""
    for attr in ("node_name", "node"):
        value = getattr(err, attr, None)
        if isinstance(value, str):
            name = value
            break
        if value is not None and hasattr(value, "name"):
            return value.name, getattr(value, "op_type", None)
    else:
        name = None
    op_type = getattr(err, "op_type", None)
    nodes = {n.name: n.op_type for n in wrapper.graph.node} if wrapper is not None else {}
    if name is None:
        for candidate in re.findall(r"['\"]([^'\"]+)['\"]", str(err)):
            if candidate in nodes:
                name = candidate
                break
    if name is not None and op_type is None:
        op_type = nodes.get(name)
    return name, op_type


def check_deployable(model: torch.nn.Module, *, input_shape=None, workdir=None) -> DeployReport:
    """Export ``model`` to QONNX and try to lower it with the pynq_bnn compiler.

    Args:
        model: a :class:`pynq_bnn.zoo.BNNModel` or any Brevitas ``nn.Module`` (input
            ``p / 255``).
        input_shape: per-image input shape ``(C, H, W)``; default ``model.input_shape``.
        workdir: folder for the exported ``.onnx`` (a temporary folder by default).

    Returns:
        A :class:`DeployReport`; ``report.ok`` is True only if the compiler lowered the model.
    """
    from pynq_bnn.export.qonnx_export import model_name

    name = model_name(model)
    report = DeployReport(model_name=name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(workdir or tmp) / f"{name}_check.onnx"
        try:
            wrapper = export_for_check(model, path, input_shape)
        except Exception as err:  # noqa: BLE001 - any export failure is the report's content
            report.first_problem = Problem("export", f"{type(err).__name__}: {err}")
            return report
        report.op_counts = dict(Counter(n.op_type for n in wrapper.graph.node))
        try:
            from pynq_bnn.compiler import compile_qonnx
        except ImportError as err:
            report.unchecked.append(f"compiler not available ({err}); ops listed above were "
                                    "exported but not lowered")
            return report
        try:
            graph = compile_qonnx(wrapper)
        except Exception as err:  # noqa: BLE001
            node_name, op_type = _node_from_error(err, wrapper)
            report.first_problem = Problem("compile", f"{type(err).__name__}: {err}",
                                           node_name, op_type)
            return report
    report.num_hw_layers = len(graph.layers)
    report.ok = True
    logger.info("%s lowered to %d HW layers", name, report.num_hw_layers)
    return report
