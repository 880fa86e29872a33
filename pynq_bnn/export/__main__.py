# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Command line: ``python -m pynq_bnn.export --checkpoint CKPT --out model.onnx
[--data-dir D] [--verify-images N]``.

Exports the checkpoint's model to QONNX, then (unless ``--verify-images 0``) runs the first N
test images (default 100) through torch and through the QONNX graph and exits with status 1,
listing the differing images, if any top-1 differs. Status 2: bad input (checkpoint, data).
``CKPT`` may be the name of a shipped model.
"""
import argparse
import sys

from pynq_bnn.utils.log import setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="checkpoint file or shipped model name")
    parser.add_argument("--out", required=True, help="QONNX .onnx file to write")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default $PYNQ_BNN_DATA)")
    parser.add_argument("--verify-images", type=int, default=100,
                        help="test images compared torch vs QONNX (0: skip)")
    parser.add_argument("--batch-size", type=int, default=100, help="images per qonnx call")
    parser.add_argument("--verbose", action="store_true")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from pynq_bnn.utils.cli_checks import check_export_args

    try:
        check_export_args(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    setup_logging(args.verbose)
    from pynq_bnn.checkpoint import CheckpointError, load_model, resolve_checkpoint
    from pynq_bnn.data import DataError, load_dataset
    from pynq_bnn.export import ExportError, export_qonnx, verify_export

    try:
        path = resolve_checkpoint(args.checkpoint)
        model, ckpt = load_model(path)
        test_set = None
        if args.verify_images > 0:
            test_set = load_dataset(ckpt["config"]["dataset"], "test", args.data_dir)
            test_set = test_set.subset(args.verify_images)
        wrapper = export_qonnx(model, args.out)
    except (CheckpointError, DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        from pynq_bnn.utils.validate import os_error_message

        print(f"error: {os_error_message(err)}", file=sys.stderr)
        return 1
    print(f"exported {ckpt['config'].get('name')} ({path}) to {args.out}: "
          f"{len(wrapper.graph.node)} nodes")
    if test_set is None:
        return 0
    report = verify_export(model, wrapper, test_set.images, test_set.labels,
                           batch_size=args.batch_size)
    try:
        report.raise_if_failed()
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"verified: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
