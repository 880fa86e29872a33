# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Command line: ``python -m pynq_bnn.eval --checkpoint CKPT --data-dir D [--limit N] [--out DIR]``.

``CKPT`` is a checkpoint file or the name of a shipped model (``lfc``, ``cnv``...). Prints a
one-line summary; with ``--out`` also writes ``<name>.eval.json`` (accuracy, per-class accuracy,
confusion matrix) and ``<name>.confusion.png``. Exit status 2 on bad input (missing checkpoint or
data), with a one-line error instead of a traceback.
"""
import argparse
import sys

from pynq_bnn.utils.log import setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="checkpoint file or shipped model name")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default $PYNQ_BNN_DATA)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N test images")
    parser.add_argument("--out", help="folder for the JSON report and the confusion-matrix PNG")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from pynq_bnn.utils.cli_checks import check_eval_args

    try:
        check_eval_args(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    setup_logging(args.verbose)
    import torch

    from pynq_bnn.checkpoint import CheckpointError
    from pynq_bnn.data import DataError
    from pynq_bnn.eval import evaluate_checkpoint

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        result = evaluate_checkpoint(args.checkpoint, data_dir=args.data_dir, limit=args.limit,
                                     out_dir=args.out, batch_size=args.batch_size, device=device,
                                     progress=not args.no_progress)
    except (CheckpointError, DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        from pynq_bnn.utils.validate import os_error_message

        print(f"error: {os_error_message(err)}", file=sys.stderr)
        return 1
    print(f"{result['model']} ({result['checkpoint']}) on {result['dataset']} test: "
          f"{100 * result['accuracy']:.2f}% top-1 ({result['correct']}/{result['total']})"
          + (f"; report in {result['files']['json']}" if "files" in result else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
