# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The identity register: emitted by the HLS top, modelled by the simulated device, recorded in
accelerator.json, and a PL of another model with the same stream widths is refused."""
import json
import shutil

import numpy as np
import pytest

from pynq_bnn.driver import BNNOverlay, load_spec
from pynq_bnn.driver.device_sim import use_simulated_device
from pynq_bnn.driver.errors import IdentityMismatchError, SpecError
from pynq_bnn.driver.identity import format_identity, graph_identity, package_identity

from .conftest import checksum_accelerator


def test_identity_is_sensitive_to_graph_and_parameters():
    graph = {"layers": [{"name": "a", "attrs": {"PE": 2}}]}
    weights = {"a/w": np.arange(6, dtype=np.int8).reshape(2, 3)}
    base = graph_identity(graph, weights)
    assert graph_identity(json.loads(json.dumps(graph)), dict(weights)) == base
    assert graph_identity({"layers": [{"name": "a", "attrs": {"PE": 4}}]}, weights) != base
    changed = weights["a/w"].copy()
    changed[1, 2] += 1
    assert graph_identity(graph, {"a/w": changed}) != base
    assert graph_identity(graph, {"a/w": weights["a/w"].astype(np.int16)}) != base
    assert format_identity(base) == f"0x{base:08x}" and len(format_identity(base)) == 10


def test_bad_identity_field_is_a_spec_error(small_package):
    data = json.loads((small_package / "accelerator.json").read_text())
    data["identity"] = "1234"
    (small_package / "accelerator.json").write_text(json.dumps(data))
    with pytest.raises(SpecError, match="identity must be 8"):
        load_spec(small_package)


def _set_identity(package, value):
    data = json.loads((package / "accelerator.json").read_text())
    data["identity"] = value
    (package / "accelerator.json").write_text(json.dumps(data))


def test_wrong_graph_for_accelerator_json_is_refused(small_package):
    expected = package_identity(small_package / "graph.json")
    _set_identity(small_package, format_identity(expected))
    device = use_simulated_device(accelerator=checksum_accelerator)
    assert BNNOverlay(small_package, device=device).identity == expected
    (small_package / "graph.json").write_text(json.dumps({"note": "another model"}))
    with pytest.raises(IdentityMismatchError, match=format_identity(expected)):
        BNNOverlay(small_package, device=use_simulated_device(accelerator=checksum_accelerator))


def test_package_of_another_model_with_the_same_widths_is_refused(cifar_package, tmp_path):
    """accelerator.json of the demo CNV + graph/params of a retrained CNV (one weight tile
    changed; same layers, folding and stream widths, so the .hwh check cannot see it)."""
    spec = load_spec(cifar_package)
    with BNNOverlay(cifar_package, device="sim") as good:
        assert good.identity == spec.identity_value is not None
    other = tmp_path / "other"
    shutil.copytree(cifar_package, other)
    with np.load(other / "params.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    name = next(n for n in sorted(arrays) if arrays[n].dtype.kind in "iu" and arrays[n].size > 1)
    arrays[name] = arrays[name].copy()
    arrays[name].reshape(-1)[0] ^= 1
    np.savez_compressed(other / "params.npz", **arrays)
    assert load_spec(other) == spec  # same accelerator.json, same widths
    with pytest.raises(IdentityMismatchError, match="another model or other parameters"):
        BNNOverlay(other, device="sim")


def test_hls_top_emits_the_package_identity(cifar_package):
    from pynq_bnn.compiler import load_graph
    from pynq_bnn.compiler.hls.topgen import render_top

    spec = load_spec(cifar_package)
    top = render_top(load_graph(cifar_package), spec.input.word_bits)
    assert top.identity == spec.identity_value
    header, source = top.files["src/bnn_top.hpp"], top.files["src/bnn_top.cpp"]
    assert f"#define BNN_IDENTITY {spec.identity}u" in header
    assert f"#define BNN_IDENTITY_OFFSET 0x{spec.registers['identity']:02x}" in header
    assert "s_axilite port = identity bundle = control" in source
    assert "*identity = BNN_IDENTITY;" in source
