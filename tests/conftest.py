# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Shared fixtures: the real-data directory and per-test seeding."""
import os
import random
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    # One torch thread per test process: the suite runs as 2 xdist workers on 2 cores, and
    # oversubscribed BLAS threads make small steps many times slower.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def find_data_dir():
    """``$PYNQ_BNN_DATA`` or ``../shared/data`` beside the checkout (None when absent)."""
    candidates = [os.environ.get("PYNQ_BNN_DATA"), REPO_ROOT.parent / "shared" / "data",
                  REPO_ROOT / "shared" / "data"]
    for cand in candidates:
        if cand and (Path(cand) / "mnist").is_dir() and (Path(cand) / "cifar10").is_dir():
            return Path(cand)
    return None


@pytest.fixture(scope="session")
def data_dir():
    path = find_data_dir()
    if path is None:
        pytest.skip("real MNIST/CIFAR-10 not found: set PYNQ_BNN_DATA to the shared data folder")
    return path


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:  # pragma: no cover
        pass


@pytest.fixture(scope="session")
def package_cache_dir(request, tmp_path_factory):
    """A folder kept between runs for built demo overlay packages (pytest's cache when enabled)."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return cache.mkdir("pynq_bnn_packages")
    return tmp_path_factory.mktemp("pynq_bnn_packages")
