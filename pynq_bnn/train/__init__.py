# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Training of zoo models: ``train()`` API and the ``python -m pynq_bnn.train`` CLI.

>>> from pynq_bnn.train import TrainConfig
>>> TrainConfig(epochs=3).epochs
3

Example (Python)::

    from pynq_bnn.data import load_dataset
    from pynq_bnn.train import train
    result = train("lfc", load_dataset("mnist", "train"), test_set=load_dataset("mnist", "test"),
                   epochs=20, out="runs/lfc.pt", compact_out="runs/lfc.compact.pt")

Multi-GPU / multi-node: ``torchrun --nproc_per_node=4 -m pynq_bnn.train --model cnv ...``.

Also: published recipes (``recipe="bnn-pynq"`` / ``"fracbnn"``, :mod:`pynq_bnn.train.recipes`),
ReActNet knowledge distillation (``teacher=CKPT``), the compile + bf16 fast path
(:mod:`pynq_bnn.train.fast`, final numbers always fp32 eager) and bit-identical resume
(:mod:`pynq_bnn.train.rng`).
"""
from pynq_bnn.train.api import TrainResult, artifact_paths, train
from pynq_bnn.train.config import DATASET_DEFAULTS, TrainConfig, resolve_config
from pynq_bnn.train.distributed import DistContext, init_distributed, shutdown_distributed
from pynq_bnn.train.recipes import RECIPES, list_recipes

__all__ = ["train", "TrainResult", "artifact_paths", "TrainConfig", "DATASET_DEFAULTS",
           "resolve_config", "DistContext", "init_distributed", "shutdown_distributed", "RECIPES",
           "list_recipes"]
