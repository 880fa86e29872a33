# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Deliver the pynq_bnn notebooks, and the small lookups they share (data, overlays).

Command line (any machine)::

    python -m pynq_bnn.notebooks --path ~/jupyter_notebooks/pynq_bnn [--force]

PYNQ's own command does the same (on a board; off a board add ``-o``, which skips the device
lookup and the overlay-resource resolution)::

    pynq get-notebooks pynq_bnn [-o] [-p PATH] [-f]

How pynq gets here (pynq 4.0.0 ``pynq/_cli/get_notebooks.py`` + pynqutils'
``ExtensionsManager``): the package declares the entry point
``"pynq.notebooks": ["pynq_bnn = pynq_bnn.notebooks"]``; pynq loads this module, asks
pynqutils for its source folder (the first entry of the module's ``__path__``, which is why this
is a package and not a plain module), and, because the module defines :func:`deliver_notebooks`
with pynqutils' signature, calls it instead of copying that folder (which holds Python files).

Notebooks are looked up in the checkout's ``notebooks/`` folder or, in an installed package, in
``pynq_bnn/_notebooks/`` (the copy made by ``setup.py``'s ``build_py``).
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
from pathlib import Path

__all__ = ["notebooks_source", "copy_notebooks", "deliver_notebooks", "find_data_dir",
           "find_overlay", "main"]

log = logging.getLogger(__name__)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the pynq_bnn package folder
OVERLAY_PREFERENCE = ("fracbnn", "cnv")


def notebooks_source() -> Path:
    """Folder holding the ``.ipynb`` files (checkout or installed copy)."""
    checkout = _PACKAGE_DIR.parent
    candidates = [_PACKAGE_DIR / "_notebooks"]
    if (checkout / "setup.py").is_file():  # a source checkout (never site-packages/notebooks)
        candidates.insert(0, checkout / "notebooks")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise FileNotFoundError("pynq_bnn notebooks not found: expected <checkout>/notebooks or an "
                            "installed pynq_bnn/_notebooks folder")


def copy_notebooks(destination, *, force: bool = False) -> list:
    """Copy every notebook into ``destination``; existing files are kept unless ``force``.

    Returns:
        The paths written.
    """
    destination = Path(destination).expanduser()
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for notebook in sorted(notebooks_source().glob("*.ipynb")):
        target = destination / notebook.name
        if target.exists() and not force:
            log.info("keeping existing %s (use force to overwrite)", target)
            continue
        shutil.copy2(notebook, target)
        written.append(target)
    return written


def deliver_notebooks(device_name, src_path, dst_path, name, folder=False,
                      overlays_res_lookup=True):
    """pynq ``get-notebooks`` hook (signature of ``pynqutils.setup_utils.deliver_notebooks``).

    Copies the notebooks into ``dst_path/name`` (``folder=True``, pynq's default) or
    ``dst_path``, overwriting (pynq only calls this for a first delivery or with ``--force``).
    ``device_name``, ``src_path`` (this package's folder) and ``overlays_res_lookup`` are unused:
    the notebooks find their overlay packages at run time (:func:`find_overlay`).

    Returns:
        The paths written.
    """
    target = Path(dst_path) / name if folder else Path(dst_path)
    return copy_notebooks(target, force=True)


def find_data_dir():
    """``$PYNQ_BNN_DATA``, else ``shared/data`` beside or above the working directory/checkout,
    else None (``load_dataset`` then uses the test subset shipped with pynq_bnn)."""
    env = os.environ.get("PYNQ_BNN_DATA")
    candidates = [Path(env)] if env else []
    for base in (Path.cwd(), _PACKAGE_DIR.parent):
        candidates += [base / "shared" / "data", base.parent / "shared" / "data",
                       base.parent.parent / "shared" / "data"]
    for path in candidates:
        if (path / "cifar10").is_dir() or (path / "mnist").is_dir():
            return path.resolve()
    return None


def find_overlay(input_shape=(32, 32, 3), prefer=OVERLAY_PREFERENCE):
    """An overlay package (``overlays/<name>/``) whose input is ``input_shape``, or ``None``.

    Searches ``$PYNQ_BNN_OVERLAYS``, then ``overlays/`` of the checkout and of the working
    directory's parent; packages named in ``prefer`` come first.
    """
    from pynq_bnn.driver import DriverError, load_spec

    roots = [Path(p) for p in (os.environ.get("PYNQ_BNN_OVERLAYS"),) if p]
    roots += [_PACKAGE_DIR.parent / "overlays", Path.cwd().parent / "overlays"]
    found = []
    for root in roots:
        for spec_file in sorted(root.glob("*/accelerator.json")):
            try:
                spec = load_spec(spec_file)
            except DriverError as err:
                log.warning("skipping %s: %s", spec_file.parent, err)
                continue
            if tuple(spec.input.shape) == tuple(input_shape):
                found.append(spec_file.parent)
    rank = {name: i for i, name in enumerate(prefer)}
    found.sort(key=lambda p: rank.get(p.name, len(rank)))
    return found[0] if found else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.notebooks",
                                     description="Copy the pynq_bnn notebooks to a folder.")
    parser.add_argument("--path", required=True, help="destination folder (created if needed)")
    parser.add_argument("--force", action="store_true", help="overwrite existing notebooks")
    args = parser.parse_args(argv)
    written = copy_notebooks(args.path, force=args.force)
    print(f"copied {len(written)} notebook(s) to {Path(args.path).expanduser()}")
    return 0

