# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The only place that runs Xilinx tools (Vitis HLS, Vivado): detection, timeouts, logs.

Detection order for each tool: ``$XILINX_HLS/bin/vitis_hls``, ``$XILINX_VITIS/bin/vitis_hls``
(Vitis HLS), ``$XILINX_VIVADO/bin/vivado`` (Vivado), then ``PATH``. Nothing is detected or run at
import. Every run takes an argument list (no shell), a timeout, and writes the tool's combined
stdout/stderr to a log file; a failure raises :class:`ToolError` naming that log.

Without the tools a build stops after C simulation with :func:`missing_tools_message`.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Toolchain", "ToolError", "detect", "run_tool", "missing_tools_message"]

log = logging.getLogger(__name__)

_ENV_DIRS = {"vitis_hls": ("XILINX_HLS", "XILINX_VITIS"), "vivado": ("XILINX_VIVADO",)}


class ToolError(RuntimeError):
    """A Xilinx tool is missing, failed, or ran out of time (the message names the log file)."""


@dataclass(frozen=True)
class Toolchain:
    """Paths of the detected tools (None when absent) and their version lines."""

    vitis_hls: str | None = None
    vivado: str | None = None
    versions: dict = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when both Vitis HLS and Vivado are available (a bitstream can be built)."""
        return bool(self.vitis_hls and self.vivado)


def _find(tool: str, env) -> str | None:
    for var in _ENV_DIRS[tool]:
        root = env.get(var)
        if root:
            cand = Path(root) / "bin" / tool
            if cand.is_file() and os.access(cand, os.X_OK):
                return str(cand)
    return shutil.which(tool, path=env.get("PATH"))


def _version(path: str, timeout: float) -> str:
    try:
        proc = subprocess.run([path, "-version"], capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc.__class__.__name__})"
    lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    return lines[0] if lines else "unknown"


def detect(env=None, query_versions: bool = True, timeout: float = 60.0) -> Toolchain:
    """Find ``vitis_hls`` and ``vivado``.

    Args:
        env: environment mapping to search (default ``os.environ``).
        query_versions: also run ``<tool> -version`` (slow for Vivado; off in tests).
        timeout: seconds allowed for each version query.
    """
    env = dict(os.environ if env is None else env)
    found = {tool: _find(tool, env) for tool in _ENV_DIRS}
    versions = {}
    if query_versions:
        versions = {tool: _version(path, timeout) for tool, path in found.items() if path}
    return Toolchain(vitis_hls=found["vitis_hls"], vivado=found["vivado"], versions=versions)


def missing_tools_message(toolchain: Toolchain, project_dir) -> str:
    """The message a build prints when it stops after csim for lack of tools."""
    missing = [name for name, path in (("Vitis HLS", toolchain.vitis_hls),
                                       ("Vivado", toolchain.vivado)) if not path]
    return (f"{'/'.join(missing)} not found: set XILINX_VITIS (or XILINX_HLS) and XILINX_VIVADO, "
            f"or put vitis_hls and vivado on PATH; the csim-verified project is in {project_dir}")


def run_tool(args, cwd, timeout: float, log_path, env=None) -> float:
    """Run a tool with an argument list; its output goes to ``log_path``.

    Args:
        args: the command as a list (``[toolchain.vitis_hls, "-f", "hls.tcl"]``).
        cwd: working directory.
        timeout: seconds before the process is killed.
        log_path: file receiving stdout and stderr.

    Returns:
        the run time in seconds.

    Raises:
        ToolError: missing executable, non-zero exit, or timeout (message names the log).
    """
    args = [str(a) for a in args]
    if not args or not args[0]:
        raise ToolError("run_tool: empty command (tool not detected?)")
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    log.info("running %s (timeout %d s, log %s)", " ".join(args), timeout, log_path)
    with open(log_path, "w") as log_file:
        try:
            proc = subprocess.Popen(args, cwd=str(cwd), stdout=log_file,
                                    stderr=subprocess.STDOUT, env=env)
        except OSError as exc:
            raise ToolError(f"cannot start {args[0]}: {exc}") from exc
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise ToolError(f"{Path(args[0]).name} exceeded {timeout} s and was stopped; "
                            f"see {log_path}") from None
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise
    if code != 0:
        raise ToolError(f"{Path(args[0]).name} failed with exit code {code}; see {log_path}")
    return time.monotonic() - t0
