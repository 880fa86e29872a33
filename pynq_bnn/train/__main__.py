# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Command line: ``python -m pynq_bnn.train --model lfc --data-dir D --epochs 20 --out lfc.pt``.

Options left out take the per-dataset defaults of :mod:`pynq_bnn.train.config`. Multi-GPU or
multi-node: launch the same command with ``torchrun --nproc_per_node=G -m pynq_bnn.train ...``.
Exit status 0 on success, 2 on bad input (unknown model, missing data, unusable checkpoint).
"""
import argparse
import logging
import sys

from pynq_bnn.utils.log import setup_logging

log = logging.getLogger("pynq_bnn.train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from pynq_bnn import zoo

    parser.add_argument("--model", required=True,
                        help=f"zoo preset name: {', '.join(zoo.list_presets())}")
    parser.add_argument("--data-dir", default=None,
                        help="folder with mnist/ and cifar10/ (default: $PYNQ_BNN_DATA)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", required=True, help="checkpoint file to write (every epoch)")
    parser.add_argument("--batch-size", type=int, help="per-process batch size")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--optimizer", choices=("adam", "sgd"))
    parser.add_argument("--weight-decay", type=float, help="L2 on full-precision weights only")
    parser.add_argument("--schedule", choices=("cosine", "linear", "none"))
    aug = parser.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None,
                     help="random crop + flip (default on for cifar10)")
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    parser.add_argument("--limit-train", type=int, help="use only N training images")
    parser.add_argument("--val-count", type=int, help="training images held out for validation")
    parser.add_argument("--limit-test", type=int, help="evaluate only the first N test images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", help="continue from this full checkpoint")
    parser.add_argument("--compact-out", help="also write the final model as a compact checkpoint")
    parser.add_argument("--num-workers", type=int, default=0,
                        help="torch CPU threads (the in-process loader needs no worker processes)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--model-option", action="append", default=[], metavar="KEY=JSON",
                        help="preset option, e.g. --model-option act_grad='\"approx_sign\"'")
    parser.add_argument("--recipe", help="published training recipe filling the options not "
                        "given (see pynq_bnn.train.recipes), e.g. bnn-pynq")
    parser.add_argument("--loss", choices=("ce", "sqr_hinge"), help="task loss (default ce)")
    fast = parser.add_mutually_exclusive_group()
    fast.add_argument("--fast", dest="fast", action="store_true", default=None,
                      help="torch.compile + bf16 autocast for training and evaluation (default: "
                           "on where bf16 is fast and the run has >= 200 steps); the final "
                           "accuracies are always an fp32 eager evaluation")
    fast.add_argument("--no-fast", dest="fast", action="store_false",
                      help="eager fp32 training and evaluation")
    parser.add_argument("--eval-every", type=int,
                        help="validate every N epochs (default 1); the test set is evaluated "
                             "once, after the last epoch")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: half the usable CPUs, at least 1)")
    parser.add_argument("--real-weight-epochs", type=int,
                        help="FracBNN two-step training: the first N epochs with real-valued "
                             "weights (recipe fracbnn: half of --epochs)")
    parser.add_argument("--teacher", help="teacher checkpoint: adds ReActNet's distributional "
                        "knowledge-distillation loss")
    parser.add_argument("--kd-weight", type=float,
                        help="share of the KD loss when --teacher is given (default 1: KD only)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    parser.add_argument("--verbose", action="store_true")
    return parser


def parse_model_options(items) -> dict:
    """``["key=json", ...]`` -> dict (a value that is not JSON is taken as a string)."""
    import json

    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--model-option expects KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from pynq_bnn import zoo
    from pynq_bnn.checkpoint import CheckpointError
    from pynq_bnn.data import DataError, load_dataset
    from pynq_bnn.train import init_distributed, shutdown_distributed, train
    from pynq_bnn.utils.cli_checks import check_train_args

    try:
        check_train_args(args)  # every option, before any data is read or an epoch run
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    ctx = init_distributed(args.device)
    setup_logging(args.verbose, rank=ctx.rank)
    try:
        if args.model not in zoo.list_presets():
            raise ValueError(f"unknown model {args.model!r}; available: "
                             f"{', '.join(zoo.list_presets())}")
        dataset = zoo.get_preset(args.model).dataset
        train_set = load_dataset(dataset, "train", args.data_dir)
        test_set = load_dataset(dataset, "test", args.data_dir)
        if args.limit_test is not None:
            test_set = test_set.subset(args.limit_test)
        options = {k: v for k, v in dict(
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
            weight_decay=args.weight_decay, schedule=args.schedule, augment=args.augment,
            limit_train=args.limit_train, val_count=args.val_count, seed=args.seed,
            num_threads=args.threads if args.threads is not None else args.num_workers,
            recipe=args.recipe, loss=args.loss, fast=args.fast,
            eval_every=args.eval_every, real_weight_epochs=args.real_weight_epochs,
            teacher=args.teacher, kd_weight=args.kd_weight).items() if v is not None}
        result = train(args.model, train_set, test_set=test_set, out=args.out,
                       resume=args.resume, compact_out=args.compact_out,
                       progress=not args.no_progress, device=ctx.device,
                       model_options=parse_model_options(args.model_option), **options)
    except (DataError, CheckpointError, ValueError, TypeError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # non-finite loss/weights: the last good epoch is kept
        print(f"error: training stopped: {err}; the last checkpoint written ({args.out}, if any) "
              "is from the last good epoch", file=sys.stderr)
        return 2
    except OSError as err:
        from pynq_bnn.utils.validate import os_error_message

        print(f"error: {os_error_message(err)}", file=sys.stderr)
        return 1
    finally:
        shutdown_distributed()
    if ctx.is_main:
        summary = "  ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()
                            if k.endswith("_acc"))
        print(f"trained {args.model} for {args.epochs} epochs: {summary} (fp32 eager); "
              f"checkpoint {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
