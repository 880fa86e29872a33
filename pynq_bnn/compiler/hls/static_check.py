# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Static checks of a generated HLS project: the rules Vitis HLS enforces (or silently degrades
on) in a DATAFLOW design, checked on the source text without the tool.

Rules (each finding names the file and the stream/array/function):

* **one producer, one consumer** per ``hls::stream`` of ``bnn_top`` (Vitis: "multiple
  readers/writers" violation of the canonical dataflow form); the direction of each stream
  argument comes from the library function's body (``.read``/``.write`` on that parameter);
* **exactly one** ``STREAM depth`` pragma per stream (two conflicting depths: HLS 214-160; none:
  the default 2, which a shortcut FIFO cannot live with);
* **partition pragmas where the array is defined**: no ``ARRAY_PARTITION`` on a function
  argument in the library, every one in a params header names an array defined above it in that
  header, params headers are included inside ``bnn_top``; PE-banked parameter objects
  (``PackedWeights``, ``Thresholds``, ``ThresholdSearch``) are partitioned on their PE dimension
  (and on chunks / threshold index when those are read together), as II = 1 needs;
* **widths** of every ``ap_[u]int`` in the top, params and the ``AP_INT_MAX_W`` limit of
  ``bnn_top.hpp`` at most 4,096 bits (:data:`MAX_WIDTH`);
* **DATAFLOW region**: ``bnn_top``'s body holds only declarations, pragmas, process calls and
  constant assignments to scalar ports (e.g. a read-only identity register) — no loop, branch or
  other statement — and every loop of a library process is bounded by template constants,
  optionally times the runtime image count ``reps``.

:func:`check_project` returns the findings; :func:`assert_project_clean` raises
:class:`StaticCheckError` listing them (used by the build's ``hls`` step).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finding", "StaticCheckError", "MAX_WIDTH", "check_project", "check_sources",
           "assert_project_clean"]

MAX_WIDTH = 4096
TOP = "bnn_top"
PORTS = {"in_stream": "consumer", "out_stream": "producer"}  # the other side is the DMA

_WORD = re.compile(r"[A-Za-z_]\w*")
_FUNC = re.compile(r"template\s*<(?P<tparams>[^{;]*?)>\s*(?:inline\s+)?void\s+(?P<name>\w+)\s*"
                   r"\((?P<params>[^{;]*?)\)\s*\{", re.S)
_STREAM_DECL = re.compile(r"hls::stream<\s*(?P<type>[^;()]*?)\s*>\s*(?P<var>\w+)\s*"
                          r"(?:\(\s*\"[^\"]*\"\s*\))?\s*;")
_DEPTH = re.compile(r"#pragma\s+HLS\s+STREAM\s+variable\s*=\s*(\w+)\s+depth\s*=\s*(\d+)")
_PARTITION = re.compile(r"#pragma\s+HLS\s+ARRAY_PARTITION\s+variable\s*=\s*([\w.]+)([^\n]*)")
_AP_WIDTH = re.compile(r"\bap_u?int<\s*(\d+)\s*>")
_CALL = re.compile(r"\bbnn::(\w+)\s*<")
_DEFINE = re.compile(r"static\s+const\s+(?P<type>[\w:]+(?:<[^;{]*?>)?)\s+(?P<var>\w+)\s*(?:\[|=)")
_CONST_ASSIGN = re.compile(r"\*?\s*\w+\s*=\s*[\w\s|&+\-<>~]+")  # `*port = CONSTANT`
_BANKED = {"PackedWeights": "words", "Thresholds": "thr", "ThresholdSearch": "thr"}


@dataclass(frozen=True)
class Finding:
    """One rule violation: ``rule`` (short id), ``where`` (file / object), ``message``."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


class StaticCheckError(RuntimeError):
    """The generated project breaks a rule Vitis HLS enforces (message lists every finding)."""


def _match_brace(text: str, open_index: int, open_ch: str = "{", close_ch: str = "}") -> int:
    """Index just after the bracket closing the one at ``open_index``."""
    depth = 0
    for i in range(open_index, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError(f"unbalanced {open_ch}{close_ch}")


def _split_outside(text: str, sep: str, opens: str, closes: str) -> list:
    """Stripped pieces of ``text`` split on ``sep`` where no bracket of ``opens`` is open."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in opens:
            depth += 1
        elif ch in closes:
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def _split_top_level(text: str) -> list:
    """Split on commas outside (), <>, {} and []."""
    return _split_outside(text, ",", "(<{[", ")>}]")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


@dataclass
class _Function:
    name: str
    file: str
    tparams: set
    params: list  # (name, is_stream)
    body: str


def _library_functions(headers: dict) -> dict:
    """Template functions of the library: name -> _Function (first definition wins)."""
    funcs = {}
    for fname, raw in headers.items():
        text = _strip_comments(raw)
        for m in _FUNC.finditer(text):
            end = _match_brace(text, m.end() - 1)
            tparams = {p.split()[-1] for p in _split_top_level(m.group("tparams")) if p.split()}
            params = []
            for p in _split_top_level(m.group("params")):
                base = p.split("[")[0].strip()
                words = _WORD.findall(base)
                if words:
                    params.append((words[-1], "hls::stream" in p))
            funcs.setdefault(m.group("name"), _Function(m.group("name"), fname, tparams, params,
                                                         text[m.end():end - 1]))
    return funcs


def _direction(func: _Function, param: str, funcs: dict, seen=()) -> str:
    """'read', 'write' or '' for a stream parameter, from the body (following nested calls)."""
    body = func.body
    if re.search(rf"\b{param}\s*\.\s*(read|read_nb)\s*\(|\b{param}\s*>>", body):
        return "read"
    if re.search(rf"\b{param}\s*\.\s*(write|write_nb)\s*\(|\b{param}\s*<<", body):
        return "write"
    for call in _CALL.finditer(body):  # passed on to another library process
        callee = funcs.get(call.group(1))
        if callee is None or callee.name in seen:
            continue
        try:
            lt = _match_brace(body, call.end() - 1, "<", ">")
        except ValueError:
            continue
        if lt >= len(body) or body[lt] != "(":
            continue
        args = _split_top_level(body[lt + 1:_match_brace(body, lt, "(", ")") - 1])
        for (name, _), arg in zip(callee.params, args):
            if arg == param:
                return _direction(callee, name, funcs, seen + (func.name,))
    return ""


def _top_body(top: str) -> tuple:
    """(text before bnn_top, body of bnn_top) of bnn_top.cpp."""
    m = re.search(rf"\bvoid\s+{TOP}\s*\(", top)
    if m is None:
        raise StaticCheckError(f"{TOP} not found in bnn_top.cpp")
    brace = top.index("{", _match_brace(top, top.index("(", m.start()), "(", ")"))
    return top[:m.start()], top[brace + 1:_match_brace(top, brace) - 1]


def _statements(body: str) -> list:
    """Statements of the top body (';'-terminated, outside braces), preprocessor lines apart."""
    code = "\n".join(line for line in body.splitlines() if not line.strip().startswith("#"))
    return [s for s in _split_outside(code, ";", "({", ")}") if s]


def _check_top(top: str, funcs: dict, findings: list) -> None:
    where = "src/bnn_top.cpp"
    before, body_raw = _top_body(_strip_comments(top))
    body = body_raw
    if re.search(r'#include\s+"params/', before):
        findings.append(Finding("partition-placement", where, "params headers are included "
                                "outside bnn_top: include them inside it so their arrays (and "
                                "their ARRAY_PARTITION pragmas) are defined there"))
    if "#pragma HLS DATAFLOW" not in body:
        findings.append(Finding("dataflow", where, "bnn_top has no DATAFLOW pragma"))
    streams = {m.group("var"): m.group("type") for m in _STREAM_DECL.finditer(body)}
    depths: dict = {}
    for var, depth in _DEPTH.findall(body):
        depths.setdefault(var, []).append(int(depth))
    for var in streams:
        count = len(depths.get(var, []))
        if count != 1:
            findings.append(Finding("one-depth", f"{where}: {var}", f"{count} STREAM depth "
                                    f"pragmas {depths.get(var, [])}, need exactly one"))
    for var in depths:
        if var not in streams:
            findings.append(Finding("one-depth", f"{where}: {var}", "STREAM pragma on a "
                                    "variable that is not a stream declared in bnn_top"))
    producers = {v: [] for v in streams}
    consumers = {v: [] for v in streams}
    for port, side in PORTS.items():
        (producers if side == "consumer" else consumers)[port] = ["<dma>"]
        (consumers if side == "consumer" else producers)[port] = []
    for stmt in _statements(body):
        if _STREAM_DECL.fullmatch(stmt + ";") or stmt.startswith("static const"):
            continue
        if _CONST_ASSIGN.fullmatch(stmt):
            continue
        m = re.match(r"bnn::(\w+)\s*<", stmt)
        if m is None or not stmt.endswith(")"):
            findings.append(Finding("dataflow", f"{where}: `{stmt[:60]}`", "only declarations "
                                    "and process calls may appear in the DATAFLOW region"))
            continue
        if re.match(r"(for|while|if|do|switch)\b", stmt):
            findings.append(Finding("dataflow", where, f"control flow in bnn_top: {stmt[:60]}"))
            continue
        func = funcs.get(m.group(1))
        lt = _match_brace(stmt, m.end() - 1, "<", ">")
        args = _split_top_level(stmt[lt + 1:-1])
        if func is None:
            findings.append(Finding("dataflow", f"{where}: bnn::{m.group(1)}",
                                    "not a function of the bnn library"))
            continue
        for (pname, is_stream), arg in zip(func.params, args):
            if arg not in producers:
                if is_stream:
                    findings.append(Finding("one-producer", f"{where}: bnn::{func.name}",
                                            f"stream argument {arg!r} is not declared"))
                continue
            direction = _direction(func, pname, funcs)
            if direction == "read":
                consumers[arg].append(func.name)
            elif direction == "write":
                producers[arg].append(func.name)
            else:
                findings.append(Finding("one-producer", f"{func.file}: bnn::{func.name}",
                                        f"cannot tell whether {pname!r} is read or written"))
    for var in producers:
        if len(producers[var]) != 1 or len(consumers[var]) != 1:
            findings.append(Finding("one-producer", f"{where}: {var}",
                                    f"{len(producers[var])} producers {producers[var]}, "
                                    f"{len(consumers[var])} consumers {consumers[var]}; a "
                                    "DATAFLOW stream needs exactly one of each"))
    for var, typ in streams.items():
        for width in _AP_WIDTH.findall(typ):
            if int(width) > MAX_WIDTH:
                findings.append(Finding("width", f"{where}: {var}", f"{width}-bit words "
                                        f"exceed {MAX_WIDTH}"))


def _check_library(headers: dict, funcs: dict, findings: list) -> None:
    for func in funcs.values():
        where = f"{func.file}: bnn::{func.name}"
        names = {name for name, _ in func.params}
        for var, _ in _PARTITION.findall(func.body):
            if var.split(".")[0] in names:
                findings.append(Finding("partition-placement", where, f"ARRAY_PARTITION on the "
                                        f"argument {var!r}: Vitis needs it where the array is "
                                        "defined (the params header inside bnn_top)"))
        consts = set(re.findall(r"constexpr\s+[\w:<>]+\s+(\w+)", func.body))
        allowed = func.tparams | consts | {"reps"}
        for m in re.finditer(r"\bfor\s*\(", func.body):
            header = func.body[m.end():_match_brace(func.body, m.end() - 1, "(", ")") - 1]
            parts = header.split(";")
            if len(parts) != 3:
                continue
            loop_var = re.findall(r"(\w+)\s*=(?!=)", parts[0])
            names_in = {w.group(0) for w in _WORD.finditer(parts[1])
                        if not parts[1][w.end():].lstrip().startswith(("<", "::"))
                        and not parts[1][:w.start()].rstrip().endswith("::")}
            bad = names_in - allowed - set(loop_var) - {"int", "unsigned", "long"}
            if bad:
                findings.append(Finding("loop-bound", where, f"loop `for ({header.strip()})` is "
                                        f"bounded by {sorted(bad)}: not a template constant or "
                                        "the image count"))


def _check_params(params: dict, findings: list) -> None:
    for fname, raw in params.items():
        text = _strip_comments(raw)
        defined = {}
        for m in _DEFINE.finditer(text):
            defined[m.group("var")] = (m.start(), m.group("type"))
        pragmas = {}
        for m in _PARTITION.finditer(text):
            root = m.group(1).split(".")[0]
            dim = re.search(r"dim\s*=\s*(\d+)", m.group(2))
            pragmas.setdefault(m.group(1), set()).add(int(dim.group(1)) if dim else 0)
            if root not in defined or defined[root][0] > m.start():
                findings.append(Finding("partition-placement", f"{fname}: {m.group(1)}",
                                        "ARRAY_PARTITION names no array defined above it here"))
        for var, (_, typ) in defined.items():
            kind = typ.split("<")[0].split("::")[-1]
            member = _BANKED.get(kind)
            for width in _AP_WIDTH.findall(typ):
                if int(width) > MAX_WIDTH:
                    findings.append(Finding("width", f"{fname}: {var}", f"{width} bits"))
            if member is None:
                continue
            args = [a.strip() for a in _split_top_level(typ[typ.index("<") + 1:-1])]
            need = {1}
            if kind == "PackedWeights" and int(args[2]) > 64:
                need.add(3)  # all 64-bit chunks of a tile are read in the same cycle
            if kind == "Thresholds" and int(args[2]) > 1 or kind == "ThresholdSearch":
                need.add(3)  # every threshold of a lane is compared in the same cycle
            have = pragmas.get(f"{var}.{member}", set())
            if 0 not in have and not need <= have:
                findings.append(Finding("partition-ii", f"{fname}: {var}.{member}", f"partitioned "
                                        f"on dims {sorted(have)}, II=1 needs {sorted(need)}"))


def check_sources(files: dict) -> list:
    """Findings for a project given as ``{relative path: text}`` (paths under ``hls/``)."""
    files = {k[len("hls/"):] if k.startswith("hls/") else k: v for k, v in files.items()}
    headers = {k: v for k, v in files.items() if k.startswith("src/bnn/")}
    params = {k: v for k, v in files.items() if k.startswith("src/params/")}
    findings: list = []
    funcs = _library_functions(headers)
    _check_top(files["src/bnn_top.cpp"], funcs, findings)
    _check_library(headers, funcs, findings)
    _check_params(params, findings)
    limit = re.search(r"#define\s+AP_INT_MAX_W\s+(\d+)", files.get("src/bnn_top.hpp", ""))
    if limit is None or int(limit.group(1)) > MAX_WIDTH:
        findings.append(Finding("width", "src/bnn_top.hpp", "AP_INT_MAX_W must be defined there "
                                f"(before any include), at most {MAX_WIDTH}"))
    return findings


def check_project(hls_dir) -> list:
    """Findings for a written project's ``hls/`` folder (``Project.hls_dir``)."""
    hls_dir = Path(hls_dir)
    files = {str(p.relative_to(hls_dir)): p.read_text()
             for p in (hls_dir / "src").rglob("*") if p.is_file()}
    return check_sources(files)


def assert_project_clean(hls_dir) -> None:
    """Raise :class:`StaticCheckError` listing every finding of :func:`check_project`."""
    findings = check_project(hls_dir)
    if findings:
        raise StaticCheckError(f"{len(findings)} static check finding(s) in {hls_dir} (Vitis "
                               "HLS would reject or degrade this design):\n"
                               + "\n".join(f"  {f}" for f in findings))
