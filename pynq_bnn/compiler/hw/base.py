# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""HW layers: one class per streaming hardware layer, owning all knowledge of that layer.

How to write a HW layer
-----------------------
1. Subclass :class:`HWLayer` with a ``kind`` keyword: ``class MVAU(HWLayer, kind="MVAU")``, in
   a module of ``pynq_bnn/compiler/hw/``. The class registers itself; generic code looks layers
   up with :func:`layer_class`, which imports every module of the package on a miss
   (:func:`pynq_bnn.compiler.hw.load_layer_kinds`), so loading a graph needs no other list of
   kinds. Import only numpy and ``pynq_bnn.compiler.{hw,cost}`` at module level (the runtime
   loads graphs on a board without onnx/qonnx/torch).
2. Declare ``ATTRS``: a tuple of :class:`Attr` (name, type, default, doc). Attributes are plain
   JSON values (ints, strings, lists); the folding is part of them (``PE``/``SIMD``).
   Arrays (weights, thresholds) live in ``self.params`` (``dict[str, np.ndarray]``) and are saved
   to an ``.npz`` beside the graph JSON.
3. Implement the interface below. Every method is pure (no file I/O, no global state):

   * ``in_shapes()`` / ``out_shape()`` — per-image tensor shapes, channels last (``(H, W, C)`` or
     ``(C,)``); ``in_types()`` / ``out_type()`` — :class:`StreamType` of each stream element.
   * ``folding_space()`` — ``{"PE": [...], "SIMD": [...]}`` legal values per folding axis.
   * ``check_folding()`` — list of human-readable problems (empty when legal), naming the rule.
   * ``cycles()`` — cycles per image at initiation interval 1 (FINN convention: an MVAU needs
     ``(MH/PE)·(MW/SIMD)·pixels``).
   * ``resources(board)`` — :class:`Resources` estimate from a documented model. There is no
     default: a layer without an estimate is an error, never a silent zero.
   * ``reference(*inputs)`` — the bit-exact numpy semantics on a batch ``(N, *in_shape)`` of
     integer arrays; returns ``(N, *out_shape)`` integers. This is the oracle for HLS csim and the
     simulated device.
   * ``render_hls()`` — a pure function returning an :class:`HlsSnippet` (data, not files).

Value encoding on every stream (numpy reference and hardware alike)
------------------------------------------------------------------
* ``BIPOLAR``: stored as bits ``{0, 1}`` where 1 means +1 (XNOR-popcount convention).
* ``UINTk`` / ``INTk``: plain integers of that width.
* ``FRAC2``: FracBNN 2-bit activation codes ``0..3`` for ``{-1, -1/3, 1/3, 1}``
  (MSB plane = code >> 1, LSB plane = code & 1, each a BIPOLAR bit).
Tensors are channels-last (NHWC for feature maps): this is the order elements leave a stream.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

__all__ = ["Attr", "HWLayer", "HlsSnippet", "Resources", "StreamType", "layer_class", "LAYER_KINDS",
           "decode_values", "encode_values", "divisors"]

LAYER_KINDS: dict = {}


@dataclass(frozen=True)
class Attr:
    """One typed layer attribute (JSON value) with a default and a doc line."""

    name: str
    type: type
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class StreamType:
    """Element type of a stream: ``kind`` in {"BIPOLAR", "UINT", "INT", "FRAC2"} and a bit width."""

    kind: str
    bits: int

    @property
    def name(self) -> str:
        return self.kind if self.kind in ("BIPOLAR", "FRAC2") else f"{self.kind}{self.bits}"

    @classmethod
    def parse(cls, name: str) -> "StreamType":
        if name == "BIPOLAR":
            return cls("BIPOLAR", 1)
        if name == "FRAC2":
            return cls("FRAC2", 2)
        for kind in ("UINT", "INT"):
            if name.startswith(kind) and name[len(kind):].isdigit():
                return cls(kind, int(name[len(kind):]))
        raise ValueError(f"unknown stream type {name!r}")


@dataclass
class Resources:
    """FPGA resource estimate of one layer (counts; BRAM in 18 Kb blocks)."""

    lut: float = 0.0
    ff: float = 0.0
    bram18: float = 0.0
    dsp: float = 0.0
    uram: float = 0.0

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class HlsSnippet:
    """What one layer contributes to the generated HLS project (pure data).

    Attributes:
        includes: header names the layer needs (``"bnn/mvau.hpp"``).
        params_header: C++ text of a header holding the layer's constant arrays.
        decl: stream declarations for the layer's output(s).
        call: the C++ statement(s) calling the layer's template function.
        pragmas: extra pragmas (array partitioning, resource binding).
        in_lanes: elements per stream word of each input (in ``layer.inputs`` order).
        out_lanes: elements per stream word of the output.
    """

    includes: list = field(default_factory=list)
    params_header: str = ""
    decl: str = ""
    call: str = ""
    pragmas: list = field(default_factory=list)
    in_lanes: list = field(default_factory=list)
    out_lanes: int = 0


class HWLayer:
    """Base class of all HW layers (see the module docstring for the guide)."""

    kind: ClassVar[str] = ""
    ATTRS: ClassVar[tuple] = ()

    def __init_subclass__(cls, kind: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        if kind:
            if kind in LAYER_KINDS:
                raise TypeError(f"HW layer kind {kind!r} registered twice")
            cls.kind = kind
            LAYER_KINDS[kind] = cls

    def __init__(self, name: str, inputs: list, output: str, params: dict | None = None, **attrs):
        self.name = name
        self.inputs = list(inputs)
        self.output = output
        self.params = dict(params or {})
        known = {a.name: a for a in self.ATTRS}
        unknown = set(attrs) - set(known)
        if unknown:
            raise TypeError(f"{self.kind} {name!r}: unknown attributes {sorted(unknown)}")
        self.attrs = {a.name: attrs.get(a.name, a.default) for a in self.ATTRS}
        missing = [k for k, v in self.attrs.items() if v is None]
        if missing:
            raise TypeError(f"{self.kind} {name!r}: missing attributes {missing}")

    def __getattr__(self, item):
        attrs = self.__dict__.get("attrs")
        if attrs is not None and item in attrs:
            return attrs[item]
        raise AttributeError(f"{type(self).__name__} has no attribute {item!r}")

    def __repr__(self) -> str:
        return f"{self.kind}({self.name!r}, {self.attrs})"

    # -- serialization -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "inputs": self.inputs,
                "output": self.output, "attrs": self.attrs}

    @classmethod
    def from_dict(cls, data: dict, params: dict | None = None) -> "HWLayer":
        layer_cls = layer_class(data["kind"])
        return layer_cls(data["name"], data["inputs"], data["output"], params, **data["attrs"])

    # -- interface (every subclass implements all of it) -----------------------------------------
    def in_shapes(self) -> list:
        raise NotImplementedError(f"{self.kind}.in_shapes")

    def out_shape(self) -> tuple:
        raise NotImplementedError(f"{self.kind}.out_shape")

    def in_types(self) -> list:
        raise NotImplementedError(f"{self.kind}.in_types")

    def out_type(self) -> StreamType:
        raise NotImplementedError(f"{self.kind}.out_type")

    def folding_space(self) -> dict:
        raise NotImplementedError(f"{self.kind}.folding_space")

    def check_folding(self) -> list:
        raise NotImplementedError(f"{self.kind}.check_folding")

    def cycles(self) -> int:
        raise NotImplementedError(f"{self.kind}.cycles")

    def resources(self, board) -> Resources:
        raise NotImplementedError(f"{self.kind}.resources has no estimate")

    def binary_macs(self) -> int:
        """1-bit x 1-bit products (XNOR-popcount work) per image; 0 for layers without any.
        Used by the simulation roofline (``benchmarks/sim_throughput.py``)."""
        return 0

    def fused_reference(self, producer: "HWLayer"):
        """A function of ``producer``'s inputs equal to ``self.reference(producer.reference(
        ...))``, computed without materializing the stream between them, or None (default).

        :func:`pynq_bnn.compiler.execute` asks this when ``producer``'s output is read by this
        layer only; e.g. an MVAU absorbs its SlidingWindow, a FracMVAU the Requantize that
        makes its FRAC2 codes. Bit-exactness is the layer's obligation (tested per preset)."""
        return None

    def reference(self, *inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.kind}.reference")

    def render_hls(self) -> HlsSnippet:
        raise NotImplementedError(f"{self.kind}.render_hls")


def layer_class(kind: str) -> type:
    """The registered :class:`HWLayer` subclass for ``kind`` (clear error when unknown)."""
    if kind not in LAYER_KINDS:
        from pynq_bnn.compiler.hw import load_layer_kinds

        load_layer_kinds()  # a kind whose module was not imported yet (e.g. in load_graph)
    try:
        return LAYER_KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown HW layer kind {kind!r}; known: {sorted(LAYER_KINDS)}") from None


def decode_values(x: np.ndarray, stype: StreamType) -> np.ndarray:
    """Stream elements -> the integers they stand for (BIPOLAR bits {0,1} -> {-1,+1}; FRAC2 codes
    0..3 -> {-3,-1,1,3}, i.e. 3x the FracBNN value; UINT/INT unchanged). Returns int64."""
    x = np.asarray(x).astype(np.int64)
    if stype.kind == "BIPOLAR":
        return 2 * x - 1
    if stype.kind == "FRAC2":
        return 2 * x - 3
    return x


def encode_values(v: np.ndarray, stype: StreamType) -> np.ndarray:
    """Inverse of :func:`decode_values` (checks the values are representable)."""
    v = np.asarray(v).astype(np.int64)
    if stype.kind == "BIPOLAR":
        if not np.all(np.abs(v) == 1):
            raise ValueError("BIPOLAR stream values must be -1 or +1")
        return ((v + 1) // 2).astype(np.uint8)
    if stype.kind == "FRAC2":
        return ((v + 3) // 2).astype(np.uint8)
    return v


def divisors(n: int) -> list:
    """All positive divisors of ``n`` in increasing order (legal PE/SIMD values)."""
    n = int(n)
    return [d for d in range(1, n + 1) if n % d == 0]
