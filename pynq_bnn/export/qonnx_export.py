# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Export a zoo model to a clean QONNX graph (the compiler's input).

Steps: ``model.eval()``; Brevitas :func:`brevitas.export.export_qonnx` with a ``(1, *input_shape)``
example (batch size 1; graph input ``"global_in"`` = ``p / 255`` float32 NCHW, output
``"global_out"`` = logits); :func:`qonnx.util.cleanup.cleanup_model` (shape inference, constant
folding, readable tensor names); the bytes are written atomically; the model's train/eval mode is
restored. Binary weights and activations appear as QONNX ``BipolarQuant`` nodes, the 8-bit input
as ``Quant`` (see :mod:`pynq_bnn.nn.recipes` for the two Brevitas traps this relies on avoiding).

Exporter: the TorchScript-based ``torch.onnx`` exporter (``dynamo=False``) is used. On the 2-core
laptop it takes ~0.4 s for LFC where the default dynamo exporter (torch.export + onnxscript
optimizer) takes ~7 s, and its graphs are the classic FINN/QONNX form (``Flatten`` + ``MatMul``
instead of a batch-specific ``Reshape`` constant + ``Gemm``). If it fails for a model, the dynamo
exporter is tried and a warning logged; the compiler accepts both forms.
"""
import contextlib
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch

from pynq_bnn.checkpoint import unwrap_model
from pynq_bnn.utils.atomic import atomic_write_bytes

__all__ = ["export_qonnx", "EXPORT_INPUT_NAME", "ExportError", "model_name", "resolve_input_shape"]

log = logging.getLogger(__name__)

EXPORT_INPUT_NAME = "global_in"


class ExportError(RuntimeError):
    """The model could not be exported, or the exported graph does not match the model."""


def _brevitas_export(export_fn, model, example, path, *, dynamo: bool) -> None:
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # the torch.onnx exporter prints progress
        export_fn(model, args=example, export_path=str(path), input_names=[EXPORT_INPUT_NAME],
                  dynamo=dynamo)
    log.debug("torch.onnx export output:\n%s", chatter.getvalue())


def _remove_stale_export_dirs(folder: Path) -> None:
    """Remove ``.export.<pid>.*`` work folders of exports that were killed (pid not running)."""
    for entry in folder.glob(".export.*"):
        pid = entry.name.split(".")[2] if entry.name.count(".") >= 3 else ""
        if not pid.isdigit() or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass


def model_name(model) -> str:
    """``model.config["name"]`` for zoo models, else the class name (any ``nn.Module``)."""
    config = getattr(model, "config", None)
    name = config.get("name") if isinstance(config, dict) else None
    return str(name or type(model).__name__)


def resolve_input_shape(model, input_shape=None) -> tuple:
    """The per-image input shape ``(C, H, W)`` (or ``(K,)``): the argument, else
    ``model.input_shape``; raises :class:`ExportError` saying what to pass when neither is set."""
    shape = tuple(int(d) for d in (input_shape if input_shape is not None
                                   else getattr(model, "input_shape", ()) or ()))
    if not shape or any(d <= 0 for d in shape):
        raise ExportError(f"{type(model).__name__} has no input_shape: pass "
                          "input_shape=(C, H, W) (one image, without the batch dimension)")
    return shape


def export_qonnx(model: torch.nn.Module, path, *, input_shape=None):
    """Export ``model`` to QONNX at ``path`` and return the cleaned ``ModelWrapper``.

    Any ``nn.Module`` built from Brevitas layers exports; its input is ``p / 255`` (float32,
    NCHW) for uint8 pixels ``p``, the convention of :func:`pynq_bnn.zoo.to_model_input` that the
    compiler's integer pixel input relies on.

    Args:
        model: a :class:`pynq_bnn.zoo.BNNModel` or any Brevitas ``nn.Module`` (exported in eval
            mode; parameters unchanged).
        path: ``.onnx`` file to write (atomically; parent folders are created).
        input_shape: per-image input shape ``(C, H, W)``; default ``model.input_shape``.

    Returns:
        qonnx ``ModelWrapper`` of the written graph.

    Raises:
        ExportError: no input shape is known or the exported input is not ``global_in``.
    """
    from brevitas.export import export_qonnx as brevitas_export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    model = unwrap_model(model)
    input_shape = resolve_input_shape(model, input_shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
    device = next(iter(model.parameters()), torch.zeros(())).device
    example = torch.rand((1, *input_shape), generator=torch.Generator().manual_seed(0)).to(device)
    _remove_stale_export_dirs(path.parent)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".export.{os.getpid()}.", dir=path.parent))
    try:
        raw = tmp_dir / "raw.onnx"
        try:
            _brevitas_export(brevitas_export_qonnx, model, example, raw, dynamo=False)
        except Exception as err:  # noqa: BLE001 - retried with the other exporter, then raised
            log.warning("TorchScript ONNX export failed (%s: %s); retrying with dynamo=True",
                        type(err).__name__, err)
            _brevitas_export(brevitas_export_qonnx, model, example, raw, dynamo=True)
        wrapper = cleanup_model(ModelWrapper(str(raw)))
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        model.train(was_training)
    inputs = [i.name for i in wrapper.graph.input]
    if inputs != [EXPORT_INPUT_NAME]:
        raise ExportError(f"exported graph has inputs {inputs}, expected [{EXPORT_INPUT_NAME!r}]")
    atomic_write_bytes(path, wrapper.model.SerializeToString())
    log.info("exported %s to %s (%d nodes)", model_name(model), path,
             len(wrapper.graph.node))
    return wrapper
