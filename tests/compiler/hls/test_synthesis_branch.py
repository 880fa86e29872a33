# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The synthesizable branch of the templates (``-D__SYNTHESIS__``: the code Vitis synthesizes,
not the csim fast paths) compiled with g++ and run: bit-exact with the csim branch and numpy.

Fast tier: the tiny canonical graph, plus a test that the check bites on a defect that only the
synthesizable branch has. The slow tier runs the presets (``test_presets_vitis_faithful.py``).
"""
import numpy as np
import pytest

from pynq_bnn.compiler import execute
from pynq_bnn.compiler.hls.csim import compile_command
from pynq_bnn.compiler.hls.project import write_project
from pynq_bnn.compiler.hls.verify import run_csim, verify_csim


def test_synthesis_flag_reaches_gxx(tmp_path):
    assert "-D__SYNTHESIS__" in compile_command(["a.cpp"], tmp_path / "a", synthesis=True)
    assert "-D__SYNTHESIS__" not in compile_command(["a.cpp"], tmp_path / "a")


def test_canonical_synthesis_branch_equals_csim_and_numpy(canonical_graph, tmp_path):
    project = write_project(canonical_graph, tmp_path / "proj", "pynq-z2", name="canonical")
    images = np.random.default_rng(5).integers(0, 256, size=(23, 4, 4, 1), dtype=np.uint8)
    synth = run_csim(project, images, batch=4, jobs=1, synthesis=True)
    csim = run_csim(project, images, batch=4, jobs=1)
    np.testing.assert_array_equal(synth, csim)
    np.testing.assert_array_equal(synth, np.asarray(execute(canonical_graph, images)))
    assert (project.hls_dir / "csim" / "tb_synth").is_file()


def test_defect_only_in_the_synthesizable_branch_is_caught(canonical_graph, tmp_path):
    """Break the synthesizable popcount (the csim branch uses the host popcount): the csim
    branch still passes, the synthesis branch must not."""
    project = write_project(canonical_graph, tmp_path / "proj", "pynq-z2", name="canonical")
    common = project.hls_dir / "src" / "bnn" / "common.hpp"
    text = common.read_text()
    assert "    count += x[i];\n" in text
    common.write_text(text.replace("    count += x[i];\n", "    count += (i == 0) ? 0 : x[i];\n"))
    images = np.random.default_rng(6).integers(0, 256, size=(16, 4, 4, 1), dtype=np.uint8)
    assert verify_csim(canonical_graph, project, images, jobs=1).passed
    report = verify_csim(canonical_graph, project, images, jobs=1, synthesis=True)
    assert not report.passed and report.mismatches > 0
