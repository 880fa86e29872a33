# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Small untrained-but-calibrated networks for demos and tests of the driver path.

``calibrated_model(dataset, images)`` builds a narrow CNV (CIFAR-10) or LFC (MNIST) and sets every
BatchNorm's running statistics from ``images`` (one forward pass in training mode with cumulative
averaging), so each sign activation splits the data roughly in half and the network's predictions
vary from image to image, as a trained one's do. The weights are random: accuracy is chance level.
Use a trained checkpoint (``pynq_bnn.train``) for anything but exercising the deployment chain.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import torch

__all__ = ["calibrated_model", "demo_package", "default_cache_dir", "TINY_PRESETS"]

SOURCE_DIRS = ("compiler", "export", "zoo", "nn", "driver")
CALIBRATION_IMAGES = 256

TINY_PRESETS = {
    "cifar10": ("cnv", {"convs": ((16, False), (16, True), (32, False), (32, True), (32, False),
                                  (32, False)), "fcs": (64,)}),
    "mnist": ("lfc", {"hidden": (64, 64)}),
}


def calibrated_model(dataset: str, images, *, seed: int = 0):
    """A narrow zoo model for ``dataset`` with BatchNorm statistics calibrated on ``images``.

    Args:
        dataset: ``"cifar10"`` or ``"mnist"``.
        images: uint8 ``(N, C, H, W)`` images (a few hundred are plenty).
        seed: torch seed of the random weights.
    """
    from pynq_bnn import zoo

    if dataset not in TINY_PRESETS:
        raise ValueError(f"dataset must be one of {sorted(TINY_PRESETS)}, got {dataset!r}")
    name, options = TINY_PRESETS[dataset]
    torch.manual_seed(seed)
    model = zoo.build(name, **options)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # cumulative average over the calibration pass
    model.train()
    with torch.no_grad():
        model(zoo.to_model_input(images))
    return model.eval()


def _sources_digest() -> str:
    """Hash of the sources that shape a package (so a cached package is never stale)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for folder in SOURCE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".py", ".hpp", ".j2", ".json") and path.is_file():
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$PYNQ_BNN_CACHE`` or ``~/.cache/pynq_bnn``."""
    return Path(os.environ.get("PYNQ_BNN_CACHE") or Path.home() / ".cache" / "pynq_bnn")


def demo_package(dataset: str, cache_dir=None, *, data_dir=None) -> Path:
    """Overlay package of :func:`calibrated_model` for ``dataset``, built once into ``cache_dir``
    (default :func:`default_cache_dir`).

    The package folder name carries a hash of the compiler/export/zoo/nn/driver sources, so any
    source change rebuilds it. Calibration uses the last 256 images of the test split (the
    demos classify the first ones). Safe under concurrent callers (build in a temp dir + rename).

    Returns:
        The package directory (``accelerator.json``, ``graph.json``, ``params.npz``, ``model.onnx``).
    """
    from pynq_bnn.data import load_dataset
    from pynq_bnn.driver.package import package_from_model

    target = Path(cache_dir or default_cache_dir()) / f"demo-{dataset}-{_sources_digest()}"
    if (target / "accelerator.json").is_file():
        return target
    test = load_dataset(dataset, "test", data_dir=data_dir)
    model = calibrated_model(dataset, test.images[-CALIBRATION_IMAGES:])
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    try:
        package_from_model(model, staging, classes=test.classes, model=f"demo-{dataset}")
        try:
            os.replace(staging, target)
        except OSError:  # another process finished first
            if not (target / "accelerator.json").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
