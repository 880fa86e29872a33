# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Experiments: ``python -m pynq_bnn.experiments.compare`` (seed techniques under one budget)."""
