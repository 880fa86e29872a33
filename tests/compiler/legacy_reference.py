# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Test oracle: the HW layers' ``reference()`` bodies as they were before the fast kernels
(pynq_bnn commit 85c73d4), kept verbatim in spirit — plain int64 numpy, no tables, no packing.

:func:`legacy_streams` runs a graph layer by layer with these bodies (a kind without a legacy
body here uses its current ``reference()``, i.e. it was not rewritten).
"""
import numpy as np

from pynq_bnn.compiler.hw.frac_mvau import conv_windows, frac2_planes
from pynq_bnn.compiler.hw.requantize import channel_function_reference
from pynq_bnn.compiler.hw.residual import type_range

_ACT_MODES = ("thresholds", "affine")


def _bipolar_matmul(planes, weights_pm1):
    flat = planes.reshape(-1, planes.shape[-1]).astype(np.float64)  # exact: |acc| < 2^53
    out = (flat @ weights_pm1.T.astype(np.float64)).astype(np.int64)
    return out.reshape(planes.shape[:-1] + (weights_pm1.shape[0],))


def frac_mvau(layer, x):
    n = x.shape[0]
    weights = np.asarray(layer.params["weights"], dtype=np.int64)
    x = np.asarray(x, dtype=np.int64).reshape((n,) + tuple(layer.IFM_DIM) + (layer.IFM_CH,))
    if layer.in_dtype == "FRAC2":
        planes = frac2_planes(x)
    else:
        assert x.min() >= 0 and x.max() <= 1
        planes = ((2 * x - 1).astype(np.int8),)
    planes = [conv_windows(p, layer.K, layer.STRIDE, layer.PAD, 0) for p in planes]
    acc = acc_m = _bipolar_matmul(planes[0], weights)
    if len(planes) == 2:
        acc_l = _bipolar_matmul(planes[1], weights)
        gate = layer.params.get("gate")
        mask = np.ones_like(acc_m, dtype=bool) if gate is None else acc_m >= np.asarray(gate)
        acc = 2 * acc_m + mask * acc_l
    if layer.OUT_MODE in _ACT_MODES:
        acc = channel_function_reference(layer.OUT_MODE, layer.params, acc, layer.out_bias,
                                         where=layer.name)
    return acc.reshape((n,) + layer.out_shape())


def requantize(layer, x):
    x = np.asarray(x, dtype=np.int64)[..., layer.src()]
    return channel_function_reference(layer.MODE, layer.params, x, layer.out_bias, layer.in_min,
                                      layer.name)


def add_streams(layer, a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    lo, hi = type_range(layer.out_type())
    return np.clip((a << layer.SHIFT_A) + (b << layer.SHIFT_B), lo, hi)


def lab_binarize(layer, x):
    from pynq_bnn.compiler.hw.requantize import apply_thresholds as apply_directed

    acc = layer.accumulate(x)  # unchanged integer einsum definition
    thresholds = np.asarray(layer.params["thresholds"], dtype=np.int64).reshape(layer.CH, 1)
    return apply_directed(acc, thresholds, layer.params.get("direction"))


def bit_plane_conv(layer, x):
    from pynq_bnn.compiler.hw.bitplane import BITS
    from pynq_bnn.compiler.hw.thresholding import apply_thresholds as apply_neg

    acc = layer.plane_accumulators(x)  # unchanged integer tap loop
    u = apply_neg(acc, layer.params["plane_thresholds"], layer.params.get("plane_neg"))
    n, ho, wo, _ = acc.shape
    signs = (2 * u - 1).reshape(n, ho, wo, layer.IFM_CH, BITS, layer.PLANE_CH)
    fuse = np.asarray(layer.params["fuse_weights"], dtype=np.int64)
    fuse = fuse.reshape(layer.IFM_CH, layer.PLANE_CH, BITS)
    v = np.einsum("nhwcjm,cmj->nhwcm", signs.astype(np.int64), fuse)
    v = v.reshape(n, ho, wo, layer.fused)
    out = apply_neg(v, layer.params["fuse_thresholds"], layer.params.get("fuse_neg"))
    return out.astype(np.uint8)


LEGACY = {"BitPlaneConv": bit_plane_conv, "FracMVAU": frac_mvau, "Requantize": requantize, "AddStreams": add_streams,
          "LABBinarize": lab_binarize}


def legacy_streams(graph, images):
    """Every stream of ``graph`` on uint8 NHWC ``images``, layer by layer, legacy bodies."""
    streams = {graph.input_name: images}
    for layer in graph.layers:
        inputs = [streams[name].reshape((len(images),) + tuple(shape))
                  for name, shape in zip(layer.inputs, layer.in_shapes())]
        body = LEGACY.get(layer.kind)
        streams[layer.output] = body(layer, *inputs) if body else layer.reference(*inputs)
    return streams
