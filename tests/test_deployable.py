# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""check_deployable: export + lowering report; never "deployable" without the compiler."""
import copy
import sys
import types

import pytest
import torch

import pynq_bnn
from pynq_bnn import deployable, zoo
from pynq_bnn.deployable import DeployReport, check_deployable


class _LoweringError(RuntimeError):
    def __init__(self, message, node_name=None):
        super().__init__(message)
        self.node_name = node_name


def _fake_compiler(monkeypatch, compile_fn):
    fake = types.ModuleType("pynq_bnn.compiler")
    if compile_fn is not None:
        fake.compile_qonnx = compile_fn
    monkeypatch.setitem(sys.modules, "pynq_bnn.compiler", fake)


@pytest.fixture(scope="module")
def _exported(tmp_path_factory):
    """Export the tiny LFC once (a real Brevitas export, the slow part) for all tests."""
    model = zoo.build("lfc", hidden=(16,))
    path = tmp_path_factory.mktemp("export") / "lfc.onnx"
    return model, deployable.export_for_check(model, path)


@pytest.fixture
def tiny_lfc(_exported, monkeypatch):
    model, wrapper = _exported
    monkeypatch.setattr(deployable, "export_for_check", lambda m, path, *args: copy.deepcopy(wrapper))
    return model


def test_without_compiler_nothing_is_claimed(monkeypatch, tiny_lfc):
    _fake_compiler(monkeypatch, None)
    report = check_deployable(tiny_lfc)
    assert isinstance(report, DeployReport)
    assert not report.ok and report.first_problem is None
    assert report.unchecked and "compiler not available" in report.unchecked[0]
    assert report.op_counts.get("BipolarQuant", 0) >= 3
    assert "Gemm" in report.op_counts or "MatMul" in report.op_counts
    assert "unchecked" in str(report) and "deployable (" not in str(report)


def test_compiler_error_names_the_first_node(monkeypatch, tiny_lfc):
    seen = {}

    def refuse(wrapper):
        node = next(n for n in wrapper.graph.node if n.op_type in ("Gemm", "MatMul"))
        seen["node"] = (node.name, node.op_type)
        raise _LoweringError(f"no lowering rule for {node.op_type} node '{node.name}'",
                             node_name=node.name)

    _fake_compiler(monkeypatch, refuse)
    report = check_deployable(tiny_lfc)
    assert not report.ok
    problem = report.first_problem
    assert (problem.node_name, problem.op_type) == seen["node"]
    assert problem.stage == "compile" and "no lowering rule" in problem.reason
    assert seen["node"][0] in str(report) and "NOT deployable" in str(report)


def test_node_found_from_message_only(monkeypatch, tiny_lfc):
    def refuse(wrapper):
        node = wrapper.graph.node[-1]
        raise ValueError(f"cannot lower node '{node.name}'")

    _fake_compiler(monkeypatch, refuse)
    report = check_deployable(tiny_lfc)
    assert report.first_problem.node_name is not None
    assert report.first_problem.op_type is not None


def test_ok_only_when_lowered(monkeypatch, tiny_lfc):
    _fake_compiler(monkeypatch, lambda wrapper: types.SimpleNamespace(layers=[1, 2, 3]))
    report = check_deployable(tiny_lfc)
    assert report.ok and report.num_hw_layers == 3 and report.first_problem is None
    assert "deployable (3 HW layers)" in str(report)


def test_export_failure_is_reported(monkeypatch):
    class Broken(zoo.BNNModel):
        input_shape = (1, 4, 4)

        def __init__(self, config):
            super().__init__(config)
            self.weight = torch.nn.Parameter(torch.ones(1))

        def forward_impl(self, x):
            raise RuntimeError("this layer cannot be traced")

    report = check_deployable(Broken({"name": "broken"}))
    assert not report.ok and report.first_problem.stage == "export"
    assert "cannot be traced" in report.first_problem.reason


def test_lazy_top_level_access():
    assert pynq_bnn.check_deployable is check_deployable


@pytest.mark.slow
def test_real_compiler_lowers_baseline_and_static_sdbnn():
    """With the real compiler: a small CNV with WSD + static ASD lowers (both fold away)."""
    pytest.importorskip("pynq_bnn.compiler.frontend")
    from pynq_bnn.zoo.cnv import cnv

    small = {"convs": ((8, False), (8, True), (8, False), (8, True), (16, False), (16, False)),
             "fcs": (16, 16)}
    report = check_deployable(cnv(wsd=True, asd="static", **small))
    assert report.ok, str(report)
    assert report.num_hw_layers > 6 and report.op_counts["Add"] == 6
