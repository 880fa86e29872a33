# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""HLS code generation and C simulation of a dataflow graph (no Xilinx tools needed).

* :func:`write_project` / :func:`render_project` — the HLS C++ project (DATAFLOW top level with
  AXI-Stream in/out, per-layer params headers, testbench, Makefile, Vitis HLS and Vivado TCL);
  the template contract is ``compiler/templates/CONTRACT.md``.
* :func:`verify_csim` / :func:`run_csim` — compile the project with g++ and compare it with the
  numpy reference bit-exactly; :func:`csim_layers` runs single templates (unit tests).
* :mod:`.packing` — the word layout shared by testbench files and DMA buffers.
* :mod:`.static_check` — the rules Vitis HLS enforces, checked on a generated project;
  :mod:`.dataflow_csim` — csim with one thread per process and FIFOs at their declared depths
  (deadlock detection, peak occupancy); ``synthesis=True`` of :func:`verify_csim` runs the
  templates' synthesizable branch. What each covers: ``docs/hls_verification.md``.

>>> from pynq_bnn.compiler.hls import write_project, verify_csim     # doctest: +SKIP
>>> project = write_project(graph, "out/hls_project", board="pynq-z2")  # doctest: +SKIP
>>> verify_csim(graph, project, images_nhwc_uint8).passed             # doctest: +SKIP
True
"""
from pynq_bnn.compiler.hls.csim import CsimError, LayerCase, StreamSpec, csim_layer, csim_layers
from pynq_bnn.compiler.hls.packing import pack_words, unpack_words
from pynq_bnn.compiler.hls.project import Project, load_project, render_project, write_project
from pynq_bnn.compiler.hls.topgen import HlsRenderError
from pynq_bnn.compiler.hls.verify import CsimReport, build_csim, run_csim, verify_csim

__all__ = ["write_project", "render_project", "load_project", "Project", "verify_csim",
           "run_csim", "build_csim", "CsimReport", "CsimError", "HlsRenderError", "csim_layer",
           "csim_layers", "LayerCase", "StreamSpec", "pack_words", "unpack_words"]
