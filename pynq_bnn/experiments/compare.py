# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Compare the seed techniques on real CIFAR-10 under one fixed budget.

``python -m pynq_bnn.experiments.compare --budget-minutes M --data-dir D
[--train-subset N --epochs E --test-subset T --models a,b --out DIR]``

Every model (``cnv`` baseline, ``cnv-thermo``, ``cnv-bitplane``, ``fracbnn``, ``sdbnn``,
``repbnn``, ``lab``) trains with the same epochs on the same first ``N`` training images (same
seed, the trainer's CIFAR-10 defaults: Adam, cosine LR, crop+flip), then is evaluated on the first
``T`` test images. Epochs and ``N`` are derived from the budget: a short calibration measures each
model's training seconds per image, and ``N·E`` is chosen so that all models together fit about
90% of the budget (evaluation included); explicit ``--train-subset`` / ``--epochs`` override it.
Writes ``compare.json``, ``compare.md`` and ``compare.png`` (see :mod:`.report`).
"""
import argparse
import logging
import time
from dataclasses import dataclass

import torch

from pynq_bnn.experiments.report import write_report

__all__ = ["MODELS", "Plan", "plan_budget", "calibrate", "train_preset", "run_comparison", "main"]

log = logging.getLogger(__name__)

MODELS = ("cnv", "cnv-thermo", "cnv-bitplane", "fracbnn", "sdbnn", "repbnn", "lab")
TRAIN_IMAGES = 50_000
BATCH = 128


@dataclass(frozen=True)
class Plan:
    """Training budget shared by every model."""

    epochs: int
    train_images: int
    test_images: int


def plan_budget(budget_s: float, seconds_per_image: dict, *, test_images: int = None) -> Plan:
    """Pick epochs, training subset and test subset that fit ``budget_s`` for all models.

    ``seconds_per_image[m]`` is model ``m``'s training cost per image (forward + backward +
    step); evaluation costs about a third of that per test image. Training data is preferred
    over epochs: the subset grows to all 50,000 images before a second epoch is added.
    """
    if budget_s <= 0:
        raise ValueError(f"budget must be positive, got {budget_s} s")
    total_spi = sum(seconds_per_image.values())
    usable = 0.9 * budget_s
    if test_images is None:
        test_images = 10_000 if usable > 4 * 10_000 * total_spi / 3 else 1_000
    images = int((usable - test_images * total_spi / 3) / max(total_spi, 1e-9))
    epochs = max(1, images // TRAIN_IMAGES)
    subset = min(TRAIN_IMAGES, max(BATCH * 2, images // epochs // BATCH * BATCH))
    return Plan(epochs=epochs, train_images=subset, test_images=test_images)


def _ensure_presets() -> None:
    """Import the preset modules that register the seed techniques."""
    import importlib

    for module in ("pynq_bnn.zoo.variants", "pynq_bnn.zoo.fracbnn"):
        try:
            importlib.import_module(module)
        except ImportError as err:
            log.warning("preset module %s not available: %s", module, err)


def calibrate(models, *, batch: int = 32, steps: int = 2) -> dict:
    """Seconds per training image of each preset (a few Adam steps on random pixels)."""
    from pynq_bnn import zoo

    costs = {}
    for name in models:
        torch.manual_seed(0)
        model = zoo.build(name).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randint(0, 256, (batch,) + tuple(model.input_shape)).float() / 255
        y = torch.randint(0, 10, (batch,))
        timings = []
        for _ in range(steps + 1):  # the first step warms up and is not timed
            start = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(model(x), y) + model.regularization_loss()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            timings.append(time.perf_counter() - start)
        costs[name] = sum(timings[1:]) / steps / batch
    return costs


def train_preset(name: str, train_set, plan: Plan, seed: int):
    """Train preset ``name`` (the one swap point for the training loop): returns the model."""
    from pynq_bnn.train import train

    result = train(name, train_set, epochs=plan.epochs, val_count=0,
                   limit_train=plan.train_images, seed=seed, progress=False, device="cpu")
    return result.model


def _gate_sparsity(model, test_set):
    """FracBNN: fraction of outputs whose LSB conv is skipped, on the first 500 test images."""
    if not hasattr(model, "gate_skip_fraction"):
        return None
    from pynq_bnn.zoo import to_model_input

    model.eval()
    with torch.no_grad():
        model(to_model_input(test_set.images[:500]))
    return float(model.gate_skip_fraction())


def _evaluate(name, model, test_set, train_time_s) -> dict:
    import pynq_bnn
    from pynq_bnn.eval import evaluate_model

    report = evaluate_model(model, test_set)
    costs = pynq_bnn.summary(model).totals
    return {"model": name, "accuracy": report.accuracy, **costs,
            "gate_sparsity": _gate_sparsity(model, test_set), "train_time_s": train_time_s,
            "config": model.config}


def run_comparison(*, budget_minutes: float, data_dir=None, models=MODELS, train_subset=None,
                   epochs=None, test_subset=None, out="runs/compare", seed: int = 0) -> dict:
    """Train and evaluate ``models`` under one plan, write the report, return a dict.

    Returns:
        ``{"setup": ..., "results": [...], "files": {...}}`` (the JSON content plus file paths).
    """
    from pynq_bnn.data import load_dataset

    _ensure_presets()
    start = time.perf_counter()
    train_set = load_dataset("cifar10", "train", data_dir)
    test_full = load_dataset("cifar10", "test", data_dir)
    seconds_per_image = None
    if train_subset is None or epochs is None:
        seconds_per_image = calibrate(models)
        plan = plan_budget(60.0 * budget_minutes, seconds_per_image, test_images=test_subset)
    else:  # both given explicitly: the budget is not used to size the run
        plan = Plan(epochs, train_subset, test_subset or len(test_full))
    plan = Plan(epochs or plan.epochs, train_subset or plan.train_images,
                min(test_subset or plan.test_images, len(test_full)))
    test_set = test_full.subset(plan.test_images)
    log.info("plan: %s", plan)
    rows = []
    for name in models:
        try:
            t0 = time.perf_counter()
            model = train_preset(name, train_set, plan, seed)
            rows.append(_evaluate(name, model, test_set, time.perf_counter() - t0))
            log.info("%s: accuracy %.4f", name, rows[-1]["accuracy"])
        except Exception as err:  # noqa: BLE001 - one failing preset must not hide the others
            log.exception("%s failed", name)
            rows.append({"model": name, "error": f"{type(err).__name__}: {err}"})
    setup = {"budget_minutes": budget_minutes, "epochs": plan.epochs,
             "train_images": plan.train_images, "test_images": plan.test_images, "seed": seed,
             "wall_time_s": time.perf_counter() - start, "models": list(models),
             "calibrated_seconds_per_image": seconds_per_image,
             "sized_by_budget": seconds_per_image is not None}
    paths = write_report(rows, setup, out)
    return {"setup": setup, "results": rows, "files": {k: str(v) for k, v in paths.items()}}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.experiments.compare",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-minutes", type=float, required=True,
                        help="total wall-time budget for all models")
    parser.add_argument("--data-dir", default=None, help="folder with cifar10/ (or $PYNQ_BNN_DATA)")
    parser.add_argument("--train-subset", type=int, default=None, help="training images per model")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model")
    parser.add_argument("--test-subset", type=int, default=None,
                        help="evaluate on the first N test images (default: from the budget)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated presets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/compare", help="output folder")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    result = run_comparison(budget_minutes=args.budget_minutes, data_dir=args.data_dir,
                            models=models, train_subset=args.train_subset, epochs=args.epochs,
                            test_subset=args.test_subset, out=args.out, seed=args.seed)
    with open(result["files"]["markdown"], encoding="utf-8") as table:
        print(table.read())
    failed = [r["model"] for r in result["results"] if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
