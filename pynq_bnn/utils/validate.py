# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Up-front validation of user input: names, numbers, output paths; one error style.

Every command-line tool checks its options with these helpers *before* any long step, so a bad
value is reported in one line, with what to do, and exit status 2 — never after an epoch of
training or a whole build, never as a traceback. The checks are plain functions raising
:class:`InputError` (a ``ValueError``), and :func:`arg` wraps one as an ``argparse`` ``type=``
(argparse then prints ``error: argument --x: ...`` and exits 2).

Names that reach file paths or Tcl (model/package names) must match :data:`NAME_PATTERN`: a
letter, then letters, digits, ``_`` or ``-`` (at most 64) — no ``/``, ``..``, spaces, brackets or
``$``, so a name can neither leave its folder nor run a Tcl command.
"""
from __future__ import annotations

import argparse
import difflib
import math
import numbers
import os
import re
from pathlib import Path

__all__ = ["InputError", "NAME_PATTERN", "check_name", "unknown_name_error", "check_choice",
           "check_int", "check_float", "arg", "check_output_file", "check_output_dir",
           "check_device", "os_error_message"]

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class InputError(ValueError):
    """A user-supplied value is invalid; the message says which and what to do instead."""


def unknown_name_error(what: str, name, choices) -> InputError:
    """``unknown <what> 'x'; did you mean 'y'? (choices: ...)`` with the nearest valid name."""
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(name).lower(), [c.lower() for c in choices], n=1,
                                      cutoff=0.4)
    hint = ""
    if close:
        hint = f"; did you mean {next(c for c in choices if c.lower() == close[0])!r}?"
    return InputError(f"unknown {what} {name!r}{hint} (choices: {', '.join(choices)})")


def check_name(name, what: str = "name") -> str:
    """``name`` if it matches :data:`NAME_PATTERN`, else :class:`InputError`."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InputError(f"invalid {what} {name!r}: use a letter followed by letters, digits, "
                         "'_' or '-' (at most 64 characters)")
    return name


def check_choice(name, choices, what: str = "name") -> str:
    """``name`` if it is one of ``choices`` (after :func:`check_name`), else the nearest one is
    suggested."""
    check_name(name, what)
    if name not in choices:
        raise unknown_name_error(what, name, choices)
    return name


def check_int(value, option: str, *, minimum: int = None, maximum: int = None) -> int:
    """A whole number (not a bool, not 4.9; ``"12"`` from a command line is fine) within
    ``[minimum, maximum]``."""
    if isinstance(value, str):
        try:
            value = int(value.strip(), 10)
        except ValueError:
            raise InputError(f"{option} must be a whole number, got {value!r}") from None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{option} must be a whole number, got {value!r}")
    value = int(value)
    _check_range(value, option, minimum, maximum)
    return value


def check_float(value, option: str, *, minimum: float = None, maximum: float = None,
                positive: bool = False) -> float:
    """A finite number within ``[minimum, maximum]`` (strictly above 0 with ``positive``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InputError(f"{option} must be a finite number, got {value!r}")
    if positive and number <= 0:
        raise InputError(f"{option} must be positive, got {value!r}")
    _check_range(number, option, minimum, maximum)
    return number


def _check_range(value, option, minimum, maximum) -> None:
    if minimum is not None and value < minimum:
        raise InputError(f"{option} must be at least {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{option} must be at most {maximum}, got {value!r}")


def arg(check, **limits):
    """An ``argparse`` ``type=`` callable applying ``check(text, option, **limits)``."""
    def parse(text):
        try:
            return check(text, "the value", **limits)
        except InputError as err:
            raise argparse.ArgumentTypeError(str(err).replace("the value ", "")) from None

    parse.__name__ = check.__name__.replace("check_", "")  # argparse names the type in errors
    return parse


def _writable_folder(folder: Path, option: str) -> None:
    """The nearest existing ancestor of ``folder`` is a writable directory."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{option}: {probe} is a file, not a folder; choose another path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{option}: cannot write in {probe} (permission denied); choose a "
                         "writable path")


def check_output_file(path, option: str) -> Path:
    """``path`` can be written as a file: not a folder, its folder writable (checked at start)."""
    if path is None or str(path) == "":
        raise InputError(f"{option} needs a file path")
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder; give a file path")
    if path.exists() and not os.access(path, os.W_OK) and not os.access(path.parent, os.W_OK):
        raise InputError(f"{option}: {path} is not writable; choose another path")
    _writable_folder(path.parent, option)
    return path


def check_output_dir(path, option: str) -> Path:
    """``path`` is, or can be created as, a writable folder (checked at start)."""
    if path is None or str(path) == "":
        raise InputError(f"{option} needs a folder path")
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{option}: {path} is a file; give a folder path")
    _writable_folder(path, option)
    return path


DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d{1,2})?|mps")


def check_device(device) -> str | None:
    """``None``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; CUDA must be present when asked."""
    if device is None:
        return None
    if not isinstance(device, str) or not DEVICE_PATTERN.fullmatch(device):
        raise InputError(f"unknown --device {device!r}; use cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise InputError(f"--device {device}: no CUDA device is available; use --device cpu")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InputError(f"--device {device}: only {torch.cuda.device_count()} CUDA "
                             "device(s); use cuda:0")
    return device


def os_error_message(err: OSError) -> str:
    """One line for a file-system error (full disk, permissions), naming the file."""
    import errno

    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    if err.errno == errno.ENOSPC:
        return f"no space left on the device{where}; free some space and run again"
    return f"{err.strerror or err}{where}"
