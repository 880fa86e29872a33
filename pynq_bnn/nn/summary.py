# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``pynq_bnn.summary(model)``: per-layer 1-bit vs full-precision parameters and MACs.

Parameters: the weight of every binary layer (:class:`~pynq_bnn.nn.layers.BinaryConv2d`,
:class:`~pynq_bnn.nn.layers.BinaryLinear` and their subclasses) counts as 1-bit; every other
parameter (BN, biases, FP/8-bit layers, technique parameters such as WSD's ``α``) counts as
full precision ("fp"), as stored in the training checkpoint.

MACs are measured with forward hooks on one dummy image (valid pixels ``p/255``), per conv/linear:
``MACs = output elements × (in_channels / groups) × kernel area`` (linear: ``× in_features``).
A MAC is *binary* when the weight is binary and the layer's input holds only ``±c`` (XNOR-popcount
in hardware); otherwise it counts in ``fp_macs`` (this includes integer MACs such as the 8-bit
pixel × ±1 first layer of CNV, LAB's int8 depthwise kernel and SD-BNN's SE branch). FracBNN's
gated 2-bit convs (modules with ``skip_fraction()``) count two binary planes, the LSB plane only
where the gate was open on the dummy image.

Example:
    >>> from pynq_bnn import zoo
    >>> s = summary(zoo.build("lfc", hidden=(64,)))
    >>> s.totals["binary_macs"], s.totals["one_bit_params"]
    (50816, 50816)
"""
from dataclasses import asdict, dataclass

import torch

from pynq_bnn.nn.layers import BinaryConv2d, BinaryLinear

__all__ = ["LayerCost", "ModelSummary", "summary"]


@dataclass
class LayerCost:
    """Cost of one module (its own parameters, not its children's)."""

    name: str
    kind: str
    output_shape: tuple
    one_bit_params: int = 0
    fp_params: int = 0
    binary_macs: int = 0
    fp_macs: int = 0


@dataclass
class ModelSummary:
    """Per-layer costs plus totals; ``str()`` is a table."""

    model_name: str
    layers: list
    totals: dict

    def table(self) -> str:
        header = (f"{'layer':<28}{'kind':<22}{'output':<18}{'1-bit params':>13}"
                  f"{'fp params':>11}{'binary MACs':>13}{'fp MACs':>12}")
        rows = [f"{self.model_name} summary", header, "-" * len(header)]
        for layer in self.layers:
            rows.append(f"{layer.name[:27]:<28}{layer.kind[:21]:<22}"
                        f"{str(list(layer.output_shape)):<18}{layer.one_bit_params:>13,}"
                        f"{layer.fp_params:>11,}{layer.binary_macs:>13,}{layer.fp_macs:>12,}")
        t = self.totals
        rows += ["-" * len(header),
                 f"{'total':<68}{t['one_bit_params']:>13,}{t['fp_params']:>11,}"
                 f"{t['binary_macs']:>13,}{t['fp_macs']:>12,}",
                 f"memory: {t['one_bit_params'] / 8 / 1024:.1f} KiB binary weights + "
                 f"{t['fp_params'] * 4 / 1024:.1f} KiB fp32 parameters"]
        return "\n".join(rows)

    def as_dict(self) -> dict:
        return {"model": self.model_name, "totals": dict(self.totals),
                "layers": [asdict(layer) for layer in self.layers]}

    def __str__(self) -> str:
        return self.table()


def _is_binary_tensor(x: torch.Tensor) -> bool:
    magnitude = x.detach().abs()
    if not x.numel() or not bool(magnitude.max() > 0):
        return False
    return bool((magnitude == magnitude.max()).all())


def _macs_per_output(module) -> int:
    if isinstance(module, torch.nn.Conv2d):
        kh, kw = module.kernel_size
        return (module.in_channels // module.groups) * kh * kw
    return module.in_features


def _layer_macs(module, inputs, output) -> tuple:
    """``(binary_macs, fp_macs)`` of one conv/linear call on a batch of one image."""
    total = (output.numel() // output.shape[0]) * _macs_per_output(module)
    binary_weight = isinstance(module, (BinaryConv2d, BinaryLinear))
    if binary_weight and hasattr(module, "skip_fraction"):  # FracBNN: MSB plane + gated LSB
        return total + round(total * (1.0 - module.skip_fraction())), 0
    if binary_weight and _is_binary_tensor(inputs[0]):
        return total, 0
    return 0, total


def summary(model: torch.nn.Module, input_shape=None) -> ModelSummary:
    """Measure per-layer parameters and MACs of ``model`` on one dummy image.

    Args:
        model: a zoo model (``input_shape`` is taken from it) or any module.
        input_shape: ``(C, H, W)`` when the model has no ``input_shape`` attribute.

    Returns:
        A :class:`ModelSummary` (``str()`` is the table, ``as_dict()`` a JSON-able dict).
    """
    shape = tuple(input_shape or getattr(model, "input_shape", ()))
    if not shape:
        raise ValueError("summary needs input_shape=(C, H, W) for a model without input_shape")
    costs, order, hooks = {}, [], []
    binary_layers = (BinaryConv2d, BinaryLinear)
    one_bit_ids = {id(m.weight) for m in model.modules() if isinstance(m, binary_layers)}

    def record(name, module):
        def hook(mod, inputs, output):
            if not isinstance(output, torch.Tensor):
                return
            cost = costs.setdefault(
                name, LayerCost(name, type(mod).__name__, tuple(output.shape[1:])))
            if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
                binary, fp = _layer_macs(mod, inputs, output)
                cost.binary_macs += binary
                cost.fp_macs += fp
            if name not in order:
                order.append(name)
        return hook

    for name, module in model.named_modules():
        if name and (list(module.parameters(recurse=False)) or
                     isinstance(module, (torch.nn.Conv2d, torch.nn.Linear))):
            hooks.append(module.register_forward_hook(record(name, module)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.randint(0, 256, (1,) + shape).float() / 255.0)
    finally:
        model.train(was_training)
        for handle in hooks:
            handle.remove()
    modules = dict(model.named_modules())
    for name, module in modules.items():
        params = list(module.parameters(recurse=False))
        if not name or not params:
            continue
        cost = costs.get(name)
        if cost is None:  # parameters of a module the dummy pass did not call
            cost = costs[name] = LayerCost(name, type(module).__name__, ())
            order.append(name)
        for p in params:
            if id(p) in one_bit_ids:
                cost.one_bit_params += p.numel()
            else:
                cost.fp_params += p.numel()
    layers = [costs[name] for name in order]
    keys = ("one_bit_params", "fp_params", "binary_macs", "fp_macs")
    totals = {k: sum(getattr(layer, k) for layer in layers) for k in keys}
    model_name = getattr(model, "config", {}).get("name", type(model).__name__)
    return ModelSummary(model_name, layers, totals)
