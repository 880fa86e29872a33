# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Estimates: per-layer numbers, pipeline FPS/latency, JSON schema, chart file."""
import json
import math

import pytest

from pynq_bnn.compiler import cost
from pynq_bnn.compiler.estimate import (
    SCHEMA, EstimateError, estimate, plot_layers, write_report)
from pynq_bnn.compiler.folding import divisors, fold_for_fps
from pynq_bnn.compiler.hw.base import Attr, HWLayer, StreamType
from pynq_bnn.compiler.stream_cost import plumbing_items


class ToyFC(HWLayer):
    """A binary fully connected layer: IN_TYPE inputs, BIPOLAR (or INT16 for the last) outputs."""

    kind = "ToyFC"
    ATTRS = (Attr("MW", int), Attr("MH", int), Attr("IN_TYPE", str, "BIPOLAR"),
             Attr("OUT_TYPE", str, "BIPOLAR"), Attr("PE", int, 1), Attr("SIMD", int, 1))

    def in_shapes(self):
        return [(self.MW,)]

    def in_types(self):
        return [StreamType.parse(self.IN_TYPE)]

    def out_shape(self):
        return (self.MH,)

    def out_type(self):
        return StreamType.parse(self.OUT_TYPE)

    def folding_space(self):
        return {"PE": divisors(self.MH), "SIMD": divisors(self.MW)}

    def check_folding(self):
        legal = self.MH % self.PE == 0 and self.MW % self.SIMD == 0
        return [] if legal else ["PE/SIMD must divide"]

    def cycles(self):
        return (self.MH // self.PE) * (self.MW // self.SIMD)

    def resources(self, board):
        depth = (self.MH // self.PE) * (self.MW // self.SIMD)
        return (cost.memory(depth, self.SIMD, copies=self.PE)
                + cost.xnor_popcount(self.SIMD, self.PE) + cost.layer_control(self.PE))


class NoEstimate(ToyFC):
    kind = "NoEstimate"

    def resources(self, board):
        return HWLayer.resources(self, board)


def lfc_like(first=ToyFC):
    return [first("fc0", ["global_in"], "a0", MW=784, MH=256, IN_TYPE="UINT8"),
            ToyFC("fc1", ["a0"], "a1", MW=256, MH=256),
            ToyFC("fc2", ["a1"], "logits", MW=256, MH=10, OUT_TYPE="INT16")]


def test_pipeline_numbers_from_layer_cycles():
    layers = lfc_like()
    fold_for_fps(layers, 100_000, "Pynq-Z2")
    result = estimate(layers, "Pynq-Z2")
    cycles = [layer.cycles() for layer in layers]
    in_cycles = math.ceil(784 * 8 / 64)
    out_cycles = math.ceil(10 * 16 / 64)
    assert [item.cycles for item in result.layers] == cycles
    assert [item.cycles for item in result.io] == [in_cycles, out_cycles]
    assert result.max_cycles == max(cycles + [in_cycles, out_cycles])
    assert result.fps == pytest.approx(100e6 / result.max_cycles) and result.fps >= 100_000
    assert result.latency_cycles == sum(cycles) + in_cycles + out_cycles
    assert result.latency_us == pytest.approx(result.latency_cycles / 100)
    lut = sum(layer.resources("Pynq-Z2").lut for layer in layers) + cost.platform_shell().lut
    assert result.total.lut == pytest.approx(lut)
    assert result.utilization["lut"] == pytest.approx(lut / 53_200)
    assert result.fits


def test_axi_stage_can_be_the_bottleneck():
    layers = lfc_like()
    for layer in layers:  # fully parallel layers: 1 cycle each
        layer.attrs.update(PE=layer.MH, SIMD=layer.MW)
    result = estimate(layers, "ZCU104", clock_mhz=300)
    assert result.bottleneck == "axi_in" and result.max_cycles == math.ceil(784 * 8 / 128)
    assert not result.fits and any("lut" in note for note in result.notes)


def test_missing_estimate_is_an_error_naming_the_layer():
    with pytest.raises(EstimateError, match="'fc0' \\(NoEstimate\\) has no estimate"):
        estimate(lfc_like(first=NoEstimate), "Pynq-Z2")
    with pytest.raises(EstimateError, match="empty graph"):
        estimate([], "Pynq-Z2")


def test_json_report_schema(tmp_path):
    layers = lfc_like()
    fold_for_fps(layers, 10_000, "Ultra96-V2")
    path = write_report(estimate(layers, "Ultra96-V2"), tmp_path / "sub" / "report.json")
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA
    assert data["model"] == cost.MODEL_LABEL and data["model"].startswith("estimated (model ")
    assert "finn-examples cnv-w1a1" in data["model"] and "BNN-PYNQ CNV/LFC" in data["model"]
    assert set(data["plumbing"]) >= {"resources", "fifos", "fifo_resources", "large_fifos"}
    assert set(data) >= {"board", "clock_mhz", "layers", "io", "platform", "total", "capacity",
                         "utilization", "fits", "pipeline", "notes"}
    assert data["board"]["name"] == "Ultra96-V2" and data["clock_mhz"] == 200.0
    assert [entry["name"] for entry in data["layers"]] == ["fc0", "fc1", "fc2"]
    for entry in data["layers"]:
        assert set(entry) == {"name", "kind", "folding", "cycles", "resources"}
        assert set(entry["folding"]) == {"PE", "SIMD"}
        assert set(entry["resources"]) == {"lut", "ff", "bram18", "dsp", "uram"}
    pipeline = data["pipeline"]
    assert set(pipeline) >= {"max_cycles", "bottleneck", "fps", "latency_cycles", "latency_us"}
    assert pipeline["fps"] == pytest.approx(200e6 / pipeline["max_cycles"])
    assert "upper bound" in pipeline["latency_is"]
    assert not list(path.parent.glob("*.tmp"))


def test_chart_written_as_png(tmp_path):
    layers = lfc_like()
    fold_for_fps(layers, 10_000, "Pynq-Z2")
    result = estimate(layers, "Pynq-Z2")
    path = plot_layers(result, tmp_path / "layers.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    assert [p.name for p in tmp_path.iterdir()] == ["layers.png"]
    assert "fc1" in result.summary() and "FPS" in result.summary()


TOP = """
  hls::stream<ap_uint<64> > axi_in("axi_in");
#pragma HLS STREAM variable = axi_in depth = 2
  hls::stream<ap_uint<8> > s_x_f0("s_x_f0");
#pragma HLS STREAM variable = s_x_f0 depth = 16400
  hls::stream<ap_uint<8> > s_x_r0("s_x_r0");
#pragma HLS STREAM variable = s_x_r0 depth = 16400
#pragma HLS STREAM variable = s_x_r0 depth = 2
  hls::stream<ap_uint<32> > s_y_win;
  bnn::axi_to_stream<64, 48>(in_stream, axi_in, num_images);
  bnn::duplicate<8, 16384>(s_x, s_x_f0, s_x_r0, num_images);
  bnn::resize<64, 24, 384, 1024>(axi_in, s_in, num_images);
  bnn::sliding_window<3, 3, 1, 1, 0, 0, 0, 0, 8, 8, 16, 16, 2, 0>(s_a, s_b, num_images);
"""


def test_plumbing_reads_declared_depths_and_helpers():
    items = {item.name: item for item in plumbing_items(TOP)}
    assert items["fifo axi_in"].depth == 2 and items["fifo axi_in"].resources.bram18 == 0
    fork = items["fifo s_x_f0"]
    assert fork.depth == 16400 and fork.resources == cost.fifo(16400, 8)
    assert fork.resources.bram18 == 9  # 16,400 x 8 bits: nine 2K x 9 blocks
    assert items["fifo s_x_r0"].depth == 16400  # two depth pragmas: the deeper one is priced
    assert items["fifo s_y_win"].depth == 2  # no pragma: the Vitis default depth
    assert items["resize 64->24"].resources == cost.width_converter(64, 24)
    assert "duplicate" in items and "axi_to_stream" in items
    assert "sliding_window" not in items  # a layer template: its layer prices it
    vitis_2022 = plumbing_items("  hls::stream<ap_uint<16>, 64> s_y;")
    assert vitis_2022[0].depth == 64 and vitis_2022[0].width == 16


def test_plumbing_refuses_streams_it_cannot_price():
    with pytest.raises(ValueError, match="cannot price streams \\['s_z'\\]"):
        plumbing_items("  hls::stream<ap_uint<BNN_W> > s_z;\n  hls::stream<ap_uint<8> > s_ok;")


def test_layer_list_is_estimated_without_plumbing_and_says_so():
    layers = lfc_like()
    fold_for_fps(layers, 10_000, "Pynq-Z2")
    result = estimate(layers, "Pynq-Z2")
    assert result.plumbing == [] and result.plumbing_total == cost.Resources()
    assert any("FIFOs and helpers not counted" in note for note in result.notes)
