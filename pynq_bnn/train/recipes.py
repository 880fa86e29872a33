# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Published training recipes as presets of :class:`~pynq_bnn.train.config.TrainConfig`.

``python -m pynq_bnn.train --recipe NAME ...`` (or ``train(..., recipe=NAME)``) fills every option
not given explicitly with the recipe's value; explicit options still win (e.g. a shorter run may
replace the recipe's schedule with ``--schedule cosine``: see the notes of each recipe).

``bnn-pynq`` — the Brevitas ``bnn_pynq`` example trainer that produced the BNN-PYNQ / FINN
reference models (CNV-W1A1 84.22 %, LFC-W1A1 98.88 %). Source: Xilinx/brevitas,
``src/brevitas_examples/bnn_pynq/bnn_pynq_train.py`` (argument defaults) and ``trainer.py``
(training loop): Adam, lr 0.02, no weight decay, batch 100, the squared hinge loss on ±1 one-hot
targets (``losses.py``: ``mean(max(0, 1 − t·y)²)``), no scheduler object ("FIXED") but the LR
halved after every 40th epoch, 1000 epochs, latent weights clipped to [−1, 1] after each step
(here: the quantizer's in-place clamp), CIFAR-10 augmented with random crop (pad 4) + horizontal
flip, MNIST not augmented. The reference's 1000 epochs are out of reach on a CPU; with a budget
of tens of epochs the halving schedule would barely decay, so short runs should override it with
``--schedule cosine`` (same optimizer, LR, loss and batch; the decay compressed into the budget).
Measured here (CNV, 1 CPU thread, fast path): after 180 steps the run still sat at 12.7 % training
accuracy with loss 0.64, near the trivial "every logit negative" point of the squared hinge
(loss 0.4) — the recipe is a slow starter, meant for its long schedule; for budgets of a few
epochs the dataset defaults (Adam 2e-3, cross entropy, cosine) learn much faster.

``fracbnn`` — FracBNN's two-step training (Zhang et al., "FracBNN: Accurate and FPGA-Efficient
Binary Neural Networks with Fractional Activations", FPGA 2021; code ychzhang/fracbnn,
``cifar10.py`` and its README "Two-Step Training"): step 1 trains binary activations with
floating-point weights, step 2 starts from it with binary weights. Both: Adam lr 1e-3, batch 128,
cross entropy plus the gate-target term (the model's ``regularization_loss``), crop + flip.
Step 1: weight decay 1e-5, LR decayed linearly to 0; step 2: weight decay 0 and a fresh
optimizer. The source runs 250 + 250 epochs; here ``--epochs`` is split in half
(``real_weight_epochs = epochs // 2``). Deviations: step 2 uses the same linear decay (the
source's fine-tuning script uses ×0.1 steps at epochs 100/150/200 of 250), and weight decay never
touches BatchNorm/scale parameters (project rule, :mod:`pynq_bnn.train.config`).

Knowledge distillation (any recipe): ``--teacher CKPT`` adds ReActNet's distributional loss
(:func:`pynq_bnn.train.losses.distribution_loss`).
"""
__all__ = ["RECIPES", "recipe_options", "list_recipes"]

_BNN_PYNQ = dict(optimizer="adam", lr=0.02, weight_decay=0.0, batch_size=100,
                 schedule="halve40", loss="sqr_hinge")

RECIPES = {
    "bnn-pynq": {
        "cifar10": {**_BNN_PYNQ, "augment": True},
        "mnist": {**_BNN_PYNQ, "augment": False},
    },
    "fracbnn": {
        "cifar10": dict(optimizer="adam", lr=1e-3, weight_decay=1e-5, final_weight_decay=0.0,
                        batch_size=128, schedule="linear", loss="ce", augment=True,
                        real_weight_epochs="half"),
    },
}


def list_recipes() -> list:
    """Names of the recipes (for the CLI help)."""
    return sorted(RECIPES)


def recipe_options(name: str, dataset: str, epochs: int = None) -> dict:
    """Training options of recipe ``name`` for ``dataset`` (``epochs``: the run's length, for
    options defined as a share of it).

    Raises:
        ValueError: unknown recipe, or the recipe has no setting for this dataset.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; available: {', '.join(list_recipes())}")
    per_dataset = RECIPES[name]
    if dataset not in per_dataset:
        raise ValueError(f"recipe {name!r} is defined for {sorted(per_dataset)}, not {dataset!r}")
    options = dict(per_dataset[dataset])
    if options.get("real_weight_epochs") == "half":
        options["real_weight_epochs"] = (epochs or 0) // 2
    return options
