# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""execute(): input contract, chunking invariance, return_all."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler import ExecutionInputError, execute

_spec = importlib.util.spec_from_file_location("graph_helpers", Path(__file__).with_name(
    "test_graph.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)


def test_chunking_does_not_change_results():
    graph = _helpers.tiny_graph()
    images = np.random.default_rng(0).integers(0, 256, (37, 4, 4, 1)).astype(np.uint8)
    full = execute(graph, images)
    assert full.shape == (37, 2)
    np.testing.assert_array_equal(execute(graph, images, batch_size=5), full)
    streams = execute(graph, images, return_all=True, batch_size=8)
    assert set(streams) == {"img", "bits", "scores", "label"}
    np.testing.assert_array_equal(streams["label"], full)
    assert streams["bits"].shape == (37, 4, 4, 1)


def test_single_image_and_input_errors():
    graph = _helpers.tiny_graph()
    assert execute(graph, np.zeros((4, 4, 1), np.uint8)).shape == (1, 2)
    with pytest.raises(ExecutionInputError, match="uint8"):
        execute(graph, np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ExecutionInputError, match="NHWC"):
        execute(graph, np.zeros((1, 5, 4, 1), np.uint8))
    with pytest.raises(ExecutionInputError, match="numpy"):
        execute(graph, [[0]])


def test_nchw_input_gets_a_transpose_hint():
    graph = _helpers.tiny_graph()
    graph.input_shape = (4, 4, 3)
    with pytest.raises(ExecutionInputError, match="transpose"):
        execute(graph, np.zeros((2, 3, 4, 4), np.uint8))
