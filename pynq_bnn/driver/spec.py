# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``accelerator.json``: the versioned contract between an overlay build and the driver.

The compiler/HLS build writes one ``accelerator.json`` per overlay package
(``overlays/<name>/``); the driver (:class:`pynq_bnn.driver.BNNOverlay`) and the simulated device
read it into a frozen :class:`AcceleratorSpec`. Schema version 1::

    {
      "schema_version": 1,
      "model": "cnv",                     # zoo preset / model name
      "board": "Pynq-Z2",
      "clock_mhz": 100.0,                 # PL clock (fclk0) the design closes timing at
      "input":  {"shape": [32, 32, 3], "dtype": "uint8", "layout": "NHWC",
                 "elem_bits": 8, "word_bits": 64, "words_per_image": 384},
      "output": {"shape": [1], "dtype": "uint8", "layout": "NK",
                 "elem_bits": 8, "word_bits": 64, "words_per_image": 1},
      "dma_name": "axi_dma_0",            # AXI DMA instance in the block design
      "accelerator_ip": "bnn_top_0",      # the HLS accelerator instance
      "ip_control": "ap_ctrl_hs",         # num_images @0x10 + ap_start; or "ap_ctrl_none"
      "folding": {"<layer>": {"PE": 4, "SIMD": 8}},
      "classes": ["airplane", ...],
      "files": {"bitstream": "cnv.bit", "hwh": "cnv.hwh", "graph": "graph.json",
                "params": "params.npz"},
      "pynq_bnn_version": "0.1.0",
      "identity": "0x1a2b3c4d",           # model identity register value ("" = not recorded)
      "registers": {"ap_ctrl": 0, "num_images": 16, "identity": 24},  # s_axilite byte offsets
      "channel_order": "RGB"              # colour order of the input pixels
    }

The accelerator's control registers (32-bit words on its ``s_axilite`` port, ``ap_ctrl_hs``) are
``registers`` (defaults :data:`DEFAULT_REGISTERS`): ``ap_ctrl`` (bit 0 ap_start, 1 ap_done,
2 ap_idle), ``num_images`` (images in the next run) and ``identity`` (read-only, written by
every run: :func:`pynq_bnn.driver.identity.package_identity` of the compiled graph and its
parameters, which the driver compares with ``identity`` so a bitstream of another model is
refused). ``docs/pynq_contract.md`` describes the whole start sequence.

Stream packing (see :mod:`pynq_bnn.driver.packing`): the elements of one image, in layout order,
are packed LSB-first into little-endian words of ``word_bits`` bits, each image padded with zero
bits to whole words, so ``words_per_image = ceil(prod(shape) * elem_bits / word_bits)``.
``word_bits`` is the AXI-Stream width of the DMA (64 on Zynq-7000 boards, 128 on Zynq UltraScale+).
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from pynq_bnn.driver.errors import OverlayFileError, SpecError

__all__ = ["SCHEMA_VERSION", "SPEC_FILENAME", "DEFAULT_REGISTERS", "StreamSpec",
           "AcceleratorSpec", "load_spec",
           "save_spec", "spec_path", "check_package_files", "words_per_image"]

SCHEMA_VERSION = 1
SPEC_FILENAME = "accelerator.json"
ELEM_BITS = (1, 2, 4, 8, 16, 32)
WORD_BITS = (64, 128, 256, 512)
IP_CONTROLS = ("ap_ctrl_none", "ap_ctrl_hs")
DTYPE_BITS = {"uint8": 8, "uint16": 16, "uint32": 32}
DEFAULT_REGISTERS = {"ap_ctrl": 0x00, "num_images": 0x10, "identity": 0x18}
CHANNEL_ORDERS = ("RGB",)
IDENTITY_PATTERN = re.compile(r"0x[0-9a-f]{8}")


def words_per_image(shape, elem_bits: int, word_bits: int) -> int:
    """Stream words one image occupies: ``ceil(prod(shape) * elem_bits / word_bits)``."""
    return -(-math.prod(shape) * elem_bits // word_bits)


@dataclass(frozen=True)
class StreamSpec:
    """One AXI-Stream side of the accelerator (per image).

    Attributes:
        shape: element shape of one image, e.g. ``(32, 32, 3)`` (HWC) or ``(1,)`` (top-k).
        dtype: numpy dtype name of the unpacked elements (``uint8``/``uint16``/``uint32``).
        layout: ``"NHWC"`` for images, ``"NK"`` for top-k results (documentation + check).
        elem_bits: bits per element on the stream (1, 2, 4, 8, 16 or 32; ≤ the dtype width).
        word_bits: stream/DMA word width in bits (64, 128, 256 or 512).
        words_per_image: stream words per image, ``ceil(prod(shape)·elem_bits/word_bits)``.
    """

    shape: tuple
    dtype: str
    layout: str
    elem_bits: int
    word_bits: int
    words_per_image: int

    @property
    def elems_per_image(self) -> int:
        return math.prod(self.shape)

    @property
    def bytes_per_image(self) -> int:
        return self.words_per_image * self.word_bits // 8

    @classmethod
    def create(cls, shape, dtype: str, layout: str, elem_bits: int, word_bits: int) -> "StreamSpec":
        """Build a stream spec computing ``words_per_image`` from the other fields."""
        shape = tuple(int(s) for s in shape)
        return cls(shape, dtype, layout, int(elem_bits), int(word_bits),
                   words_per_image(shape, elem_bits, word_bits))

    def validate(self, where: str) -> None:
        if not self.shape or any(not isinstance(s, int) or s <= 0 for s in self.shape):
            raise SpecError(f"{where}.shape must be a list of positive ints, got {list(self.shape)}")
        if self.dtype not in DTYPE_BITS:
            raise SpecError(f"{where}.dtype must be one of {sorted(DTYPE_BITS)}, got {self.dtype!r}")
        if self.elem_bits not in ELEM_BITS or self.elem_bits > DTYPE_BITS[self.dtype]:
            raise SpecError(f"{where}.elem_bits must be one of {ELEM_BITS} and fit {self.dtype}, "
                            f"got {self.elem_bits}")
        if self.word_bits not in WORD_BITS:
            raise SpecError(f"{where}.word_bits must be one of {WORD_BITS} (64 on Zynq-7000, 128 on "
                            f"Zynq UltraScale+), got {self.word_bits}")
        expected = words_per_image(self.shape, self.elem_bits, self.word_bits)
        if self.words_per_image != expected:
            raise SpecError(f"{where}.words_per_image is {self.words_per_image} but "
                            f"ceil({math.prod(self.shape)}·{self.elem_bits}/{self.word_bits}) = "
                            f"{expected}; the package is inconsistent, rebuild it")


@dataclass(frozen=True)
class AcceleratorSpec:
    """Everything the driver needs to know about one overlay package (``accelerator.json``)."""

    model: str
    board: str
    clock_mhz: float
    input: StreamSpec
    output: StreamSpec
    classes: tuple
    files: dict
    dma_name: str = "axi_dma_0"
    accelerator_ip: str = "bnn_top_0"
    ip_control: str = "ap_ctrl_hs"
    folding: dict = field(default_factory=dict)
    pynq_bnn_version: str = ""
    schema_version: int = SCHEMA_VERSION
    identity: str = ""
    registers: dict = field(default_factory=lambda: dict(DEFAULT_REGISTERS))
    channel_order: str = "RGB"

    @property
    def identity_value(self):
        """The expected identity register value (``int``), or ``None`` when not recorded."""
        return int(self.identity, 16) if self.identity else None

    def validate(self) -> "AcceleratorSpec":
        """Check every field; raise :class:`SpecError` naming the first bad one."""
        if self.schema_version != SCHEMA_VERSION:
            raise SpecError(f"accelerator.json schema_version {self.schema_version!r} is not "
                            f"supported (this pynq_bnn reads version {SCHEMA_VERSION}); rebuild "
                            "the overlay with this pynq_bnn or install the matching version")
        self.input.validate("input")
        self.output.validate("output")
        if self.input.layout != "NHWC" or len(self.input.shape) != 3:
            raise SpecError(f"input must be NHWC images with shape [H, W, C], got layout "
                            f"{self.input.layout!r} shape {list(self.input.shape)}")
        if len(self.output.shape) != 1:
            raise SpecError(f"output.shape must be [k] (top-k class indices), got "
                            f"{list(self.output.shape)}")
        if not isinstance(self.clock_mhz, (int, float)) or self.clock_mhz <= 0:
            raise SpecError(f"clock_mhz must be a positive number, got {self.clock_mhz!r}")
        if self.ip_control not in IP_CONTROLS:
            raise SpecError(f"ip_control must be one of {IP_CONTROLS}, got {self.ip_control!r}")
        if not self.classes or not all(isinstance(c, str) for c in self.classes):
            raise SpecError("classes must be a non-empty list of label names")
        if self.output.shape[0] > len(self.classes):
            raise SpecError(f"output k={self.output.shape[0]} exceeds the {len(self.classes)} classes")
        if self.identity and not IDENTITY_PATTERN.fullmatch(self.identity):
            raise SpecError(f"identity must be 8 lower-case hex digits like '0x1a2b3c4d' (or '' "
                            f"when not recorded), got {self.identity!r}")
        if not isinstance(self.registers, dict) or set(self.registers) != set(DEFAULT_REGISTERS) \
                or not all(isinstance(v, int) and v % 4 == 0 and 0 <= v < 0x1000
                           for v in self.registers.values()):
            raise SpecError(f"registers must map {sorted(DEFAULT_REGISTERS)} to word-aligned byte "
                            f"offsets below 0x1000, got {self.registers!r}")
        if self.channel_order not in CHANNEL_ORDERS:
            raise SpecError(f"channel_order must be one of {CHANNEL_ORDERS}, got "
                            f"{self.channel_order!r}")
        for key in ("graph",):
            if key not in self.files:
                raise SpecError(f"files.{key} is missing (name of the file inside the package)")
        return self

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["classes"] = list(self.classes)
        for side in ("input", "output"):
            data[side]["shape"] = list(data[side]["shape"])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "AcceleratorSpec":
        """Parse a decoded ``accelerator.json``; raises :class:`SpecError` on any problem."""
        if not isinstance(data, dict):
            raise SpecError(f"accelerator.json must hold a JSON object, got {type(data).__name__}")
        if "schema_version" not in data:
            raise SpecError("accelerator.json has no 'schema_version' field; it was not written "
                            "by pynq_bnn (expected schema_version 1)")
        if data["schema_version"] != SCHEMA_VERSION:
            raise SpecError(f"accelerator.json schema_version {data['schema_version']!r} is not "
                            f"supported (this pynq_bnn reads version {SCHEMA_VERSION})")
        required = ("model", "board", "clock_mhz", "input", "output", "classes", "files")
        _require(data, required, "")
        optional = {f.name for f in dataclasses.fields(cls)} - set(required)
        unknown = set(data) - set(required) - optional
        if unknown:
            raise SpecError(f"accelerator.json has unknown fields {sorted(unknown)}")
        streams = {side: _parse_stream(data[side], side) for side in ("input", "output")}
        kwargs = {k: v for k, v in data.items() if k not in ("input", "output")}
        kwargs["classes"] = tuple(data["classes"]) if isinstance(data["classes"], list) else ()
        if not isinstance(data["files"], dict):
            raise SpecError("files must be an object mapping role -> file name")
        return cls(**kwargs, **streams).validate()


def _require(data: dict, names, where: str) -> None:
    for name in names:
        if name not in data:
            raise SpecError(f"accelerator.json is missing field '{where}{name}'")


def _parse_stream(data, side: str) -> StreamSpec:
    if not isinstance(data, dict):
        raise SpecError(f"'{side}' must be an object")
    names = [f.name for f in dataclasses.fields(StreamSpec)]
    _require(data, names, side + ".")
    unknown = set(data) - set(names)
    if unknown:
        raise SpecError(f"'{side}' has unknown fields {sorted(unknown)}")
    if not isinstance(data["shape"], list):
        raise SpecError(f"{side}.shape must be a list, got {data['shape']!r}")
    return StreamSpec(**{**data, "shape": tuple(data["shape"])})


def spec_path(package: str | Path) -> Path:
    """``accelerator.json`` of a package directory (or the path itself when it is a file)."""
    package = Path(package)
    return package if package.suffix == ".json" else package / SPEC_FILENAME


def load_spec(package: str | Path) -> AcceleratorSpec:
    """Load and validate ``accelerator.json`` from a package directory (or the file itself).

    Raises:
        OverlayFileError: the file does not exist or is not valid JSON.
        SpecError: a field is missing or invalid, or the schema version is not 1.
    """
    path = spec_path(package)
    if not path.is_file():
        raise OverlayFileError(f"{path} not found: an overlay package must contain "
                               f"{SPEC_FILENAME} (build it with build/build_overlay.py)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OverlayFileError(f"{path} is corrupt (not JSON: {err}); rebuild the package") from None
    return AcceleratorSpec.from_dict(data)


def save_spec(spec: AcceleratorSpec, package: str | Path) -> Path:
    """Validate ``spec`` and write it as ``accelerator.json`` into ``package``; returns the path."""
    spec.validate()
    path = spec_path(package)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def check_package_files(spec: AcceleratorSpec, package: str | Path, roles) -> dict:
    """Paths of the files ``roles`` (e.g. ``("graph", "params")``); raise if any is absent.

    Raises:
        SpecError: a role is not listed in ``spec.files``.
        OverlayFileError: a listed file does not exist in the package.
    """
    package = Path(package)
    paths = {}
    for role in roles:
        if role not in spec.files:
            raise SpecError(f"accelerator.json lists no '{role}' file (files: {sorted(spec.files)})")
        path = package / spec.files[role]
        if not path.is_file():
            raise OverlayFileError(f"{role} file {path} is missing from the overlay package")
        paths[role] = path
    return paths
