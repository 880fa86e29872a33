# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""C simulation with g++: compile generated HLS C++ against the ap_types headers and run it.

No Xilinx tools are needed: ``ap_int.h`` comes from the hls4ml wheel (Apache-2.0,
``hls4ml/templates/vivado/ap_types``), ``hls_stream.h`` / ``ap_axi_sdata.h`` from this project's
own csim headers (``compiler/templates/csim``). Command:
``g++ -std=c++14 -O2 -isystem <ap_types> -I <templates>/csim -I <templates> -Wno-unknown-pragmas``.
``synthesis=True`` adds ``-D__SYNTHESIS__``: the templates then compile their synthesizable
branch (the code Vitis synthesizes, e.g. unrolled popcount and part selects instead of the csim
fast paths), while the ap_types headers keep their C++ branch (``csim/ap_int.h``).

:func:`csim_layer` runs one layer template on packed input words (the per-template unit tests);
the whole-accelerator csim lives in :mod:`pynq_bnn.compiler.hls.verify`.
"""
from __future__ import annotations

import importlib.util
import logging
import shutil
import string
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pynq_bnn.compiler.hls.packing import bytes_per_word, pack_words, unpack_words

__all__ = ["CsimError", "StreamSpec", "ap_types_dir", "templates_dir", "compile_command",
           "compile_cpp", "csim_layer", "csim_layers", "LayerCase", "run_executable"]

log = logging.getLogger(__name__)
COMPILE_TIMEOUT_S = 900


class CsimError(RuntimeError):
    """g++ compilation or the simulated design failed (message carries the tool output)."""


@dataclass(frozen=True)
class StreamSpec:
    """One stream of a harness: word width, element width and kind, elements per image."""

    word_bits: int
    elem_bits: int
    count: int
    signed: bool = False

    @property
    def words(self) -> int:
        return -(-self.count * self.elem_bits // self.word_bits)


def templates_dir() -> Path:
    """Folder of the C++ template library (``bnn/``, ``csim/``, ``project/``)."""
    return Path(__file__).resolve().parent.parent / "templates"


def ap_types_dir() -> Path:
    """The ``ap_types`` headers inside the installed hls4ml wheel (hls4ml is not imported)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise CsimError("csim needs the ap_types headers of the hls4ml wheel: pip install hls4ml")
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_int.h").is_file():
        raise CsimError(f"ap_int.h not found in {path}; reinstall hls4ml")
    return path


def compile_command(sources, exe, extra_includes=(), opt: str = "-O2",
                    include_dirs=None, synthesis: bool = False, extra_flags=()) -> list:
    """The g++ argument list compiling ``sources`` into ``exe`` for csim.

    ``include_dirs`` defaults to the library's own ``csim/`` and template folders; a written
    project passes its copies instead. ``synthesis`` compiles the templates' synthesizable
    branch (``-D__SYNTHESIS__``); ``extra_flags`` are added as given (e.g. the dataflow csim's
    ``-DPYNQ_BNN_BOUNDED_FIFOS -pthread``).
    """
    if shutil.which("g++") is None:
        raise CsimError("g++ not found: install a C++14 compiler (apt-get install g++) for csim")
    tdir = templates_dir()
    if include_dirs is None:
        include_dirs = (tdir / "csim", tdir)
    args = ["g++", "-std=c++14", opt, "-isystem", str(ap_types_dir()), "-Wno-unknown-pragmas"]
    if synthesis:
        args.append("-D__SYNTHESIS__")
    args += [str(flag) for flag in extra_flags]
    for inc in list(include_dirs) + list(extra_includes):
        args += ["-I", str(inc)]
    return args + ["-o", str(exe)] + [str(s) for s in sources]


def compile_cpp(sources, exe, extra_includes=(), timeout: float = COMPILE_TIMEOUT_S,
                opt: str = "-O2", include_dirs=None, synthesis: bool = False,
                extra_flags=()) -> Path:
    """Compile with :func:`compile_command`; raise :class:`CsimError` with g++'s messages."""
    cmd = compile_command(sources, exe, extra_includes, opt, include_dirs, synthesis,
                          extra_flags)
    log.info("csim compile: %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise CsimError(f"g++ did not finish within {timeout} s") from exc
    if proc.returncode != 0:
        raise CsimError(f"g++ failed ({proc.returncode}):\n{proc.stderr[-8000:]}")
    return Path(exe)


def run_executable(args, timeout: float, cwd=None) -> None:
    """Run a compiled testbench; raise :class:`CsimError` with its stderr when it fails."""
    try:
        proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise CsimError(f"csim run did not finish within {timeout} s") from exc
    if proc.returncode != 0:
        raise CsimError(f"csim run failed ({proc.returncode}):\n{proc.stderr[-8000:]}")


def _harness_case(index: int, case) -> str:
    lines, names = [f"static void case_{index}(char** argv, unsigned reps) {{"], {}
    for i, spec in enumerate(case.in_specs):
        names[f"in{i}"] = f"in{i}"
        lines.append(f'  hls::stream<ap_uint<{spec.word_bits}> > in{i}("in{i}");')
        lines.append(f"  bnn_tb::load_stream<{spec.word_bits}>(argv[{i}], in{i}, "
                     f"(unsigned long)reps * {spec.words});")
    lines.append(f'  hls::stream<ap_uint<{case.out_spec.word_bits}> > out("out");')
    names.update(out="out", reps="reps")
    lines.append("  " + string.Template(case.call).substitute(names))
    lines.append(f"  bnn_tb::store_stream<{case.out_spec.word_bits}>(argv[{len(case.in_specs)}], "
                 f"out, (unsigned long)reps * {case.out_spec.words});")
    return "\n".join(lines + ["}"])


@dataclass
class LayerCase:
    """One template call to simulate: what :func:`csim_layers` needs per case.

    Attributes:
        includes: headers (``"bnn/mvau.hpp"``).
        params_header: C++ constant arrays the call refers to (identifiers unique per case).
        call: C++ statement with ``${in0}``.., ``${out}``, ``${reps}`` placeholders.
        in_specs / out_spec: :class:`StreamSpec` of the input streams and the output stream.
        inputs: one integer array ``(N, count)`` per input stream (raw lane codes).
    """

    includes: list
    params_header: str
    call: str
    in_specs: list
    out_spec: StreamSpec
    inputs: list


def csim_layers(cases, timeout: float = 120.0, work_dir=None) -> list:
    """Compile all ``cases`` into ONE g++ harness (one compile) and run each; return outputs.

    Returns:
        per case a ``(N, out_spec.count)`` int64 array of output lane codes.
    """
    includes = []
    for case in cases:
        includes.extend(h for h in case.includes if h not in includes)
    funcs = "\n\n".join(_harness_case(i, c) for i, c in enumerate(cases))
    dispatch = "\n".join(f"    case {i}: case_{i}(argv + 3, reps); break;"
                         for i in range(len(cases)))
    source = "\n".join(
        ['#include <cstdlib>', '#include "tb_io.hpp"']
        + [f'#include "{h}"' for h in includes]
        + [c.params_header for c in cases] + [funcs]
        + ["int main(int argc, char** argv) {",
           "  if (argc < 4) return 1;",
           "  const unsigned reps = (unsigned)std::atoi(argv[2]);",
           "  switch (std::atoi(argv[1])) {", dispatch, "    default: return 1;", "  }",
           "  return 0;", "}"])
    tmp = Path(tempfile.mkdtemp(prefix="pynq_bnn_csim_", dir=work_dir))
    try:
        (tmp / "layer_tb.cpp").write_text(source)
        exe = compile_cpp([tmp / "layer_tb.cpp"], tmp / "layer_tb", opt="-O0")
        results = []
        for index, case in enumerate(cases):
            inputs = [np.asarray(x) for x in case.inputs]
            reps = int(inputs[0].shape[0])
            in_paths = []
            for i, (spec, values) in enumerate(zip(case.in_specs, inputs)):
                path = tmp / f"c{index}_in{i}.bin"
                pack_words(values.reshape(reps, spec.count), spec.elem_bits,
                           spec.word_bits).tofile(path)
                in_paths.append(path)
            out_path = tmp / f"c{index}_out.bin"
            run_executable([exe, index, reps, *in_paths, out_path], timeout)
            spec = case.out_spec
            raw = np.fromfile(out_path, dtype=np.uint8)
            raw = raw.reshape(reps, spec.words, bytes_per_word(spec.word_bits))
            results.append(unpack_words(raw, spec.elem_bits, spec.word_bits, spec.count,
                                        spec.signed))
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def csim_layer(includes, params_header: str, call: str, in_specs, out_spec: StreamSpec,
               inputs, timeout: float = 120.0, work_dir=None) -> np.ndarray:
    """Compile and run one layer template (see :class:`LayerCase`); return its outputs."""
    case = LayerCase(list(includes), params_header, call, list(in_specs), out_spec, list(inputs))
    return csim_layers([case], timeout, work_dir)[0]
