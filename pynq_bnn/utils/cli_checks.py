# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Range checks of the train / eval / export command-line options, run before any work.

Each ``check_*_args(args)`` takes the parsed ``argparse.Namespace`` and raises
:class:`~pynq_bnn.utils.validate.InputError` for the first bad value: numbers must be finite and
in range (``--lr inf``, ``--num-workers -1``, ``--limit-test 0`` are refused), output paths must
be writable *now* (not after an epoch), ``--device`` must exist, and ``--out`` must differ from
``--compact-out`` (one would overwrite the other). Options a Namespace lacks are skipped, so new
options can be added to a parser without touching these checks.
"""
from __future__ import annotations

from pathlib import Path

from pynq_bnn.utils.validate import (InputError, check_choice, check_device, check_float,
                                     check_int, check_output_dir, check_output_file)

__all__ = ["check_train_args", "check_eval_args", "check_export_args", "MAX_SEED"]

MAX_SEED = 2 ** 32 - 1  # numpy's seed range
MAX_COUNT = 10_000_000  # more images than any supported dataset holds


def _given(args, name):
    return getattr(args, name, None)


def _ints(args, limits: dict) -> None:
    for name, (minimum, maximum) in limits.items():
        value = _given(args, name)
        if value is not None:
            check_int(value, "--" + name.replace("_", "-"), minimum=minimum, maximum=maximum)


def check_train_args(args) -> None:
    """Options of ``python -m pynq_bnn.train``."""
    from pynq_bnn import zoo

    check_choice(args.model, zoo.list_presets(), "model")
    _ints(args, {"epochs": (1, 100_000), "batch_size": (1, 1 << 20), "limit_train": (1, MAX_COUNT),
                 "val_count": (0, MAX_COUNT), "limit_test": (1, MAX_COUNT), "seed": (0, MAX_SEED),
                 "num_workers": (0, 1024)})
    if _given(args, "lr") is not None:
        check_float(args.lr, "--lr", positive=True, maximum=1e3)
    if _given(args, "weight_decay") is not None:
        check_float(args.weight_decay, "--weight-decay", minimum=0.0, maximum=1e3)
    check_device(_given(args, "device"))
    from pynq_bnn.train.api import artifact_paths

    out = check_output_file(args.out, "--out")
    written = {Path(p).resolve(): role for role, p in artifact_paths(out).items()}
    compact = _given(args, "compact_out")
    if compact is not None:
        compact = check_output_file(compact, "--compact-out")
        role = written.get(compact.resolve())
        if role is not None:
            what = "the same file as --out" if role == "checkpoint" else f"--out's {role} file"
            raise InputError(f"--compact-out {compact} is {what}; one would overwrite the "
                             "other: give a different path")
    resume = _given(args, "resume")
    if resume is not None and not Path(resume).is_file():
        raise InputError(f"--resume {resume}: no such checkpoint file")


def check_eval_args(args) -> None:
    """Options of ``python -m pynq_bnn.eval``."""
    _ints(args, {"limit": (1, MAX_COUNT), "batch_size": (1, 1 << 20)})
    check_device(_given(args, "device"))
    if _given(args, "out") is not None:
        check_output_dir(args.out, "--out")


def check_export_args(args) -> None:
    """Options of ``python -m pynq_bnn.export`` (``--verify-images 0`` skips the check)."""
    _ints(args, {"verify_images": (0, MAX_COUNT), "batch_size": (1, 1 << 20)})
    check_output_file(args.out, "--out")
