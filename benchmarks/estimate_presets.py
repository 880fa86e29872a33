# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Re-fold every shipped preset with the calibrated area model and print its estimate.

For each preset the compiled graph of ``overlays/<name>/`` (read only, never rewritten) is folded
by :func:`pynq_bnn.compiler.folding.fold_to_fit` — the build's default, the fastest design under
80 % of every resource of the board — and estimated by :func:`pynq_bnn.compiler.estimate.estimate`
(layers + every FIFO and helper of the rendered top level + shell). Every number is
"estimated (model calibrated on finn-examples cnv-w1a1, BNN-PYNQ CNV/LFC)"; none is synthesis.
A preset that does not fit at any folding is estimated at its slowest folding and marked so.

Usage: ``python benchmarks/estimate_presets.py [--board Pynq-Z2] [--cap 0.8] [names ...]``
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pynq_bnn.compiler.cost import MODEL_LABEL  # noqa: E402
from pynq_bnn.compiler.estimate import estimate  # noqa: E402
from pynq_bnn.compiler.folding import FoldingError, fold_to_fit  # noqa: E402
from pynq_bnn.compiler.graph import load_graph  # noqa: E402
from pynq_bnn.compiler.hw.base import Resources  # noqa: E402

PRESETS = ("lfc", "cnv", "cnv-thermo", "cnv-bitplane", "fracbnn", "sdbnn", "repbnn", "lab")


def row(name, board, cap) -> str:
    graph = load_graph(ROOT / "overlays" / name)
    verdict = "fits"
    try:
        fold_to_fit(graph, board, max_utilization=cap)
    except FoldingError as exc:
        verdict = f"does not fit: {exc}"
        for layer in graph.layers:  # slowest folding
            for axis in layer.folding_space():
                layer.attrs[axis] = min(layer.folding_space()[axis])
    result = estimate(graph, board)
    total = result.total
    deep = Resources()
    for item in result.plumbing:
        if item.kind == "FIFO" and item.depth > 2:
            deep = deep + item.resources
    return (f"| {name} | {result.fps:,.0f} | {total.lut:,.0f} | {total.ff:,.0f} | "
            f"{total.bram18:,.0f} | {total.dsp:,.0f} | {deep.bram18:,.0f} | {result.bottleneck} "
            f"| {verdict} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(PRESETS))
    parser.add_argument("--board", default="Pynq-Z2")
    parser.add_argument("--cap", type=float, default=0.8, help="utilisation cap of fold_to_fit")
    args = parser.parse_args(argv)
    print(f"{MODEL_LABEL}; {args.board}, fold_to_fit cap {args.cap:.0%}")
    print("| preset | est. FPS | LUT | FF | BRAM18 | DSP | BRAM18 in FIFOs > 2 words | "
          "bottleneck | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.names:
        print(row(name, args.board, args.cap), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
