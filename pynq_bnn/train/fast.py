# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The fast training path: ``torch.compile`` (inductor) + bfloat16 autocast, and the thread count.

Why it pays off: a BNN step is dominated by many small elementwise ops (sign, clamps, the
Brevitas quantizer arithmetic, BatchNorm) and by fp32 convolutions. Inductor fuses the
elementwise chains into a few C++/OpenMP kernels, and bf16 autocast sends convolutions and
matmuls to oneDNN's bf16 kernels (AMX / AVX512-BF16 on recent Xeons). Binary layers only see the
*sign* of their inputs, and every ±1 value and integer accumulator of a BNN layer up to 256 terms
is exact in bf16, so training behaves like fp32 (measured: same test accuracy in side-by-side
runs, see ``benchmarks/train_throughput.py``).

Where the compiled region starts: :meth:`pynq_bnn.zoo.BNNModel.forward` first runs
``validate_input``, whose ``float(x.min())`` forces a host sync and breaks the graph; the fast path
therefore validates eagerly and compiles ``forward_impl`` (everything below the check).

The number the project reports is never the fast path's: the final accuracy of a run is an fp32
eager evaluation (what the exported, deployed model reproduces bit-exactly).

Threads: on a small shared machine one torch thread beats two (measured on the project's 2-core
box: median step 0.72× the speed with two threads), so the default is half the usable CPUs
(physical cores on SMT machines), at least 1; ``num_threads`` overrides it.
"""
import contextlib
import logging

import torch

from pynq_bnn.utils.cpus import usable_cpus

__all__ = ["bf16_supported", "fast_path_default", "default_num_threads", "autocast",
           "FastForward", "MIN_STEPS_FOR_FAST"]

log = logging.getLogger(__name__)

# Compiling a model costs tens of seconds on a CPU; below this many training steps the eager path
# finishes first, so "auto" keeps it off (tiny test runs, smoke runs).
MIN_STEPS_FOR_FAST = 200


def bf16_supported(device) -> bool:
    """Whether ``device`` has fast bf16 kernels (CPU: oneDNN with AVX512-BF16/AMX; CUDA: sm80+)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - very old / exotic builds
        return False


def fast_path_default(device, total_steps: int, distributed: bool = False) -> bool:
    """``fast="auto"``: on where bf16 is fast, the run is long enough to amortize compiling,
    and the process is not one rank of a DDP job (DDP's forward must run for gradient sync)."""
    return (not distributed and total_steps >= MIN_STEPS_FOR_FAST
            and bf16_supported(device))


def default_num_threads() -> int:
    """Half the usable CPUs, at least 1 (1 on a 2-core machine; see the module docstring)."""
    return max(1, usable_cpus() // 2)


def autocast(device, enabled: bool):
    """bf16 autocast context on ``device`` (a no-op context when not ``enabled``)."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


class FastForward:
    """Callable ``x -> logits`` of a zoo model: eager ``validate_input``, compiled ``forward_impl``
    under bf16 autocast; logits are returned in float32.

    The model itself is not modified (its state dict, export and eager ``forward`` are unchanged);
    train/eval mode switches are picked up by the compiled function (one graph per mode).

    Args:
        model: a :class:`pynq_bnn.zoo.BNNModel` (not a DDP wrapper).
        device: where the model runs (selects the autocast device type).
        compile: compile ``forward_impl`` with inductor.
        bf16: run under bf16 autocast.
    """

    def __init__(self, model, device, *, compile: bool = True, bf16: bool = True):
        self.model, self.device, self.bf16 = model, torch.device(device), bf16
        impl = model.forward_impl
        self.impl = torch.compile(impl, dynamic=False) if compile else impl
        self.compiled = compile

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.model.validate_input(x)
        with autocast(self.device, self.bf16):
            return self.impl(x).float()
