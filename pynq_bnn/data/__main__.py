# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""``python -m pynq_bnn.data download --dest DIR``: fetch and verify MNIST / CIFAR-10 (opt-in).

See :mod:`pynq_bnn.data.download` for the sources and the checks.
"""
import argparse
import logging
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.data",
                                     description="Dataset tools (nothing downloads unless asked).")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("download", help="download + verify the official MNIST/CIFAR-10 files")
    get.add_argument("--dest", required=True, help="data folder to fill (then set PYNQ_BNN_DATA)")
    get.add_argument("--datasets", nargs="+", default=["mnist", "cifar10"],
                     choices=["mnist", "cifar10"])
    get.add_argument("--split", default="all", choices=["all", "train", "test"])
    get.add_argument("--mirror", help="base URL of a server laid out like a data folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from pynq_bnn.data.common import DataError
    from pynq_bnn.data.download import download

    try:
        written = download(args.dest, args.datasets, args.split, mirror=args.mirror)
    except DataError as err:
        print(f"download failed: {err}", file=sys.stderr)
        return 1
    print(f"{len(written)} file(s) downloaded and verified into {args.dest}; "
          f"now: export PYNQ_BNN_DATA={args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
