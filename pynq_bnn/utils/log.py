# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Logging setup for the command-line tools (library modules only create loggers)."""
import logging

__all__ = ["setup_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# third-party loggers that chat at INFO level (torch.onnx's onnxscript/onnx_ir optimizer passes,
# matplotlib's font cache)
QUIET_LOGGERS = ("onnxscript", "onnx_ir", "matplotlib", "torch.onnx")


def setup_logging(verbose: bool = False, *, rank: int = 0) -> None:
    """Configure the root logger for a CLI run.

    Args:
        verbose: DEBUG level instead of INFO.
        rank: distributed rank; ranks other than 0 only log warnings and errors, so a
            ``torchrun`` job prints one copy of every message.
    """
    level = logging.DEBUG if verbose else logging.INFO
    if rank != 0:
        level = logging.WARNING
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
