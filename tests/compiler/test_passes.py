# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The small streamline passes: each reaches a fixed point and keeps the graph's outputs."""
import importlib.util
from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_onnx

from pynq_bnn.compiler import load_qonnx
from pynq_bnn.compiler.passes.base import run_passes
from pynq_bnn.compiler.passes.fold_weight_quant import FoldWeightQuant
from pynq_bnn.compiler.passes.gemm_to_matmul import GemmToMatMul
from pynq_bnn.compiler.passes.integer_input import IntegerPixelInput
from pynq_bnn.compiler.passes.remove_dead_nodes import RemoveDeadNodes

_spec = importlib.util.spec_from_file_location("graphs", Path(__file__).with_name(
    "test_absorb_thresholds.py"))
graphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graphs)


def test_small_passes_reach_fixed_points_and_preserve_outputs(tmp_path):
    original = load_qonnx(graphs.small_cnv(np.random.default_rng(5)))
    passes = [FoldWeightQuant(), GemmToMatMul(), RemoveDeadNodes(), IntegerPixelInput()]
    model = run_passes(original, passes, save_intermediates=tmp_path)
    for step in passes:
        assert step.apply(model)[1] is False, type(step).__name__
    assert not any(n.op_type in ("Quant", "BipolarQuant") and model.get_initializer(n.input[0])
                   is not None for n in model.graph.node)
    assert model.get_tensor_datatype("global_in") == DataType["UINT8"]
    weights = [n for n in model.graph.node if n.op_type == "Mul" and all(
        model.get_initializer(i) is not None for i in n.input)]  # W_int * scale
    assert weights and model.get_tensor_datatype(weights[0].input[0]) == DataType["BIPOLAR"]
    image = np.random.default_rng(6).integers(0, 256, (1, 3, 8, 8)).astype(np.float32)
    before = execute_onnx(original, {"global_in": image / np.float32(255)})
    after = execute_onnx(model, {"global_in": image})
    name = original.graph.output[0].name
    np.testing.assert_array_equal(after[model.graph.output[0].name], before[name])
    assert len(list(tmp_path.glob("*.onnx"))) == len(passes) + 1
