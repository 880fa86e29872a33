# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The overlay packages shipped in ``overlays/`` do not drift from the code and checkpoints that
make them: each holds only what a board needs (no HLS/Vivado copies), names no path of the build
machine, was built from the shipped checkpoint as it is now, and its graph and parameters are
exactly what compile + fold of that checkpoint produce today (``lfc`` in the fast tier, every
package with ``-m slow``).

When this fails after a compiler change, rebuild the package:
``python build/build_overlay.py --model <name>``.
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from pynq_bnn.compiler.package_contents import PACKAGE_FILES

REPO = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in (REPO / "overlays").glob("*/accelerator.json"))
FAST = {"lfc"}
ABSOLUTE_PATH = re.compile(r"""(^|[\s"'=(])/(?:[\w.+-]+/)+[\w.+-]*""", re.M)


def _ids(packages):
    return [p.name for p in packages]


def test_every_preset_is_shipped():
    from pynq_bnn.zoo import list_presets

    assert {p.name for p in PACKAGES} == set(list_presets())


@pytest.mark.parametrize("package", PACKAGES, ids=_ids(PACKAGES))
def test_package_holds_what_a_board_needs_and_no_machine_path(package):
    names = {p.name for p in package.iterdir()}
    allowed = set(PACKAGE_FILES) | {f"{package.name}.bit", f"{package.name}.hwh"}
    assert names <= allowed, f"unexpected in {package.name}: {sorted(names - allowed)}"
    assert {"accelerator.json", "graph.json", "params.npz", "report.json"} <= names
    assert not any(p.is_dir() for p in package.iterdir()), "hls/ and vivado/ are built on demand"
    for path in package.iterdir():
        if path.suffix in (".json", ".txt"):
            match = ABSOLUTE_PATH.search(path.read_text())
            assert match is None, f"{path.name} names a machine path: {match.group(0).strip()}"


@pytest.mark.parametrize("package", PACKAGES, ids=_ids(PACKAGES))
def test_package_was_built_from_the_shipped_checkpoint(package):
    from pynq_bnn.checkpoint import pretrained_manifest

    report = json.loads((package / "report.json").read_text())
    shipped = pretrained_manifest()[report["model"]]["sha256"]
    assert report["steps"]["load"]["sha256"] == shipped
    if "provenance" not in report:
        pytest.skip(f"{package.name} was built before packages recorded their provenance; "
                    f"rebuild: python build/build_overlay.py --model {package.name}")
    assert report["provenance"]["checkpoint_sha256"] == shipped
    assert re.fullmatch(r"[0-9a-f]{64}", report["provenance"]["sources_sha256"])


def _rebuilt_graph(package, work):
    """compile + fold of the package's shipped checkpoint with the package's build options."""
    from pynq_bnn.compiler import load_graph
    from pynq_bnn.compiler.build import BuildConfig, build_overlay

    config = json.loads((package / "report.json").read_text())["config"]
    options = {key: config.get(key) for key in ("board", "clock_mhz", "target_fps")}
    if config.get("folding_file"):
        pytest.fail(f"{package.name} was folded from a file; the drift test cannot rebuild it")
    build_overlay(BuildConfig(model=config["model"], out=str(work / "out"),
                              work_dir=str(work / "work"), stop="fold", **options))
    return load_graph(work / "work" / "fold")


def _assert_same_graph(package, rebuilt):
    from pynq_bnn.compiler import load_graph

    shipped = load_graph(package)
    assert rebuilt.to_dict() == shipped.to_dict(), f"{package.name}: graph.json drifted"
    for old, new in zip(shipped.layers, rebuilt.layers):
        assert sorted(old.params) == sorted(new.params), f"{package.name}/{old.name}"
        for key in old.params:
            a, b = np.asarray(old.params[key]), np.asarray(new.params[key])
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), \
                f"{package.name}: parameter {old.name}/{key} drifted"


@pytest.mark.parametrize("package", [p for p in PACKAGES if p.name in FAST],
                         ids=_ids([p for p in PACKAGES if p.name in FAST]))
def test_graph_and_parameters_have_not_drifted(package, tmp_path):
    _assert_same_graph(package, _rebuilt_graph(package, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("package", [p for p in PACKAGES if p.name not in FAST],
                         ids=_ids([p for p in PACKAGES if p.name not in FAST]))
def test_graph_and_parameters_have_not_drifted_slow(package, tmp_path):
    _assert_same_graph(package, _rebuilt_graph(package, tmp_path))


def test_drift_check_sees_a_changed_parameter(tmp_path):
    """Guard for the guard: one flipped weight bit is reported."""
    import shutil

    from pynq_bnn.compiler import load_graph, save_graph

    package = REPO / "overlays" / "lfc"
    graph = load_graph(package)
    layer = next(l for l in graph.layers if "weights" in l.params)
    layer.params["weights"] = np.asarray(layer.params["weights"]).copy()
    layer.params["weights"].flat[0] ^= 1
    changed = tmp_path / "lfc"
    shutil.copytree(package, changed)
    save_graph(graph, changed)
    with pytest.raises(AssertionError, match="drifted"):
        _assert_same_graph(changed, load_graph(package))
