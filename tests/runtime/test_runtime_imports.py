# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The runtime (driver, packing, graph loading and numpy execution, simulated device, camera,
notebooks) works with torch, brevitas, onnx, onnxruntime, qonnx and hls4ml impossible to import,
as on a PYNQ board: every shipped overlay loads and predicts on the simulated device, and the
quick-start notebook runs top to bottom in a kernel with the same imports blocked.

The block is a ``sitecustomize`` module on ``PYTHONPATH`` (imported by every interpreter at
start-up, the notebook kernel included) that puts a finder raising ImportError first on
``sys.meta_path``.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BLOCKED = ("torch", "brevitas", "onnx", "onnxruntime", "onnxscript", "onnxoptimizer", "qonnx",
           "hls4ml")

SITECUSTOMIZE = f'''
import importlib.abc
import sys

BLOCKED = {BLOCKED!r}


class _BlockTrainingStack(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: the pynq_bnn runtime must not import it")
        return None


sys.meta_path.insert(0, _BlockTrainingStack())
'''

RUNTIME_SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path

    import numpy as np

    import pynq_bnn.camera, pynq_bnn.data, pynq_bnn.driver, pynq_bnn.notebooks  # noqa: E401,F401
    from pynq_bnn.compiler import execute, load_graph
    from pynq_bnn.driver import BNNOverlay

    packages = sorted(p.parent for p in Path("overlays").glob("*/accelerator.json"))
    assert len(packages) >= 2, packages
    for package in packages:
        graph = load_graph(package)
        with BNNOverlay(package, device="sim") as overlay:
            images = np.random.default_rng(0).integers(
                0, 256, (3, *overlay.spec.input.shape), dtype=np.uint8)
            top = overlay.predict(images)
            np.testing.assert_array_equal(top, np.asarray(execute(graph, images))[:, :top.shape[1]])
        print("ok", package.name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED_NAMES
                    or m.startswith(("pynq_bnn.compiler.lower", "pynq_bnn.compiler.frontend")))
    assert not leaked, leaked
''')


@pytest.fixture
def blocked_env(tmp_path):
    """Environment whose Python interpreters cannot import the training / build stack."""
    site = tmp_path / "block"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(site), str(REPO),
                                                        os.environ.get("PYTHONPATH")])))
    return env


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_block_works(blocked_env):
    """Guard for the guard: in the blocked interpreter each blocked package fails to import,
    and so does the QONNX front end of the compiler."""
    for name in ("torch", "onnx", "qonnx.core", "brevitas", "hls4ml"):
        done = run_python(f"import {name}", blocked_env)
        assert done.returncode != 0 and "is blocked" in done.stderr, name
    done = run_python("from pynq_bnn.compiler import compile_qonnx\n"
                      "compile_qonnx('overlays/lfc/graph.json')", blocked_env)
    assert done.returncode != 0 and "is blocked" in done.stderr


def test_shipped_overlays_run_without_the_training_stack(blocked_env):
    code = f"BLOCKED_NAMES = {BLOCKED!r}\n" + RUNTIME_SCRIPT
    done = run_python(code, blocked_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok ") >= 2


def fresh_clone(tmp_path) -> Path:
    """The runtime parts of a checkout, copied where no data folder is near (no shared/data)."""
    clone = tmp_path / "clone"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*.work")
    for part in ("pynq_bnn", "overlays", "notebooks"):
        shutil.copytree(REPO / part, clone / part, ignore=skip)
    return clone


@pytest.mark.notebooks
def test_quickstart_notebook_runs_without_the_training_stack_or_data(blocked_env, tmp_path):
    """A first run on a fresh machine: no torch & co., no data folder (the shipped test subset
    is used)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    clone = fresh_clone(tmp_path)
    blocked_env = {k: v for k, v in blocked_env.items() if k != "PYNQ_BNN_DATA"}
    blocked_env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "block"), str(clone)])
    path = clone / "notebooks" / "01_quickstart.ipynb"
    notebook = nbformat.read(path, as_version=4)
    # First cell: prove the kernel really has the block (a notebook importing torch would fail).
    notebook.cells.insert(0, nbformat.v4.new_code_cell(
        "import importlib\ntry:\n    importlib.import_module('torch')\nexcept ImportError:\n"
        "    pass\nelse:\n    raise AssertionError('torch importable: the block is not active')"))
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import sys\nleaked = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{BLOCKED!r})\nassert not leaked, leaked\n"
        "import pynq_bnn\nassert pynq_bnn.__file__.startswith("
        f"{str(clone)!r}), pynq_bnn.__file__\n"
        "assert data_dir is None and 'shipped subset' in test.name, (data_dir, test.name)"))
    client = NotebookClient(notebook, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(blocked_env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
