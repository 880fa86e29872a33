# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Every preset (shipped checkpoint, folded to fit Pynq-Z2) through the Vitis-faithful checks
on real test images: static checks clean; csim branch and synthesizable branch
(``-D__SYNTHESIS__``) bit-exact with numpy; bounded-FIFO dataflow csim at the emitted depths
completes (no deadlock) and is bit-exact.

Slow (minutes per preset: three g++ builds). Images per preset: $PYNQ_BNN_HLS_IMAGES (default
and minimum 8; the issue's acceptance run uses 100 for the two csim branches).
"""
import os

import numpy as np
import pytest

from pynq_bnn import zoo
from pynq_bnn.compiler.hls.dataflow_csim import verify_dataflow_csim
from pynq_bnn.compiler.hls.project import write_project
from pynq_bnn.compiler.hls.static_check import check_project
from pynq_bnn.compiler.hls.verify import verify_csim

PRESETS = ["lfc", "cnv", "cnv-thermo", "cnv-bitplane", "fracbnn", "lab", "repbnn", "sdbnn"]
IMAGES = max(8, int(os.environ.get("PYNQ_BNN_HLS_IMAGES", "8")))


def _preset_graph(name, tmp_path):
    from pynq_bnn.checkpoint import load_model, pretrained_path
    from pynq_bnn.compiler import compile_qonnx
    from pynq_bnn.compiler.folding import fold_to_fit
    from pynq_bnn.export import export_qonnx

    model, _ = load_model(pretrained_path(name))
    export_qonnx(model, tmp_path / f"{name}.onnx")
    graph = compile_qonnx(tmp_path / f"{name}.onnx")
    fold_to_fit(graph, "pynq-z2")
    return graph


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_preset_passes_every_vitis_faithful_check(preset, tmp_path, data_dir):
    from pynq_bnn.data import load_dataset

    graph = _preset_graph(preset, tmp_path)
    project = write_project(graph, tmp_path / "proj", "pynq-z2", name=preset.replace("-", "_"))
    assert check_project(project.hls_dir) == []
    images = load_dataset(zoo.get_preset(preset).dataset, "test", data_dir).images[:IMAGES]
    images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    for synthesis in (False, True):
        report = verify_csim(graph, project, images, batch=4, synthesis=synthesis)
        assert report.passed, (synthesis, report.as_dict())
    result = verify_dataflow_csim(graph, project, images[:8], batch=4)
    assert result.peaks and all(result.peaks[s] <= result.depths[s] for s in result.peaks)
