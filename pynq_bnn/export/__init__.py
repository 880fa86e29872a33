# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""QONNX export of zoo models and its verification against torch.

CLI: ``python -m pynq_bnn.export --checkpoint CKPT --out model.onnx [--data-dir D
--verify-images N]`` exits non-zero, naming the images, if torch and QONNX disagree on any.

Example::

    from pynq_bnn.checkpoint import load_model
    from pynq_bnn.export import export_qonnx, verify_export
    model, _ = load_model("lfc.pt")
    wrapper = export_qonnx(model, "lfc.onnx")
    verify_export(model, wrapper, images_uint8, labels).raise_if_failed()
"""
from pynq_bnn.export.qonnx_export import EXPORT_INPUT_NAME, ExportError, export_qonnx
from pynq_bnn.export.verify import ExportVerification, batched_graph, run_qonnx, verify_export

__all__ = ["export_qonnx", "verify_export", "ExportVerification", "ExportError", "batched_graph",
           "run_qonnx", "EXPORT_INPUT_NAME"]
