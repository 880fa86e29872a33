#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Build an overlay package: ``python build/build_overlay.py --model lfc``.

Steps: load checkpoint -> export QONNX -> compile -> fold -> estimate -> verify (Brevitas vs
numpy) -> generate HLS -> csim (C++ vs numpy) -> Vitis HLS -> Vivado -> package
``overlays/<model>/``. Unchanged steps are reused from the work folder; without Vitis HLS/Vivado
the build packages the csim-verified overlay and says so. The logic is
:mod:`pynq_bnn.compiler.build`.
"""
import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pynq_bnn.compiler.build import STEP_ORDER, BuildConfig, BuildError, build_overlay  # noqa: E402
from pynq_bnn.utils.validate import InputError  # noqa: E402
from pynq_bnn.compiler.build_steps import VerificationFailed  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, help="zoo preset name (e.g. lfc, cnv, fracbnn)")
    p.add_argument("--checkpoint", help="checkpoint file; default: the shipped one of --model")
    p.add_argument("--board", help="target board (default: the preset's own, pynq-z2; "
                                   "fracbnn: ultra96-v2)")
    fold = p.add_mutually_exclusive_group()
    fold.add_argument("--target-fps", type=float, help="fold for this throughput")
    fold.add_argument("--folding", dest="folding_file", help="JSON file of PE/SIMD per layer")
    p.add_argument("--clock-mhz", type=float, default=100.0, help="fabric clock")
    p.add_argument("--out", help="package folder (default overlays/<model>)")
    p.add_argument("--start", choices=STEP_ORDER, help="first step to run (earlier ones cached)")
    p.add_argument("--stop", choices=STEP_ORDER, help="last step to run")
    p.add_argument("--verify-images", type=int, default=1000,
                   help="test images for Brevitas-vs-numpy verification")
    p.add_argument("--csim-images", type=int, default=1000,
                   help="test images for the HLS csim-vs-numpy check")
    p.add_argument("--data-dir", help="dataset folder (default $PYNQ_BNN_DATA)")
    p.add_argument("--work-dir", help="work/cache folder (default beside --out)")
    p.add_argument("--jobs", type=int, default=4, help="parallel Vivado jobs")
    p.add_argument("-q", "--quiet", action="store_true", help="only print the result")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the build raises pynq_bnn's logger to INFO for
        handler.setLevel(level)                   # its log file; the console keeps this level
    options = {k: v for k, v in vars(args).items() if k != "quiet"}
    config = BuildConfig(**options, progress_bars=not args.quiet)

    def progress(step, status, seconds):
        if not args.quiet and status != "running":
            print(f"[{step:>9}] {status}" + (f" in {seconds:.1f} s" if seconds else ""),
                  flush=True)

    try:
        result = build_overlay(config, progress=progress)
    except InputError as exc:  # bad option, output folder, checkpoint or data: nothing ran
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VerificationFailed as exc:
        print(f"VERIFICATION FAILED, nothing packaged: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the disk filled up outside a step
        from pynq_bnn.utils.validate import os_error_message

        print(f"build failed: {os_error_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no package was written", file=sys.stderr)
        return 130
    print(final_summary(config, result))
    return 0


def final_summary(config, result) -> str:
    """The build summary with this machine's real paths (``summary.txt`` has placeholders)."""
    from pynq_bnn.compiler.package_contents import build_report
    from pynq_bnn.compiler.summary import render_summary

    report = build_report(config, result, config.work, portable_paths=False)
    report["package"] = str(result.package) if result.package else None
    return render_summary(report, work=str(config.work))


if __name__ == "__main__":
    sys.exit(main())
