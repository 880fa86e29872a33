# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Streamline + lowering on hand-built QONNX graphs: exactness against qonnx execution of the
original float graph, decreasing channels, multi-bit codes, padding, int8 weights, and errors."""
import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from pynq_bnn.compiler import UnsupportedGraphError, compile_qonnx, execute, load_qonnx, \
    streamline
from pynq_bnn.compiler.passes.absorb_thresholds import AbsorbThresholds
from pynq_bnn.compiler.verify import compare_layers

QD = "qonnx.custom_op.general"


class GraphBuilder:
    """Tiny QONNX graph builder: x -> ops..., with constant initializers."""

    def __init__(self, shape):
        self.nodes, self.inits, self.k, self.shape = [], [], 0, shape
        self.x = "global_in"

    def const(self, value):
        self.k += 1
        name = f"c{self.k}"
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, np.shape(value),
                                             np.asarray(value, np.float32).ravel()))
        return name

    def op(self, op_type, *consts, domain="", **attrs):
        self.k += 1
        out = f"t{self.k}_{op_type}"
        inputs = [self.x] + [c if isinstance(c, str) else self.const(c) for c in consts]
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{op_type}_{self.k}",
                                           domain=domain, **attrs))
        self.x = out
        return self

    def quant(self, scale, bits, signed):
        return self.op("Quant", scale, 0.0, float(bits), domain=QD, signed=int(signed),
                       narrow=0, rounding_mode="ROUND")

    def bipolar(self, scale=1.0):
        return self.op("BipolarQuant", scale, domain=QD)

    def weight(self, value, scale=1.0):
        """A weight quantizer node on a constant (as Brevitas exports them)."""
        self.k += 1
        out = f"w{self.k}"
        self.nodes.append(helper.make_node("BipolarQuant", [self.const(value), self.const(scale)],
                                           [out], name=f"WQ_{self.k}", domain=QD))
        return out

    def int_weight(self, value, scale):
        self.k += 1
        out = f"w{self.k}"
        self.nodes.append(helper.make_node(
            "Quant", [self.const(value), self.const(scale), self.const(0.0), self.const(8.0)],
            [out], name=f"WQ_{self.k}", domain=QD, signed=1, narrow=0, rounding_mode="ROUND"))
        return out

    def bn(self, rng, channels, negative=True):
        gamma = rng.normal(size=channels)
        if not negative:
            gamma = np.abs(gamma)
        return self.op("BatchNormalization", gamma, rng.normal(size=channels) * 0.5,
                       rng.normal(size=channels) * 3, rng.uniform(1, 20, channels), epsilon=1e-5)

    def model(self, out_shape):
        graph = helper.make_graph(
            self.nodes, "g", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT,
                                                            self.shape)],
            [helper.make_tensor_value_info(self.x, TensorProto.FLOAT, out_shape)],
            initializer=self.inits)
        model = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
        return model


def small_cnv(rng, final_tail=None):
    b = GraphBuilder([1, 3, 8, 8])
    b.quant(1 / 256, 8, signed=False)  # power-of-two scale: the float graph is exact
    b.op("Conv", b.weight(rng.choice([-1, 1], (8, 3, 3, 3)), 0.5), pads=[1, 1, 1, 1],
         kernel_shape=[3, 3])
    b.bn(rng, 8).bipolar()
    b.op("MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    b.op("Conv", b.weight(rng.choice([-1, 1], (16, 8, 3, 3))), strides=[2, 2], pads=[1, 1, 1, 1],
         kernel_shape=[3, 3])
    b.bn(rng, 16).quant(0.5, 2, signed=True)  # 2-bit codes -2..1
    b.op("Reshape", np.array([1, -1]))
    b.nodes[-1].input[1] = "shape"
    b.inits.append(helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1]))
    w = rng.integers(-128, 128, (64, 10)).astype(np.float32)
    b.op("MatMul", b.int_weight(w, 2.0 ** -6))
    if final_tail is not None:
        final_tail(b)
    else:
        b.op("Mul", 0.25)
    return b.model([1, 10])


def run_float(model, images):
    model = load_qonnx(model)
    name = model.graph.input[0].name
    return np.concatenate([execute_onnx(model, {name: (img[None] / np.float32(255)).astype(
        np.float32)})[model.graph.output[0].name] for img in images])


def test_compiled_small_cnv_is_exact_against_float_graph():
    rng = np.random.default_rng(0)
    model = small_cnv(rng)
    graph = compile_qonnx(model)
    kinds = [layer.kind for layer in graph.layers]
    # Quant(p/255, scale 1/256) is not the identity on p: a 255-threshold requantizer first
    # the padded ±1 second conv is one FracMVAU with tap-valid bits (no separate window unit)
    assert kinds == ["Thresholding", "SlidingWindow", "MVAU", "MaxPool", "FracMVAU", "MVAU",
                     "LabelSelect"]
    assert graph.layers[0].num_thresholds == 255
    assert graph.layers[4].out_type().name == "INT2"  # 2-bit signed codes
    assert graph.layers[2].params["neg"].any()        # negative BN gamma -> neg flag
    images = rng.integers(0, 256, (6, 3, 8, 8)).astype(np.uint8)
    logits = run_float(model, images)
    streams = execute(graph, images.transpose(0, 2, 3, 1).copy(), return_all=True)
    acc = streams[graph.layers[-1].inputs[0]]
    np.testing.assert_array_equal(acc * np.float32(0.5 * 2.0 ** -6 * 0.25), logits)  # pow2: exact
    top1 = streams[graph.output_name][:, 0]
    np.testing.assert_array_equal(top1, np.argmax(logits, axis=1))
    checks = compare_layers(streamline(model), graph, images[:2])
    assert len(checks) == 5 and all(c.mismatches == 0 for c in checks)


def test_identity_input_quantizer_disappears():
    b = GraphBuilder([1, 3, 4, 4])
    b.quant(np.float32(1 / 255), 8, signed=False)  # Brevitas' Uint8Input: p/255 -> p exactly
    b.op("Conv", b.weight(np.ones((2, 3, 4, 4))), kernel_shape=[4, 4])
    graph = compile_qonnx(b.model([1, 2, 1, 1]))
    assert [layer.kind for layer in graph.layers] == ["SlidingWindow", "MVAU", "LabelSelect"]
    x = np.full((1, 4, 4, 3), 200, np.uint8)
    assert execute(graph, x, return_all=True)[graph.layers[1].output].tolist() == [[[[9600,
                                                                                     9600]]]]


def test_streamline_reaches_fixed_point_and_is_integer():
    model = streamline(small_cnv(np.random.default_rng(1)))
    ops = {n.op_type for n in model.graph.node}
    assert ops <= {"Conv", "MatMul", "MultiThreshold", "Mul", "MaxPool", "Reshape"}
    assert not any(n.op_type in ("BatchNormalization", "BipolarQuant", "Quant")
                   for n in model.graph.node)
    _, changed = AbsorbThresholds().apply(model)
    assert changed is False


def test_intermediates_are_saved_and_executable(tmp_path):
    model = small_cnv(np.random.default_rng(2))
    compile_qonnx(model, save_intermediates=tmp_path)
    files = sorted(p.name for p in tmp_path.glob("*.onnx"))
    assert files[0] == "00_input.onnx" and any("AbsorbThresholds" in f for f in files)
    last = ModelWrapper(str(tmp_path / files[-1]))
    out = execute_onnx(last, {"global_in": np.zeros((1, 3, 8, 8), np.float32)})
    assert out[last.graph.output[0].name].shape == (1, 10)


def test_non_monotone_tail_is_rejected_naming_the_node():
    b = GraphBuilder([1, 1, 2, 2])
    b.bipolar().op("Reshape", np.array([1, 4]))
    b.nodes[-1].input[1] = "shape"
    b.inits.append(helper.make_tensor("shape", TensorProto.INT64, [2], [1, 4]))
    b.op("MatMul", b.weight(np.ones((4, 3)))).op("PRelu", np.full((1, 3), -0.5))
    b.op("Add", np.full((1, 3), -1.0)).bipolar()  # |x|-ish - 1: V-shaped, not monotone
    b.op("MatMul", b.weight(np.ones((3, 2))))
    with pytest.raises(UnsupportedGraphError, match=r"BipolarQuant node .* not monotone"):
        compile_qonnx(b.model([1, 2]))


def test_per_class_logit_bias_is_rejected():
    rng = np.random.default_rng(3)
    with pytest.raises(UnsupportedGraphError, match="per-class"):
        compile_qonnx(small_cnv(rng, final_tail=lambda b: b.op("Add", rng.normal(size=(1, 10)))))


@pytest.mark.parametrize("attrs,message", [
    (dict(dilations=[2, 2]), "has dilation 2; only dilation 1 is supported"),
    (dict(group=3), "is a depthwise conv not followed by a sign"),
])
def test_unsupported_conv_attributes_name_the_node(attrs, message):
    b = GraphBuilder([1, 3, 8, 8])
    b.quant(1 / 256, 8, signed=False)
    w = np.ones((3, 1 if "group" in attrs else 3, 3, 3))
    b.op("Conv", b.weight(w), kernel_shape=[3, 3], **attrs)
    side = 4 if "dilations" in attrs else 6
    with pytest.raises(UnsupportedGraphError, match=r"Conv node 'Conv_\d+' " + message):
        compile_qonnx(b.model([1, 3, side, side]))


def test_conv_bias_is_folded_into_the_thresholds():
    rng = np.random.default_rng(4)
    b = GraphBuilder([1, 3, 6, 6])
    b.quant(1 / 256, 8, signed=False)
    b.op("Conv", b.weight(rng.choice([-1, 1], (4, 3, 3, 3))), rng.normal(size=4) * 0.3,
         kernel_shape=[3, 3])
    b.bipolar()
    b.op("Conv", b.weight(rng.choice([-1, 1], (5, 4, 4, 4))), kernel_shape=[4, 4])
    model = b.model([1, 5, 1, 1])
    graph = compile_qonnx(model)
    assert graph.layers[2].num_thresholds == 1
    images = rng.integers(0, 256, (8, 3, 6, 6)).astype(np.uint8)
    streams = execute(graph, images.transpose(0, 2, 3, 1).copy(), return_all=True)
    acc = streams[graph.layers[-1].inputs[0]].reshape(8, 5)
    np.testing.assert_array_equal(acc, run_float(model, images).reshape(8, 5))
