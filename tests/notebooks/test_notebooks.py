# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Every notebook executes top to bottom on the simulated device (nbclient, in memory: the stored
notebooks keep no outputs), and the notebooks are stored without outputs."""
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def execute_notebook(path, env):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    old = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return notebook


@pytest.fixture(scope="module")
def kernel_env(data_dir, package_cache_dir):
    return {"PYNQ_BNN_DATA": str(data_dir), "MPLBACKEND": "Agg",
            "PYNQ_BNN_CACHE": str(package_cache_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def test_notebooks_exist_and_are_stripped():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_"]
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_env):
    notebook = execute_notebook(path, kernel_env)
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors


def test_copy_notebooks_cli(tmp_path):
    from pynq_bnn.notebooks import deliver_notebooks, main

    assert main(["--path", str(tmp_path / "nb")]) == 0
    assert sorted(p.name for p in (tmp_path / "nb").glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    written = deliver_notebooks("Pynq-Z2", "ignored", str(tmp_path / "pynq"), "pynq_bnn", folder=True)
    assert len(written) == len(NOTEBOOKS) and (tmp_path / "pynq" / "pynq_bnn").is_dir()
