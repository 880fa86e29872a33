# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Every random-number generator state of a training process, for bit-identical resume.

A resumed run must draw exactly the random numbers the uninterrupted run would have drawn:
dropout masks and compiled-kernel seeds come from torch's global CPU (and CUDA) generators,
and user code may use Python's ``random`` or numpy's global generator. (The data order and the
augmentation are not among them: :class:`pynq_bnn.data.BatchLoader` seeds its own generators
from ``(seed, epoch)``.)

The captured state holds only tensors, ints, floats and tuples, so it is stored inside the
resumable checkpoint and still loads with ``torch.load(weights_only=True)``.
"""
import random

import numpy as np
import torch

__all__ = ["capture_rng_state", "restore_rng_state"]


def capture_rng_state() -> dict:
    """Snapshot of the Python, numpy, torch CPU and (if initialized) CUDA generators."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {"python": random.getstate(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                       "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Put back a state captured by :func:`capture_rng_state`.

    Raises:
        ValueError: the state is missing a generator or malformed.
    """
    try:
        version, internal, gauss = state["python"]
        random.setstate((int(version), tuple(int(v) for v in internal), gauss))
        saved = state["numpy"]
        np.random.set_state((saved["kind"], saved["keys"].numpy().astype(np.uint32),
                             saved["pos"], saved["has_gauss"], saved["cached"]))
        torch.set_rng_state(state["torch"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"malformed RNG state in checkpoint: {err}") from None
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
