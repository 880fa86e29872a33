# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Driver fixtures: a small package with an injected accelerator function (fault tests) and a
package compiled from a real model (equivalence tests)."""
import json

import numpy as np
import pytest

from pynq_bnn.driver import BNNOverlay
from pynq_bnn.driver.device_sim import use_simulated_device
from pynq_bnn.driver.spec import AcceleratorSpec, StreamSpec, save_spec


def checksum_accelerator(images):
    """Stand-in PL for register/fault tests: class = (sum of pixels) mod 10, top-2."""
    first = images.reshape(len(images), -1).astype(np.int64).sum(1) % 10
    return np.stack([first, (first + 1) % 10], axis=1)


def write_small_package(directory, *, ip_control="ap_ctrl_hs", word_bits=64):
    spec = AcceleratorSpec(
        model="checksum", board="Pynq-Z2", clock_mhz=100.0,
        input=StreamSpec.create((5, 4, 3), "uint8", "NHWC", 8, word_bits),
        output=StreamSpec.create((2,), "uint8", "NK", 8, word_bits),
        classes=tuple(f"c{i}" for i in range(10)), files={"graph": "graph.json"},
        ip_control=ip_control)
    save_spec(spec, directory)
    (directory / "graph.json").write_text(json.dumps({"note": "not used: accelerator injected"}))
    return spec


def random_images(n, seed=0):
    """``n`` random uint8 NHWC images of the small package's (5, 4, 3) input."""
    return np.random.default_rng(seed).integers(0, 256, (n, 5, 4, 3), dtype=np.uint8)


@pytest.fixture
def small_package(tmp_path):
    write_small_package(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def cifar_package(data_dir, package_cache_dir):
    """Package of a real (narrow, BN-calibrated) CNV compiled by compile_qonnx; cached between
    sessions under .pytest_cache, keyed by a hash of the sources."""
    from pynq_bnn.driver.demo import demo_package

    return demo_package("cifar10", package_cache_dir, data_dir=data_dir)


@pytest.fixture(scope="session")
def mnist_package(data_dir, package_cache_dir):
    from pynq_bnn.driver.demo import demo_package

    return demo_package("mnist", package_cache_dir, data_dir=data_dir)


@pytest.fixture
def overlay(small_package):
    device = use_simulated_device(accelerator=checksum_accelerator)
    with BNNOverlay(small_package, device=device, timeout_s=0.2, max_batch=16) as ol:
        yield ol
