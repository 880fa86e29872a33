# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Camera demo command::

    python -m pynq_bnn.camera --overlay DIR --source 0|FILE [--out FILE] [--max-frames N] [--sim]

Classifies a camera (``--source 0`` = first camera) or a video file frame by frame with the
overlay package ``DIR`` and prints a labelled summary; ``--out`` writes the annotated video.
Without a board the simulated device is used (``--sim`` chooses it explicitly; otherwise a
warning says so) and every time it prints is simulated host-CPU time, with the package's
estimated hardware throughput beside it.
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings

__all__ = ["main"]


def _source(text: str):
    return int(text) if text.isdigit() else text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pynq_bnn.camera",
                                     description="Classify camera or video frames with a "
                                     "pynq_bnn overlay.")
    parser.add_argument("--overlay", required=True, help="overlay package folder "
                        "(holding accelerator.json)")
    parser.add_argument("--source", required=True, type=_source,
                        help="camera index (0 = first camera) or a video file / stream URL")
    parser.add_argument("--out", help="write the annotated frames to this video file "
                        "(.avi MJPG, .mkv FFV1, .mp4 mp4v)")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="stop after this many frames (default: until the source ends)")
    parser.add_argument("--sim", action="store_true",
                        help="run on the simulated device even on a board")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="DMA deadline in seconds (a timeout is retried, see --retries)")
    parser.add_argument("--retries", type=int, default=3,
                        help="DMA timeouts in a row on one frame before giving up")
    return parser


def main(argv=None) -> int:
    """Run the demo; returns the exit status (2 with a one-line message on a user error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from pynq_bnn.camera.pipeline import run_demo
    from pynq_bnn.driver import BNNOverlay, DriverError, SimulatedDeviceWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SimulatedDeviceWarning)
            overlay = BNNOverlay(args.overlay, device="sim" if args.sim else None,
                                 timeout_s=args.timeout)
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
        with overlay:
            stats = run_demo(args.source, overlay, display="video" if args.out else None,
                             output=args.out, max_frames=args.max_frames,
                             max_retries=args.retries)
    except (DriverError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{overlay.spec.model} on {overlay.clock_description}")
    print(stats.summary())
    if args.out:
        print(f"annotated video: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
