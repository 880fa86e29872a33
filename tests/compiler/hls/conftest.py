# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Shared fixtures of the HLS tests: a small canonical dataflow graph built by hand."""
import numpy as np
import pytest

from pynq_bnn.compiler.graph import DataflowGraph
from pynq_bnn.compiler.hw.label_select import LabelSelect
from pynq_bnn.compiler.hw.mvau import MVAU
from pynq_bnn.compiler.hw.thresholding import Thresholding


def make_canonical_graph() -> DataflowGraph:
    """pixels (4,4,1) -> threshold to ±1 -> MVAU 16->8 (PE 2, SIMD 4, sign) -> MVAU 8->4 raw
    accumulators (PE 2, SIMD 8) -> top-2 label select. Fixed pseudo-random parameters."""
    rng = np.random.default_rng(2026)
    binarize = Thresholding("binarize", ["pixels"], "bits", {"thresholds": np.array([[128]])},
                            shape=[4, 4, 1], in_type="UINT8", out_type="BIPOLAR",
                            num_thresholds=1, PE=1)
    fc1 = MVAU("fc1", ["bits"], "hidden",
               {"weights": rng.choice([-1, 1], size=(8, 16)).astype(np.int8),
                "thresholds": rng.integers(-4, 5, size=(8, 1)),
                "neg": (rng.random(8) > 0.7).astype(np.uint8)},
               MW=16, MH=8, in_shape=[16], in_type="BIPOLAR", weight_type="BIPOLAR",
               out_type="BIPOLAR", num_thresholds=1, PE=2, SIMD=4)
    fc2 = MVAU("fc2", ["hidden"], "scores",
               {"weights": rng.choice([-1, 1], size=(4, 8)).astype(np.int8)},
               MW=8, MH=4, in_shape=[8], in_type="BIPOLAR", weight_type="BIPOLAR",
               out_type="INT5", num_thresholds=0, PE=2, SIMD=8)
    top = LabelSelect("top", ["scores"], "labels", labels=4, k=2, in_type="INT5", PE=2)
    return DataflowGraph([binarize, fc1, fc2, top], input_name="pixels", input_shape=(4, 4, 1),
                         output_name="labels", meta={"model": "canonical"})


@pytest.fixture
def canonical_graph():
    return make_canonical_graph()
