# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Package contents: portable paths, the machine-path guard, permissions, the sources hash, and
the build summary text."""
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pynq_bnn.compiler.package_contents import (MachinePathError, REPO_ROOT, check_portable,
                                                finalize_permissions, portable, sources_sha256)
from pynq_bnn.compiler.summary import next_commands, render_summary, step_status


def test_portable_rewrites_every_machine_root_longest_first(tmp_path):
    work = tmp_path / "w"
    value = {"a": f"{REPO_ROOT}/pynq_bnn/zoo/pretrained/lfc.pt",
             "b": [f"project in {work}/hls", "relative/path", 3],
             "c": f"{Path.home()}/data/mnist", "d": f"{REPO_ROOT}x/other"}
    out = portable(value, {"<work>": work})
    assert out["a"] == "<repo>/pynq_bnn/zoo/pretrained/lfc.pt"
    assert out["b"] == ["project in <work>/hls", "relative/path", 3]
    assert out["c"] == "~/data/mnist"
    assert out["d"].endswith("x/other") and "<repo>/" not in out["d"]  # a prefix is not a root


def test_check_portable_refuses_a_machine_path(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "report.json").write_text(json.dumps({"onnx": "<work>/export/model.onnx"}))
    check_portable(package)
    (package / "report.json").write_text(json.dumps({"onnx": f"{REPO_ROOT}/x.onnx"}))
    with pytest.raises(MachinePathError, match="report.json"):
        check_portable(package)
    (package / "report.json").write_text(json.dumps({"log": f"{tempfile.gettempdir()}/b/l"}))
    with pytest.raises(MachinePathError):
        check_portable(package)


def test_finalize_permissions_makes_a_mkdtemp_package_readable(tmp_path):
    package = Path(tempfile.mkdtemp(dir=tmp_path))
    assert package.stat().st_mode & 0o777 == 0o700
    (package / "sub").mkdir(mode=0o700)
    (package / "sub" / "f.json").write_text("{}")
    os.chmod(package / "sub" / "f.json", 0o600)
    finalize_permissions(package)
    assert package.stat().st_mode & 0o777 == 0o755
    assert (package / "sub").stat().st_mode & 0o777 == 0o755
    assert (package / "sub" / "f.json").stat().st_mode & 0o777 == 0o644


def test_sources_hash_follows_the_sources(tmp_path):
    root = tmp_path / "pynq_bnn"
    shutil.copytree(REPO_ROOT / "pynq_bnn" / "compiler" / "hw", root / "compiler" / "hw")
    first = sources_sha256(root)
    (root / "compiler" / "hw" / "__pycache__").mkdir(exist_ok=True)
    (root / "compiler" / "hw" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    assert sources_sha256(root) == first  # caches do not count
    path = root / "compiler" / "hw" / "pool.py"
    path.write_text(path.read_text() + "\n# changed\n")
    assert sources_sha256(root) != first


def _report(**steps):
    estimate = {"board": {"name": "Pynq-Z2", "part": "xc7z020clg400-1"}, "clock_mhz": 100.0,
                "layers": [{"name": "Conv_0", "kind": "MVAU"}],
                "total": {"lut": 26600, "ff": 1000, "bram18": 140, "dsp": 0},
                "capacity": {"lut": 53200, "ff": 106400, "bram18": 280, "dsp": 220},
                "fits": True, "pipeline": {"fps": 10960.1, "latency_us": 1143.9, "max_cycles": 9124,
                                           "bottleneck": "Conv_0", "latency_is": "upper bound"}}
    base = {"load": {}, "export": {}, "compile": {}, "fold": {}, "estimate": estimate,
            "verify": {"images": 1000, "mismatches": 0, "accuracy_dataflow": 0.559},
            "hls": {}, "csim": {"images": 1000, "mismatches": 0, "passed": True},
            "synth": {"skipped": "Vitis HLS not found"}, "bitstream": {"skipped": "Vivado not found"}}
    base.update(steps)
    return {"model": "cnv", "config": {"board": "pynq-z2"}, "steps": base,
            "step_seconds": {"verify": 3.86}, "cached_steps": ["load"], "package": "overlays/cnv"}


def test_summary_says_what_the_build_produced():
    text = render_summary(_report())
    assert "Brevitas = numpy dataflow: 1,000/1,000 images identical" in text
    assert "g++ HLS csim = numpy:      1,000/1,000 images identical" in text
    assert "10,960 FPS" in text and "estimated" in text and "bottleneck layer: Conv_0 (MVAU)" in text
    assert "LUT       26,600 /  53,200   50.0 %" in text
    assert "synth     skipped: no Vitis HLS" in text and "bitstream skipped: no Vivado" in text
    assert "verify    done (3.9 s)" in text and "load      cached" in text
    assert "python build/build_overlay.py --model cnv --start synth" in text
    assert "BNNOverlay('overlays/cnv', device='sim')" in text


def test_summary_of_a_stopped_or_failed_build():
    report = _report(csim={"images": 1000, "mismatches": 3})
    assert "997/1,000 images identical - FAILED" in render_summary(report)
    del report["steps"]["csim"], report["steps"]["synth"], report["steps"]["bitstream"]
    report["package"] = None
    assert step_status(report, "synth") == "not run" and step_status(report, "package") == "not run"
    commands = next_commands(report)
    assert not any("--start synth" in c for c in commands)
    assert any(c.startswith("python build/build_overlay.py --model cnv ") for c in commands)


def test_saved_graph_files_are_readable_by_every_user(tmp_path):
    from pynq_bnn.compiler import load_graph, save_graph

    save_graph(load_graph(REPO_ROOT / "overlays" / "lfc"), tmp_path)
    for name in ("graph.json", "params.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
