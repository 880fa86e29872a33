# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""PYNQ driver of pynq_bnn overlays, with a simulated device for runs off the board.

* :mod:`~pynq_bnn.driver.spec` — the ``accelerator.json`` schema (:class:`AcceleratorSpec`).
* :mod:`~pynq_bnn.driver.packing` — images -> stream words -> results (pure numpy).
* :mod:`~pynq_bnn.driver.device_sim` — a ``pynq.Device`` that emulates the AXI DMA and runs the
  compiled accelerator (numpy reference of the dataflow graph).
* :mod:`~pynq_bnn.driver.overlay` — :class:`BNNOverlay`: ``predict`` and ``benchmark``.
* :mod:`~pynq_bnn.driver.identity` — the model identity register (hash of graph + parameters).
* :mod:`~pynq_bnn.driver.timing` — measured / simulated / estimated labels of the numbers.

Importing this package does not import ``pynq``; the classes below load on first use.
"""
from importlib import import_module

from pynq_bnn.driver.errors import (DMAError, DMAResetError, DMATimeoutError, DriverError,
                                    HwhMismatchError, IdentityMismatchError, InputError,
                                    OverlayFileError, SimulatedDeviceWarning, SpecError)
from pynq_bnn.driver.packing import pack_input, pack_stream, unpack_output, unpack_stream
from pynq_bnn.driver.spec import AcceleratorSpec, StreamSpec, load_spec, save_spec
from pynq_bnn.driver.timing import format_benchmark, package_estimate

_LAZY = {
    "BNNOverlay": "pynq_bnn.driver.overlay",
    "SimulatedDevice": "pynq_bnn.driver.device_sim",
    "use_simulated_device": "pynq_bnn.driver.device_sim",
    "make_package": "pynq_bnn.driver.package",
}

__all__ = ["AcceleratorSpec", "StreamSpec", "load_spec", "save_spec", "pack_input", "pack_stream",
           "unpack_output", "unpack_stream", "DriverError", "SpecError", "OverlayFileError",
           "HwhMismatchError", "IdentityMismatchError", "InputError", "DMAError",
           "DMATimeoutError", "DMAResetError", "SimulatedDeviceWarning", "format_benchmark",
           "package_estimate", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pynq_bnn.driver' has no attribute {name!r}")
