# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The model identity: a 32-bit hash of a compiled dataflow graph and its parameters.

The HLS top (``compiler/hls/topgen.py``) writes this constant to a read-only ``s_axilite``
register (byte offset ``registers["identity"]`` of ``accelerator.json``, 0x18) on every run; the
package records it as ``identity`` in ``accelerator.json``; the simulated device computes it from
the package's ``graph.json``/``params.npz`` (its "bitstream"). :class:`~pynq_bnn.driver.BNNOverlay`
starts one empty run (``num_images = 0``), reads the register and refuses a PL whose value
differs, which catches what the ``.hwh`` check cannot: a bitstream of *another model* with the
same stream widths (e.g. a retrained network copied with the wrong ``.bit``).

Definition (pure json + numpy, so the runtime never imports the compiler)::

    sha256( canonical_json(graph.json) || for name in sorted(params):
            name, 0x00, dtype.str, 0x00, shape, 0x00, C-order bytes )[:4]  (little-endian)

``canonical_json`` = ``json.dumps(obj, sort_keys=True, separators=(",", ":"))`` of the decoded
``graph.json``. 32 bits suffice to tell builds apart (chance of a false match 2**-32); it is a
consistency check, not a security feature.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

__all__ = ["graph_identity", "package_identity", "format_identity"]


def graph_identity(graph_dict: dict, arrays: dict) -> int:
    """Identity of a graph given as its ``graph.json`` object and its named parameter arrays."""
    digest = hashlib.sha256()
    digest.update(json.dumps(graph_dict, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return int.from_bytes(digest.digest()[:4], "little")


def package_identity(graph_path, params_path=None) -> int:
    """Identity of a saved graph (``graph.json`` and, when it exists, ``params.npz``)."""
    graph_dict = json.loads(Path(graph_path).read_text(encoding="utf-8"))
    arrays = {}
    if params_path is not None and Path(params_path).is_file():
        with np.load(params_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    return graph_identity(graph_dict, arrays)


def format_identity(value: int) -> str:
    """``accelerator.json`` spelling of an identity: ``0x`` + 8 lower-case hex digits."""
    return f"0x{value & 0xFFFFFFFF:08x}"
