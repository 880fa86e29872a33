# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""How many CPUs this process may use (parallel numpy execution chunks, csim processes)."""
import os

__all__ = ["usable_cpus"]


def usable_cpus() -> int:
    """The CPUs of this process's affinity mask (Linux), else ``os.cpu_count()``; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
