# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The HLS project of an accelerator: rendering (pure) and the one function that writes it.

Layout written by :func:`write_project` (everything needed to rebuild without pynq_bnn)::

    <out_dir>/
      project.json          ports (AXI width, words/elements per image), board, clock, IP names
      hls/src/bnn_top.cpp   DATAFLOW top level; hls/src/bnn_top.hpp; hls/src/params/<layer>.hpp
      hls/src/bnn/*.hpp     the streaming template library (copied)
      hls/tb/tb.cpp, hls/tb/tb_io.hpp      testbench (g++ csim and Vitis HLS)
      hls/csim/*.h          own hls::stream / ap_axiu for g++ csim only
      hls/Makefile          g++ csim build;  hls/hls.tcl: Vitis HLS csynth + IP export
      vivado/vivado.tcl     block design: Zynq PS + AXI DMA + accelerator -> <name>.bit/.hwh

Writing is atomic: files go to a temporary folder beside ``out_dir`` that is renamed at the end,
so an interrupted write never leaves a half-written project.

Every value written into a Tcl script or a Makefile goes through an escaping filter applied by
the template engine itself (``finalize``), so no template can forget it: :func:`tcl_word` makes
a value one literal Tcl word (``x[exec touch F]`` stays text), :func:`make_word` one literal
shell word in a Makefile. No generated file holds a path of the machine that wrote it.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

from pynq_bnn.compiler.boards import get_board
from pynq_bnn.compiler.hls.csim import templates_dir
from pynq_bnn.compiler.hls.topgen import StreamIO, render_top

__all__ = ["Project", "render_project", "write_project", "load_project", "DMA_NAME",
           "ACCEL_NAME", "CONTROL_REGISTERS", "BOARD_PARTS", "tcl_word", "make_word"]

log = logging.getLogger(__name__)
DMA_NAME = "axi_dma_0"  # names shared with pynq_bnn.driver.spec defaults
ACCEL_NAME = "bnn_top_0"
# ap_ctrl_hs control block of the HLS IP (s_axilite bundle "control").
CONTROL_REGISTERS = {"ap_ctrl": 0x00, "gie": 0x04, "ier": 0x08, "isr": 0x0C, "num_images": 0x10}
# Vivado board part (vendor:board:part0:<version>) whose preset configures the PS (DDR, MIO,
# clocks) for each board; the newest installed version is used.
BOARD_PARTS = {"Pynq-Z1": "www.digilentinc.com:pynq-z1:part0:*",
               "Pynq-Z2": "tul.com.tw:pynq-z2:part0:*",
               "Ultra96-V2": "avnet.com:ultra96v2:part0:*",
               "KV260": "xilinx.com:kv260_som:part0:*",
               "ZCU104": "xilinx.com:zcu104:part0:*"}
_TCL_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:+,=@%")


def _check_text(value, what: str) -> str:
    text = str(value)
    if not text:
        raise ValueError(f"empty value in a generated {what}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError(f"{text!r}: control characters cannot go into a generated {what}; "
                         "rename it")
    if text.startswith("-"):
        raise ValueError(f"{text!r}: a value starting with '-' would read as an option in a "
                         f"generated {what}; rename it")
    return text


def tcl_word(value) -> str:
    """``value`` as one literal Tcl word: every character outside ``[A-Za-z0-9_-./:+,=@%]`` is
    backslash-escaped, so brackets, ``$``, braces, quotes, ``;`` and spaces are never
    substituted or split (``x[exec touch F]`` -> ``x\\[exec\\ touch\\ F\\]``).

    Raises:
        ValueError: empty, a control character, or a leading ``-`` (option injection).
    """
    text = _check_text(value, "Tcl script")
    return "".join(ch if ch in _TCL_PLAIN else "\\" + ch for ch in text)


def make_word(value) -> str:
    """``value`` as one literal shell word inside a Makefile: shell-quoted, then ``$`` doubled
    and ``#`` escaped for make.

    Raises:
        ValueError: empty, a control character, or a leading ``-``.
    """
    text = _check_text(value, "Makefile")
    return shlex.quote(text).replace("$", "$$").replace("#", "\\#")


@dataclass
class Project:
    """A written HLS project (paths) and its accelerator port description."""

    root: Path
    name: str
    board: str
    part: str
    clock_mhz: float
    axi_width: int
    input: StreamIO
    output: StreamIO

    @property
    def hls_dir(self) -> Path:
        return self.root / "hls"

    @property
    def vivado_dir(self) -> Path:
        return self.root / "vivado"

    def to_dict(self) -> dict:
        return {"name": self.name, "board": self.board, "part": self.part,
                "clock_mhz": self.clock_mhz, "axi_width": self.axi_width,
                "input": asdict(self.input), "output": asdict(self.output),
                "top": "bnn_top", "dma_name": DMA_NAME, "accel_name": ACCEL_NAME,
                "control_registers": CONTROL_REGISTERS}


def _jinja(text: str, escape, **values) -> str:
    """Render a template; ``escape`` (:func:`tcl_word` / :func:`make_word`) is applied to every
    ``{{ value }}`` by the engine (``finalize``)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False, finalize=escape)
    return env.from_string(text).render(**values)


def render_project(graph, board="pynq-z2", clock_mhz=None, name: str = "bnn",
                   jobs: int = 4) -> tuple:
    """Render every file of the project (pure: no file is written).

    Args:
        graph: a folded :class:`~pynq_bnn.compiler.graph.DataflowGraph`.
        board: board name or :class:`~pynq_bnn.compiler.boards.Board` (part, AXI width, family).
        clock_mhz: fabric clock; default the board's.
        name: overlay name (``<name>.bit`` / ``.hwh``).
        jobs: parallel Vivado implementation jobs written into the TCL.

    Returns:
        ``(files, info)``: relative path -> text, and the ``project.json`` dictionary.
    """
    board = get_board(board)
    clock = float(clock_mhz or board.clock_mhz)
    if clock <= 0:
        raise ValueError(f"clock_mhz must be positive, got {clock}")
    top = render_top(graph, board.axi_width)
    tdir = templates_dir()
    files = dict(top.files)
    for header in sorted((tdir / "bnn").glob("*.hpp")):
        files[f"hls/src/bnn/{header.name}"] = header.read_text()
    files = {(k if k.startswith("hls/") else "hls/" + k): v for k, v in files.items()}
    files["hls/tb/tb.cpp"] = (tdir / "project" / "tb.cpp").read_text()
    files["hls/tb/tb_io.hpp"] = (tdir / "csim" / "tb_io.hpp").read_text()
    for header in ("hls_stream.h", "ap_axi_sdata.h", "ap_int.h"):
        files[f"hls/csim/{header}"] = (tdir / "csim" / header).read_text()
    files["hls/Makefile"] = _jinja((tdir / "project" / "Makefile.tpl").read_text(), make_word)
    files["hls/hls.tcl"] = _jinja((tdir / "project" / "hls.tcl.tpl").read_text(), tcl_word,
                                  project="bnn_hls", part=board.part,
                                  period_ns=f"{1000.0 / clock:.3f}")
    files["vivado/vivado.tcl"] = _jinja(
        (tdir / "project" / "vivado.tcl.tpl").read_text(), tcl_word, name=name, part=board.part,
        board_part=BOARD_PARTS.get(board.name, f"*:{board.name.lower()}:part0:*"),
        family=board.family, axi_width=int(board.axi_width), clock_mhz=f"{clock:g}",
        ip_repo="../hls/bnn_hls/sol1/impl/ip", dma_name=DMA_NAME, accel_name=ACCEL_NAME,
        jobs=int(jobs))
    project = Project(Path("."), name, board.name, board.part, clock, board.axi_width,
                      top.input, top.output)
    info = project.to_dict()
    info["layers"] = top.layer_order
    files["project.json"] = json.dumps(info, indent=2) + "\n"
    return files, info


def write_project(graph, out_dir, board="pynq-z2", clock_mhz=None, name: str = "bnn",
                  jobs: int = 4) -> Project:
    """Render and write the project to ``out_dir`` atomically (replacing an old one).

    Returns:
        the :class:`Project` (paths + ports).
    """
    files, _ = render_project(graph, board, clock_mhz, name, jobs)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("HLS project written to %s (%d files)", out_dir, len(files))
    return load_project(out_dir)


def load_project(root) -> Project:
    """The :class:`Project` of a folder written by :func:`write_project`."""
    root = Path(root)
    meta_path = root / "project.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} not found: not an HLS project folder "
                                "(create one with write_project)")
    info = json.loads(meta_path.read_text())

    def port(d):
        return StreamIO(d["count"], d["elem_bits"], d["signed"], d["words"], tuple(d["shape"]))

    return Project(root, info["name"], info["board"], info["part"], info["clock_mhz"],
                   info["axi_width"], port(info["input"]), port(info["output"]))
