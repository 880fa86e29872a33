# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""accelerator.json: round trip and one specific error per kind of damage."""
import json

import pytest

from pynq_bnn.driver import OverlayFileError, SpecError
from pynq_bnn.driver.spec import AcceleratorSpec, StreamSpec, load_spec, save_spec


def make_spec(**changes):
    fields = dict(model="cnv", board="Pynq-Z2", clock_mhz=100.0,
                  input=StreamSpec.create((32, 32, 3), "uint8", "NHWC", 8, 64),
                  output=StreamSpec.create((1,), "uint8", "NK", 8, 64),
                  classes=tuple("abcdefghij"), files={"graph": "graph.json"},
                  folding={"mvau_0": {"PE": 4, "SIMD": 8}}, pynq_bnn_version="0.1.0")
    fields.update(changes)
    return AcceleratorSpec(**fields)


def test_round_trip(tmp_path):
    spec = make_spec()
    path = save_spec(spec, tmp_path)
    assert path.name == "accelerator.json"
    assert load_spec(tmp_path) == spec
    assert load_spec(path) == spec
    assert spec.input.words_per_image == 384 and spec.input.bytes_per_image == 3072


def _write(tmp_path, mutate):
    data = make_spec().to_dict()
    mutate(data)
    (tmp_path / "accelerator.json").write_text(json.dumps(data))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("clock_mhz"), "missing field 'clock_mhz'"),
    (lambda d: d["input"].pop("word_bits"), "missing field 'input.word_bits'"),
    (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
    (lambda d: d.pop("schema_version"), "no 'schema_version'"),
    (lambda d: d["input"].update(words_per_image=100), "words_per_image is 100"),
    (lambda d: d["input"].update(word_bits=48), "word_bits must be one of"),
    (lambda d: d["output"].update(shape=[11], words_per_image=2), "exceeds the 10 classes"),
    (lambda d: d.update(ip_control="ap_ctrl_chain"), "ip_control"),
    (lambda d: d.update(extra=1), "unknown fields"),
    (lambda d: d.update(files={}), "files.graph"),
    (lambda d: d.update(identity="0xABCDEF12"), "identity must be 8 lower-case hex"),
    (lambda d: d.update(registers={"ap_ctrl": 0, "num_images": 16}), "registers must map"),
    (lambda d: d["registers"].update(identity=0x1A), "registers must map"),
    (lambda d: d.update(channel_order="BGR"), "channel_order"),
])
def test_invalid_fields_raise_spec_error(tmp_path, mutate, message):
    _write(tmp_path, mutate)
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path)


def test_missing_and_corrupt_file(tmp_path):
    with pytest.raises(OverlayFileError, match="accelerator.json"):
        load_spec(tmp_path)
    (tmp_path / "accelerator.json").write_text("{ not json")
    with pytest.raises(OverlayFileError, match="corrupt"):
        load_spec(tmp_path)


def test_old_files_without_identity_or_registers_load_with_defaults(tmp_path):
    data = make_spec().to_dict()
    for key in ("identity", "registers", "channel_order"):
        data.pop(key)
    (tmp_path / "accelerator.json").write_text(json.dumps(data))
    spec = load_spec(tmp_path)
    assert spec.identity_value is None and spec.channel_order == "RGB"
    assert spec.registers == {"ap_ctrl": 0x00, "num_images": 0x10, "identity": 0x18}
