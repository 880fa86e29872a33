# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``python -m pynq_bnn.notebooks --path DIR [--force]``: copy the notebooks to ``DIR``."""
from pynq_bnn.notebooks import main

raise SystemExit(main())
