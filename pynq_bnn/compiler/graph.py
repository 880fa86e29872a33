# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The dataflow graph of HW layers and its on-disk form (``graph.json`` + ``params.npz``).

A :class:`DataflowGraph` is what the compiler hands to folding, estimates, HLS generation, the
numpy executor and the driver: a topologically ordered list of :class:`HWLayer` objects joined by
named streams. The accelerator input is a uint8 NHWC image stream (``input_name``, per-image shape
``input_shape = (H, W, C)``); ``output_name`` is the final stream (the label-select top-k).

On disk (``save_graph``): ``graph.json`` holds ``format_version``, input/output names, the input
shape and type, ``meta`` and every layer's ``to_dict()``; ``params.npz`` holds every layer array
under ``"<layer name>/<param name>"``. Both files are written atomically (temp file + rename).

Loading needs numpy only: layer kinds are found through the HW layer registry
(:func:`pynq_bnn.compiler.hw.base.layer_class`), never through the QONNX lowering.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pynq_bnn.compiler.hw.base import HWLayer, StreamType
from pynq_bnn.compiler.ir import GraphFormatError

__all__ = ["DataflowGraph", "save_graph", "load_graph", "FORMAT_VERSION"]

FORMAT_VERSION = 1


@dataclass
class DataflowGraph:
    """HW layers in topological order plus the graph's input/output stream description.

    Attributes:
        layers: the HW layers, each consuming streams produced earlier (or the graph input).
        input_name: name of the input stream (uint8 pixels, channels last).
        input_shape: per-image input shape ``(H, W, C)``.
        input_type: stream type name of the input (``"UINT8"``).
        output_name: name of the final stream.
        meta: free JSON metadata (model name, classes, compiler options).
    """

    layers: list
    input_name: str
    input_shape: tuple
    input_type: str = "UINT8"
    output_name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.input_shape = tuple(int(d) for d in self.input_shape)
        if not self.output_name and self.layers:
            self.output_name = self.layers[-1].output

    def __iter__(self):
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> HWLayer:
        """The layer called ``name`` (KeyError listing the names otherwise)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}; layers: {[l.name for l in self.layers]}")

    def producer(self, stream: str):
        """The layer writing ``stream`` (None for the graph input)."""
        for layer in self.layers:
            if layer.output == stream:
                return layer
        return None

    def stream_shapes(self) -> dict:
        """Per-image shape of every stream, by name."""
        shapes = {self.input_name: self.input_shape}
        for layer in self.layers:
            shapes[layer.output] = tuple(layer.out_shape())
        return shapes

    def validate(self) -> None:
        """Check topological order, unique names and matching element counts of every stream.

        Raises:
            GraphFormatError: naming the first offending layer.
        """
        shapes = {self.input_name: self.input_shape}
        names = set()
        for layer in self.layers:
            if layer.name in names:
                raise GraphFormatError(f"layer name {layer.name!r} is used twice")
            names.add(layer.name)
            expected = layer.in_shapes()
            for stream, shape in zip(layer.inputs, expected):
                if stream not in shapes:
                    raise GraphFormatError(
                        f"layer {layer.name!r} reads stream {stream!r} before any layer writes it")
                if int(np.prod(shapes[stream])) != int(np.prod(shape)):
                    raise GraphFormatError(
                        f"layer {layer.name!r} expects {tuple(shape)} on {stream!r}, which carries "
                        f"{shapes[stream]}")
            if layer.output in shapes:
                raise GraphFormatError(f"stream {layer.output!r} is written twice")
            shapes[layer.output] = tuple(layer.out_shape())
        if self.output_name not in shapes:
            raise GraphFormatError(f"output stream {self.output_name!r} is never written")

    def to_dict(self) -> dict:
        return {"format_version": FORMAT_VERSION, "input_name": self.input_name,
                "input_shape": list(self.input_shape), "input_type": self.input_type,
                "output_name": self.output_name, "meta": self.meta,
                "layers": [layer.to_dict() for layer in self.layers]}

    def summary(self) -> str:
        """One line per layer: name, kind, output shape and type."""
        rows = [f"input {self.input_name}: {self.input_shape} {self.input_type}"]
        for layer in self.layers:
            rows.append(f"{layer.name:<28} {layer.kind:<14} -> {tuple(layer.out_shape())} "
                        f"{layer.out_type().name}")
        return "\n".join(rows)


def _atomic_write(path: Path, write) -> None:
    from pynq_bnn.utils.fsutil import current_umask

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # readable like a plain open(), not mkstemp's 0600
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_graph(graph: DataflowGraph, directory) -> Path:
    """Write ``graph.json`` and ``params.npz`` into ``directory`` (created if needed).

    Returns:
        The directory path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    graph.validate()
    arrays = {}
    for layer in graph.layers:
        for key, value in layer.params.items():
            arrays[f"{layer.name}/{key}"] = np.asarray(value)
    text = json.dumps(graph.to_dict(), indent=1, sort_keys=True).encode()
    _atomic_write(directory / "params.npz", lambda h: np.savez_compressed(h, **arrays))
    _atomic_write(directory / "graph.json", lambda h: h.write(text))
    return directory


def load_graph(directory) -> DataflowGraph:
    """Rebuild a :class:`DataflowGraph` saved by :func:`save_graph`.

    Raises:
        GraphFormatError: a file is missing or corrupt, the format version is unknown, a layer
            kind is unknown or a layer's parameters are missing.
    """
    directory = Path(directory)
    json_path, npz_path = directory / "graph.json", directory / "params.npz"
    for path in (json_path, npz_path):
        if not path.is_file():
            raise GraphFormatError(f"{path} is missing; save the graph with save_graph(graph, dir)")
    try:
        data = json.loads(json_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GraphFormatError(f"{json_path} is not valid JSON ({err}); re-run save_graph") \
            from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise GraphFormatError(f"{json_path}: unsupported format_version "
                               f"{data.get('format_version') if isinstance(data, dict) else None!r}"
                               f" (this pynq_bnn reads version {FORMAT_VERSION})")
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise GraphFormatError(f"{npz_path} is corrupt ({err}); re-run save_graph") from None
    layers = []
    try:
        for entry in data["layers"]:
            prefix = f"{entry['name']}/"
            params = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            layers.append(HWLayer.from_dict(entry, params))
        graph = DataflowGraph(layers, data["input_name"], tuple(data["input_shape"]),
                              data["input_type"], data["output_name"], data.get("meta", {}))
    except (KeyError, TypeError) as err:
        raise GraphFormatError(f"{json_path} is inconsistent: {err}") from None
    for layer in graph.layers:
        missing = [p for p in getattr(layer, "REQUIRED_PARAMS", ()) if p not in layer.params]
        if missing:
            raise GraphFormatError(f"{npz_path} lacks parameters {missing} of layer {layer.name!r}")
    StreamType.parse(graph.input_type)
    graph.validate()
    return graph
