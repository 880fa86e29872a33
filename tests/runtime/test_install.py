# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``pip install pynq_bnn`` is the runtime only: numpy (< 2) and an unpinned pynq, nothing of the
training / build stack; the extras bring the rest. The slow test installs the project into a
fresh plain venv (no system site-packages) and runs every shipped overlay on the simulated device
there."""
import os
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import setuptools

REPO = Path(__file__).resolve().parents[2]
TRAINING_STACK = {"torch", "brevitas", "onnx", "onnxruntime", "onnxscript", "onnxoptimizer",
                  "qonnx", "hls4ml", "opencv-python-headless", "matplotlib"}


def setup_kwargs(monkeypatch) -> dict:
    captured = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    monkeypatch.chdir(REPO)
    runpy.run_path(str(REPO / "setup.py"), run_name="__main__")
    return captured


def names(requirements) -> set:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_runtime_requirements_are_what_a_board_needs(monkeypatch):
    kwargs = setup_kwargs(monkeypatch)
    runtime = kwargs["install_requires"]
    assert names(runtime) == {"numpy", "pynq"}
    assert "numpy>=1.26,<2" in runtime
    pynq = next(r for r in runtime if r.startswith("pynq"))
    assert "==" not in pynq and "<" not in pynq, "never re-pin pynq over the board image's"
    extras = kwargs["extras_require"]
    assert {"torch", "brevitas"} <= names(extras["train"])
    assert {"torch", "onnx", "qonnx", "hls4ml"} <= names(extras["build"])
    assert names(extras["build"]) | names(extras["camera"]) | {"pytest"} <= names(extras["dev"])
    assert "torch==2.13.0" in extras["train"]


def test_readme_and_ci_install_what_they_run():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^(pip install .*)$", readme, flags=re.M)
    build_cmd = next(c for c in commands if "build_overlay.py" in c)
    test_cmd = next(c for c in commands if "pytest" in c)
    assert '".[build]"' in build_cmd or '".[dev]"' in build_cmd
    assert '".[dev]"' in test_cmd
    ci = (REPO / ".ci" / "run").read_text()
    assert test_cmd in ci, "README command 2 and .ci/run must stay identical"


VENV_SCRIPT = textwrap.dedent('''
    import importlib.util, sys
    from pathlib import Path
    import numpy as np
    for name in ("torch", "brevitas", "onnx", "qonnx", "hls4ml", "onnxruntime"):
        assert importlib.util.find_spec(name) is None, name + " is installed in the runtime venv"
    import pynq_bnn
    assert "site-packages" in pynq_bnn.__file__, pynq_bnn.__file__
    from pynq_bnn.compiler import execute, load_graph
    from pynq_bnn.driver import BNNOverlay
    for package in sorted(Path(sys.argv[1]).glob("*/accelerator.json")):
        with BNNOverlay(package.parent, device="sim") as overlay:
            images = np.zeros((2, *overlay.spec.input.shape), np.uint8)
            top = overlay.predict(images)
            expect = np.asarray(execute(load_graph(package.parent), images))[:, :top.shape[1]]
            np.testing.assert_array_equal(top, expect)
        print("ok", package.parent.name)
    from pynq_bnn.data import load_dataset
    test = load_dataset("cifar10", "test")  # no data folder: the subset shipped in the wheel
    assert len(test) == 1000 and "shipped subset" in test.name, test.name
''')


@pytest.mark.slow
def test_runtime_installs_alone_into_a_fresh_venv(tmp_path):
    """Plain ``python -m venv`` (no system site-packages), then ``pip install <checkout>`` with
    its dependencies resolved by pip (needs the package index: numpy and pynq's wheels)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    source = tmp_path / "src"  # a copy: pip's in-tree build would write build/lib/ here
    for part in ("pynq_bnn", "notebooks"):
        shutil.copytree(REPO / part, source / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for part in ("setup.py", "README.md"):
        shutil.copy(REPO / part, source / part)
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(source)],
                             capture_output=True, text=True, timeout=900, cwd=tmp_path)
    if install.returncode and "Could not find a version" in install.stderr + install.stdout:
        pytest.skip(f"package index unreachable: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stdout + install.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYNQ_BNN_DATA", "PYTHONPATH")}
    run = subprocess.run([str(python), "-c", VENV_SCRIPT, str(REPO / "overlays")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok ") >= 2
