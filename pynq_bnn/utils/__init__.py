# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Small shared helpers: atomic file writes, logging setup, plotting, module inspection.

Nothing here has side effects at import time; :mod:`matplotlib` is imported lazily by the plotting
helpers only.
"""
from pynq_bnn.utils.atomic import (atomic_open, atomic_write_bytes, atomic_write_json,
                                   atomic_write_text)
from pynq_bnn.utils.log import setup_logging

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
           "setup_logging"]
