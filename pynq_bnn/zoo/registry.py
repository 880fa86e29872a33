# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Registry of model presets: name -> keyword-only constructor.

``build("cnv")`` builds a preset; ``from_config(model.config)`` rebuilds the exact model a
checkpoint was trained with (the config's ``name`` selects the constructor, the rest are its
keyword arguments).
"""
from dataclasses import dataclass
from typing import Callable

__all__ = ["Preset", "register", "build", "from_config", "list_presets", "get_preset"]


@dataclass(frozen=True)
class Preset:
    """A model preset.

    Attributes:
        name: preset name (``--model``).
        constructor: keyword-only builder of the model.
        dataset: ``"mnist"`` or ``"cifar10"``.
        description: one line for listings.
        board: the board its overlay is built for when none is named (the smallest known board
            that the calibrated area model lets it fit).
    """

    name: str
    constructor: Callable
    dataset: str
    description: str
    board: str = "pynq-z2"


_PRESETS: dict = {}


def register(name: str, constructor: Callable, *, dataset: str, description: str,
             board: str = "pynq-z2") -> None:
    """Register a preset (called once per preset from :mod:`pynq_bnn.zoo`)."""
    _PRESETS[name] = Preset(name, constructor, dataset, description, board)


def get_preset(name: str) -> Preset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; available presets: {', '.join(list_presets())}") from None


def list_presets() -> list:
    """Names of all registered presets, sorted."""
    return sorted(_PRESETS)


def build(name: str, **options):
    """Build preset ``name`` with keyword ``options`` overriding its defaults."""
    return get_preset(name).constructor(**options)


def from_config(config: dict):
    """Rebuild a model from its JSON config (as stored in checkpoints)."""
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError("model config must be a dict with a 'name' key (see model.config)")
    options = {k: v for k, v in config.items() if k not in ("name", "dataset")}
    try:
        return build(config["name"], **options)
    except TypeError as err:
        raise ValueError(f"model config does not match preset {config['name']!r}: {err}") from None
