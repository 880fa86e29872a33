# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Base class of every zoo model: a JSON config and input validation.

Input contract (all models, all datasets): a float32 tensor ``x = p / 255`` of shape
``(N, *input_shape)``, where ``p`` are the uint8 pixels (CIFAR-10: ``(N, 3, 32, 32)`` RGB planes;
MNIST: ``(N, 1, 28, 28)``). The accelerator receives the same pixels ``p`` as uint8, so the first
layer of every model must be exactly computable from ``p``. Use :func:`to_model_input` to convert.
"""
import json

import numpy as np
import torch

__all__ = ["BNNModel", "to_model_input", "ModelInputError"]


class ModelInputError(ValueError):
    """The tensor given to a model does not follow the input contract."""


def to_model_input(images) -> torch.Tensor:
    """Convert uint8 images ``(N, C, H, W)`` (numpy or torch) to the model input ``p / 255``."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if images.dtype != torch.uint8:
        raise ModelInputError(
            f"to_model_input expects uint8 pixels, got dtype {images.dtype}; "
            "pass the raw images from pynq_bnn.data"
        )
    return images.to(torch.float32) / 255.0


class BNNModel(torch.nn.Module):
    """A zoo model: ``config`` (JSON-serializable dict) + validated ``forward``.

    Subclasses set ``input_shape`` and ``num_classes`` and implement ``forward_impl``.
    """

    input_shape: tuple = ()
    num_classes: int = 10

    def __init__(self, config: dict):
        super().__init__()
        json.dumps(config)  # fail early on non-serializable options
        self.config = dict(config)

    def validate_input(self, x) -> None:
        """Raise :class:`ModelInputError` unless ``x`` follows the input contract."""
        if not isinstance(x, torch.Tensor):
            raise ModelInputError(f"expected a torch.Tensor, got {type(x).__name__}")
        if x.dtype != torch.float32:
            hint = " (use pynq_bnn.zoo.to_model_input on uint8 images)" if x.dtype == torch.uint8 else ""
            raise ModelInputError(f"expected float32 input p/255, got {x.dtype}{hint}")
        if tuple(x.shape[1:]) != tuple(self.input_shape) or x.dim() != len(self.input_shape) + 1:
            raise ModelInputError(
                f"{self.config.get('name', type(self).__name__)} expects input of shape "
                f"(N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )
        if x.numel() and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
            raise ModelInputError(
                f"input values must lie in [0, 1] (pixels / 255), got range "
                f"[{float(x.min()):.3g}, {float(x.max()):.3g}]"
            )

    def forward(self, x):
        if not (torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()):
            self.validate_input(x)
        return self.forward_impl(x)

    def forward_impl(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def regularization_loss(self) -> torch.Tensor:
        """Extra training loss of the model's techniques (e.g. FracBNN's gate target); 0 here."""
        return torch.zeros(())
