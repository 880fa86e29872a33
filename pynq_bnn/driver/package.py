# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Write a driver-ready overlay package from a compiled dataflow graph.

``make_package(graph, dir, classes=...)`` saves ``graph.json`` + ``params.npz`` and the matching
``accelerator.json`` (input = the graph's uint8 NHWC input, output = the top-k indices of its final
label-select layer, word width and clock from the board). The HLS build adds ``hls/``,
``report.json`` and, when synthesized, the bitstream and ``.hwh`` (and their names to ``files``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from pynq_bnn.driver.errors import SpecError
from pynq_bnn.driver.identity import format_identity, package_identity
from pynq_bnn.driver.spec import AcceleratorSpec, StreamSpec, save_spec

__all__ = ["make_package", "package_from_model", "spec_for_graph"]


def spec_for_graph(graph, *, classes, model: str | None = None, board: str = "Pynq-Z2",
                   clock_mhz: float | None = None, files: dict | None = None) -> AcceleratorSpec:
    """The :class:`AcceleratorSpec` of ``graph`` (a ``pynq_bnn.compiler.DataflowGraph``) on ``board``."""
    from pynq_bnn.compiler.boards import get_board

    info = get_board(board)
    out_type = graph.layers[-1].out_type()
    out_shape = tuple(graph.stream_shapes()[graph.output_name])
    if out_type.kind != "UINT" or len(out_shape) != 1:
        raise SpecError(f"the graph must end in a label-select layer (UINT top-k indices), its "
                        f"output is {out_type.name} {out_shape}")
    if graph.input_type != "UINT8":
        raise SpecError(f"the accelerator input must be UINT8 pixels, got {graph.input_type}")
    out_bits = 8 if out_type.bits <= 8 else 16 if out_type.bits <= 16 else 32
    folding = {layer.name: {k: layer.attrs[k] for k in ("PE", "SIMD") if k in layer.attrs}
               for layer in graph.layers}
    return AcceleratorSpec(
        model=model or graph.meta.get("model", "model"), board=info.name,
        clock_mhz=float(clock_mhz or info.clock_mhz),
        input=StreamSpec.create(graph.input_shape, "uint8", "NHWC", 8, info.axi_width),
        output=StreamSpec.create(out_shape, f"uint{out_bits}", "NK", out_bits, info.axi_width),
        classes=tuple(classes), files=dict(files or {"graph": "graph.json", "params": "params.npz"}),
        folding={k: v for k, v in folding.items() if v}, pynq_bnn_version=_version(),
    ).validate()


def make_package(graph, package_dir, *, classes, **options) -> AcceleratorSpec:
    """Save ``graph`` and its ``accelerator.json`` into ``package_dir``; returns the spec.

    ``identity`` is computed from the files just written (what the simulated device and the
    HLS top emit, :mod:`pynq_bnn.driver.identity`).

    ``options`` are those of :func:`spec_for_graph` (``model``, ``board``, ``clock_mhz``, ``files``).
    """
    from pynq_bnn.compiler import save_graph

    package_dir = Path(package_dir)
    spec = spec_for_graph(graph, classes=classes, **options)
    save_graph(graph, package_dir)
    identity = package_identity(package_dir / "graph.json", package_dir / "params.npz")
    spec = dataclasses.replace(spec, identity=format_identity(identity))
    save_spec(spec, package_dir)
    return spec


def _version() -> str:
    from pynq_bnn import __version__

    return __version__


def package_from_model(network, package_dir, *, classes, **options) -> AcceleratorSpec:
    """Export ``network`` (a zoo model) to QONNX, compile it and write a simulatable package.

    The QONNX file is kept as ``model.onnx`` in the package. ``options`` as for
    :func:`spec_for_graph`. The package has no bitstream: run it on the simulated device, or
    give it to ``build/build_overlay.py`` for HLS/Vivado.
    """
    from pynq_bnn.compiler import compile_qonnx
    from pynq_bnn.export import export_qonnx

    package_dir = Path(package_dir)
    graph = compile_qonnx(export_qonnx(network, package_dir / "model.onnx"))
    options.setdefault("model", network.config.get("name", type(network).__name__))
    return make_package(graph, package_dir, classes=classes, **options)
