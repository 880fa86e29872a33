# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Training options and the per-dataset defaults that work well for BNNs.

Defaults (any option left ``None`` takes the value of the model's dataset):

========  =========  ======  =====  ==========  ============  =======  ========
dataset   optimizer  lr      batch  schedule    weight decay  augment  val set
========  =========  ======  =====  ==========  ============  =======  ========
mnist     adam       5e-3    100    cosine      0             no       5,000
cifar10   adam       2e-3    128    cosine      1e-5          crop+flip 5,000
========  =========  ======  =====  ==========  ============  =======  ========

Why: BNN latent weights only matter through ``sign(w)``; Adam's per-parameter normalization
keeps the flip rate of every layer comparable (Liu et al., "How do Adam and training strategies
help BNNs optimization?", ICML 2021, and FracBNN's Adam 1e-3 recipe), and a decaying LR lets the
signs settle at the end. Weight decay is never applied to binary latent weights (it only pulls
them towards 0, where signs flip randomly) nor to BatchNorm/scale parameters; it applies to
full-precision weights only. Binary latent weights stay clipped to the quantizer's ``±scale``
(Brevitas' in-place clamp, BinaryConnect-style), so a weight can always flip back.

Precedence of an option: given explicitly > the ``recipe`` (a published training recipe, see
:mod:`pynq_bnn.train.recipes`) > the dataset default above.
"""
from dataclasses import asdict, dataclass, fields, replace

__all__ = ["TrainConfig", "DATASET_DEFAULTS", "resolve_config"]

DATASET_DEFAULTS = {
    "mnist": dict(optimizer="adam", lr=5e-3, batch_size=100, schedule="cosine", weight_decay=0.0,
                  augment=False, val_count=5000),
    "cifar10": dict(optimizer="adam", lr=2e-3, batch_size=128, schedule="cosine",
                    weight_decay=1e-5, augment=True, val_count=5000),
}
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "linear", "none", "halve40")
LOSSES = ("ce", "sqr_hinge")


@dataclass(frozen=True)
class TrainConfig:
    """All options of one training run (JSON-serializable; stored in checkpoints).

    Attributes:
        epochs: total number of epochs (``--resume`` continues up to this number).
        batch_size: per-process batch size (the global batch is ``batch_size × world_size``).
        lr: peak learning rate.
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9, Nesterov).
        weight_decay: L2 decay of full-precision weights only (see module docstring).
        schedule: ``"cosine"``, ``"linear"`` (to 0 over the run), ``"none"`` (stepped per batch),
            or ``"halve40"`` (×0.5 after every 40 epochs, the Brevitas bnn_pynq schedule).
            ``epochs`` fixes the whole schedule up front.
        augment: random crop (pad 4) + horizontal flip of training batches.
        val_count: training images held out for validation / best-checkpoint selection (0: none).
        limit_train: use only the first N training images (after the validation split).
        seed: seed of model init, the split and the shuffling.
        num_threads: torch CPU threads (0: automatic, half the usable CPUs, at least 1; see
            :func:`pynq_bnn.train.fast.default_num_threads`).
        fast: compiled + bf16 training and evaluation (:mod:`pynq_bnn.train.fast`); ``None``:
            automatic (on where bf16 is fast and the run is long enough to amortize compiling).
            The final reported accuracies are always an fp32 eager evaluation.
        eval_every: evaluate on the validation split every N epochs (and after the last one);
            the test set is evaluated once, at the end.
        loss: ``"ce"`` (cross entropy) or ``"sqr_hinge"`` (squared hinge on ±1 one-hot targets,
            the BinaryNet / Brevitas bnn_pynq loss).
        recipe: name of a published recipe whose options fill the ones not given
            (:data:`pynq_bnn.train.recipes.RECIPES`).
        real_weight_epochs: FracBNN's two-step training: the first N epochs run with binary
            activations and *real-valued* weights (the binary weight quantizers disabled), then
            binary weights; at the switch the optimizer state restarts (a fresh Adam, as the
            source's second run), the weight decay becomes ``final_weight_decay`` and the LR
            schedule restarts over the remaining epochs. 0 (default): one phase.
        final_weight_decay: weight decay of the second phase (``None``: unchanged).
        teacher: checkpoint of a full-precision (or any) teacher: adds the distributional KD loss
            of :func:`pynq_bnn.train.losses.distribution_loss` (ReActNet).
        kd_weight: loss = ``kd_weight · KD + (1 − kd_weight) · task loss`` when a teacher is set
            (ReActNet: 1, the distributional loss alone).
    """

    epochs: int = 10
    batch_size: int = None
    lr: float = None
    optimizer: str = None
    weight_decay: float = None
    schedule: str = None
    augment: bool = None
    val_count: int = None
    limit_train: int = None
    seed: int = 0
    num_threads: int = 0
    fast: bool = None
    eval_every: int = 1
    loss: str = None
    recipe: str = None
    real_weight_epochs: int = None
    final_weight_decay: float = None
    teacher: str = None
    kd_weight: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_config(config: TrainConfig, dataset: str) -> TrainConfig:
    """Fill every ``None`` option with the default of ``dataset`` and validate the result.

    Raises:
        ValueError: unknown dataset / optimizer / schedule, or a non-positive size.
    """
    if dataset not in DATASET_DEFAULTS:
        raise ValueError(f"no training defaults for dataset {dataset!r}; known: "
                         f"{sorted(DATASET_DEFAULTS)}")
    from pynq_bnn.train.recipes import recipe_options

    defaults = {**DATASET_DEFAULTS[dataset], "loss": "ce", "real_weight_epochs": 0,
                **(recipe_options(config.recipe, dataset, config.epochs) if config.recipe
                   else {})}
    filled = replace(config, **{f.name: defaults[f.name] for f in fields(config)
                                if getattr(config, f.name) is None and f.name in defaults})
    if filled.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {filled.optimizer!r}")
    if filled.schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {filled.schedule!r}")
    if filled.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {filled.loss!r}")
    if filled.real_weight_epochs < 0 or (filled.real_weight_epochs
                                         and filled.real_weight_epochs >= filled.epochs):
        raise ValueError(f"real_weight_epochs must be in [0, epochs), got "
                         f"{filled.real_weight_epochs} of {filled.epochs}")
    if not 0.0 <= filled.kd_weight <= 1.0:
        raise ValueError(f"kd_weight must be in [0, 1], got {filled.kd_weight}")
    if filled.eval_every < 1 or filled.num_threads < 0:
        raise ValueError(f"eval_every must be >= 1 and num_threads >= 0, got "
                         f"{filled.eval_every}, {filled.num_threads}")
    if filled.epochs < 1 or filled.batch_size < 1 or filled.lr <= 0:
        raise ValueError(f"epochs, batch_size and lr must be positive, got {filled.epochs}, "
                         f"{filled.batch_size}, {filled.lr}")
    if filled.val_count < 0 or (filled.limit_train is not None and filled.limit_train < 1):
        raise ValueError("val_count must be >= 0 and limit_train >= 1")
    return filled
