# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Oracle helpers for the seed-preset lowering tests (test_lower_<preset>.py), loaded by path.

``prepare_model`` gives a random-init preset non-trivial BN statistics from real images and moves
every BN threshold to the middle between two accumulator values: the shipped ``BinaryWeight``
scale (0.1, see docs/compiler_issues.md) makes the float32 conv inexact by ~1e-7, so a threshold
that falls on an accumulator value would be a float tie, not a compiler property.
``compare_top1`` then requires the compiled top-1 to equal torch's except where the integer
scores of both classes are exactly equal (a tie the float model breaks by rounding noise).
"""
from __future__ import annotations

import numpy as np
import torch

from pynq_bnn import zoo
from pynq_bnn.compiler import execute
from pynq_bnn.compiler.frontend import load_qonnx, streamline_passes
from pynq_bnn.compiler.lower import RULES, lower_model
from pynq_bnn.compiler.passes.base import run_passes
from pynq_bnn.export import export_qonnx


def _untie(bn, grid: float) -> None:
    with torch.no_grad():
        sigma = torch.sqrt(bn.running_var + bn.eps)
        shift = bn.bias * sigma / bn.weight
        t = (bn.running_mean - shift) / grid
        bn.running_mean.copy_((torch.floor(t) + 0.5) * grid + shift)


def prepare_model(model, images: np.ndarray, seed: int = 0):
    """Random BN affine (20% negative scales), running stats from ``images``, tie-free."""
    g = torch.Generator().manual_seed(seed)
    bn_types = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)
    bns = [m for m in model.modules() if isinstance(m, bn_types)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        with torch.no_grad():
            sign = torch.where(torch.rand(bn.num_features, generator=g) < 0.2, -1.0, 1.0)
            bn.weight.copy_(sign * (0.5 + torch.rand(bn.num_features, generator=g)))
            bn.bias.copy_(0.3 * torch.randn(bn.num_features, generator=g))
    model.train()
    with torch.no_grad():
        for i in range(0, len(images), 100):
            model(zoo.to_model_input(images[i:i + 100]))
    model.eval()
    first_mac = next(m for m in model.modules() if hasattr(m, "quant_weight"))
    wscale = float(first_mac.quant_weight().scale)
    for k, bn in enumerate(bns):
        _untie(bn, wscale / 255 if k == 0 else wscale)
    return model


def compile_with(model, path, extra_passes=(), extra_rules=()):
    """Export, streamline (``extra_passes`` inserted before AbsorbThresholds) and lower."""
    export_qonnx(model, path)
    passes = streamline_passes()
    at = [type(p).__name__ for p in passes].index("AbsorbThresholds")
    passes[at:at] = list(extra_passes)
    streamlined = run_passes(load_qonnx(path), passes)
    return lower_model(streamlined, list(extra_rules) + RULES)


def compare_top1(graph, model, images: np.ndarray, chunk: int = 100) -> dict:
    """Compiled vs torch top-1 on uint8 NCHW ``images``: counts of all / non-tie mismatches.

    Every stream is materialized per ``chunk`` images (memory: 1,000 CIFAR images of a CNV
    hold several GB of window streams); ``outs`` holds the streams of the last chunk."""
    n = len(images)
    select = graph.layers[-1]
    scores, top = [], []
    for start in range(0, n, chunk):
        block = np.ascontiguousarray(images[start:start + chunk].transpose(0, 2, 3, 1))
        outs = execute(graph, block, return_all=True)
        scores.append(outs[select.inputs[0]].reshape(len(block), -1))
        top.append(outs[select.output].reshape(len(block), -1)[:, 0])
    scores, top = np.concatenate(scores), np.concatenate(top)
    with torch.no_grad():
        ref = model(zoo.to_model_input(images)).argmax(1).numpy()
    tie = scores[np.arange(n), ref] == scores[np.arange(n), top]
    return {"mismatch": int((top != ref).sum()), "non_tie": int(((top != ref) & ~tie).sum()),
            "classes": int(np.unique(ref).size), "outs": outs}
