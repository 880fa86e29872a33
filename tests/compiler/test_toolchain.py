# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Tool detection and the tool runner, with fake tools (no Xilinx installation needed)."""
import stat

import pytest

from pynq_bnn.compiler.toolchain import ToolError, detect, missing_tools_message, run_tool


def _fake_tool(folder, name, body="echo fake-tool v1"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_detect_none_then_env_vars_then_path(tmp_path):
    empty = detect(env={"PATH": str(tmp_path / "nothing")}, query_versions=False)
    assert empty.vitis_hls is None and empty.vivado is None and not empty.complete
    msg = missing_tools_message(empty, "/x/hls")
    assert "Vitis HLS/Vivado not found" in msg and "XILINX_VITIS" in msg and "/x/hls" in msg

    hls = _fake_tool(tmp_path / "vitis" / "bin", "vitis_hls")
    viv = _fake_tool(tmp_path / "onpath", "vivado")
    env = {"XILINX_VITIS": str(tmp_path / "vitis"), "PATH": str(tmp_path / "onpath")}
    found = detect(env=env)
    assert found.vitis_hls == str(hls) and found.vivado == str(viv) and found.complete
    assert found.versions["vivado"] == "fake-tool v1"


def test_run_tool_logs_failures_and_timeouts(tmp_path):
    ok = _fake_tool(tmp_path, "ok", "echo hello; echo err >&2")
    run_tool([ok], cwd=tmp_path, timeout=10, log_path=tmp_path / "ok.log")
    assert "hello" in (tmp_path / "ok.log").read_text()
    assert "err" in (tmp_path / "ok.log").read_text()

    bad = _fake_tool(tmp_path, "bad", "echo broken; exit 3")
    with pytest.raises(ToolError, match="exit code 3.*bad.log"):
        run_tool([bad], cwd=tmp_path, timeout=10, log_path=tmp_path / "bad.log")

    slow = _fake_tool(tmp_path, "slow", "sleep 5")
    with pytest.raises(ToolError, match="exceeded"):
        run_tool([slow], cwd=tmp_path, timeout=0.3, log_path=tmp_path / "slow.log")

    with pytest.raises(ToolError, match="cannot start"):
        run_tool([tmp_path / "missing"], cwd=tmp_path, timeout=5, log_path=tmp_path / "m.log")
