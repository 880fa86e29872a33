# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""pynq_bnn.summary: parameter and MAC counts checked against hand-computed CNV/LFC numbers."""
import json

import pynq_bnn
import pynq_bnn.zoo.variants  # noqa: F401 - registers repbnn
from pynq_bnn import zoo

# CNV binary MACs by hand: conv2..conv6 (±1 inputs) + FC 256-512-512-10
CNV_CONV_MACS = [28 * 28 * 64 * 576, 12 * 12 * 128 * 576, 10 * 10 * 128 * 1152,
                 3 * 3 * 256 * 1152, 1 * 1 * 256 * 2304]
CNV_FC_MACS = [256 * 512, 512 * 512, 512 * 10]


def test_cnv_counts_match_hand_computation():
    s = pynq_bnn.summary(zoo.build("cnv"))
    assert s.totals["binary_macs"] == sum(CNV_CONV_MACS) + sum(CNV_FC_MACS) == 57_906_176
    assert s.totals["fp_macs"] == 30 * 30 * 64 * 27          # the 8-bit pixel first conv
    weights = [3 * 64 * 9, 64 * 64 * 9, 64 * 128 * 9, 128 * 128 * 9, 128 * 256 * 9,
               256 * 256 * 9, 256 * 512, 512 * 512, 512 * 10]
    assert s.totals["one_bit_params"] == sum(weights)
    bn = 2 * (64 * 2 + 128 * 2 + 256 * 2 + 512 * 2)
    assert s.totals["fp_params"] == bn + 1                   # BN affine + the output scale
    first = s.layers[0]
    assert first.name == "features.0" and first.fp_macs == 1_555_200 and first.binary_macs == 0


def test_repbnn_keeps_binary_work_except_the_classifier():
    base = pynq_bnn.summary(zoo.build("cnv")).totals
    rep = pynq_bnn.summary(zoo.build("repbnn")).totals
    assert rep["binary_macs"] - base["binary_macs"] == 512 * 10   # classifier input 2× wider
    assert rep["one_bit_params"] - base["one_bit_params"] == 512 * 10
    assert rep["fp_macs"] == base["fp_macs"]


def test_table_and_dict():
    s = pynq_bnn.summary(zoo.build("lfc", hidden=(32, 32)))
    text = str(s)
    assert "binary MACs" in text and "features.1" in text and "total" in text
    data = json.loads(json.dumps(s.as_dict()))
    assert data["totals"]["binary_macs"] == 784 * 32 + 32 * 32 + 32 * 10
    assert [layer["name"] for layer in data["layers"]][:2] == ["features.1", "features.2"]
