# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``pynq get-notebooks pynq_bnn`` through pynq's own code path.

The entry point comes from ``setup.py`` itself (``setup.py egg_info`` into a temporary folder
put first on ``PYTHONPATH``, so pkg_resources sees exactly what an install would declare), and
the command is pynq's ``pynq-get-notebooks`` console-script function
(``pynq._cli.get_notebooks:main``, what ``pynq get-notebooks`` executes) run in a fresh
interpreter: pynqutils' ``ExtensionsManager`` finds the entry point, loads the module, resolves
its folder from ``__path__`` and calls our ``deliver_notebooks``.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
RUN_PYNQ_CLI = ("import sys; from pynq._cli.get_notebooks import main; "
                "sys.argv = ['pynq-get-notebooks'] + sys.argv[1:]; main()")


@pytest.fixture(scope="module")
def egg_info(tmp_path_factory):
    """Metadata (entry points included) of this checkout's setup.py, in a temp folder."""
    base = tmp_path_factory.mktemp("egg")
    subprocess.run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(base)],
                   cwd=REPO, check=True, capture_output=True, timeout=120)
    entry_points = next(base.glob("*.egg-info")) / "entry_points.txt"
    assert "pynq_bnn = pynq_bnn.notebooks" in entry_points.read_text()
    return base


def pynq_get_notebooks(args, egg_base, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(egg_base), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", RUN_PYNQ_CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_pynq_get_notebooks_delivers(egg_info, tmp_path):
    listed = pynq_get_notebooks(["--list"], egg_info, tmp_path)
    assert listed.returncode == 0 and "pynq_bnn (source: pynq_bnn)" in listed.stdout, listed
    target = tmp_path / "jupyter"
    result = pynq_get_notebooks(["pynq_bnn", "-o", "-p", str(target)], egg_info, tmp_path)
    assert result.returncode == 0, result.stderr
    delivered = target / "pynq_bnn"
    assert sorted(p.name for p in delivered.iterdir()) == NOTEBOOKS  # notebooks only, no .py
    for name in NOTEBOOKS:
        assert (delivered / name).read_bytes() == (REPO / "notebooks" / name).read_bytes()
    assert json.loads((target / ".pynq-notebooks").read_text()) == ["pynq_bnn.notebooks"]
    # a second delivery is skipped by pynq unless forced; --force overwrites edited copies
    (delivered / NOTEBOOKS[0]).write_text("edited")
    again = pynq_get_notebooks(["pynq_bnn", "-o", "-p", str(target)], egg_info, tmp_path)
    assert again.returncode == 0 and (delivered / NOTEBOOKS[0]).read_text() == "edited"
    forced = pynq_get_notebooks(["pynq_bnn", "-o", "-f", "-p", str(target)], egg_info, tmp_path)
    assert forced.returncode == 0, forced.stderr
    original = (REPO / "notebooks" / NOTEBOOKS[0]).read_bytes()
    assert (delivered / NOTEBOOKS[0]).read_bytes() == original


def test_entry_point_module_is_a_package():
    """pynqutils resolves the source folder from ``__path__``: a plain module makes it crash."""
    from pynqutils.setup_utils.extension_manager import ExtensionsManager

    import pynq_bnn.notebooks

    assert Path(ExtensionsManager.extension_path("pynq_bnn.notebooks")) == \
        Path(pynq_bnn.notebooks.__file__).parent
