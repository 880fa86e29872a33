# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The build checks its test data first: a missing or corrupt data folder fails in seconds, not
after export and compile.

Verification and csim use the model's test split: from ``--data-dir`` / ``$PYNQ_BNN_DATA`` when
given, else the 1,000-image subset shipped inside pynq_bnn (:mod:`pynq_bnn.data.subset`), which
covers the default ``--verify-images 1000 --csim-images 1000``.
"""
from __future__ import annotations

import logging

__all__ = ["check_build_data"]

log = logging.getLogger(__name__)


def check_build_data(config) -> str | None:
    """Load (and checksum) the test images the build's verify/csim steps will use.

    Args:
        config: the :class:`~pynq_bnn.compiler.build.BuildConfig`.

    Returns:
        The data set's name (e.g. ``"cifar10/test[:1000] (shipped subset)"``), or None when the
        build does not reach a step that needs images or the model is not a zoo preset.

    Raises:
        pynq_bnn.compiler.build.BuildError: the data is missing, corrupt or too small.
    """
    from pynq_bnn.compiler.build import STEP_ORDER, BuildError
    from pynq_bnn.data import DataError, load_dataset

    first = STEP_ORDER.index(config.start) if config.start else 0
    last = STEP_ORDER.index(config.stop) if config.stop else len(STEP_ORDER) - 1
    if last < STEP_ORDER.index("verify") or first > STEP_ORDER.index("csim"):
        return None
    try:
        from pynq_bnn.zoo import get_preset

        dataset = get_preset(config.model).dataset
    except KeyError:  # a checkpoint of a model outside the zoo: its config names the data later
        return None
    try:
        data = load_dataset(dataset, "test", config.data_dir)
    except DataError as err:
        raise BuildError(f"test data for {config.model} ({dataset}): {err}") from None
    needed = max(config.verify_images, config.csim_images)
    if len(data) < needed:
        raise BuildError(f"{data.name} has {len(data):,} images but the build checks {needed:,}; "
                         "pass --data-dir with the full data (python -m pynq_bnn.data download "
                         "--dest DIR) or lower --verify-images / --csim-images")
    log.info("test images: %s (%d)", data.name, len(data))
    return data.name
