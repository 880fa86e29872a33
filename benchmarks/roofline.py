# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Roofline of a binary network simulated in numpy on this machine: binary MACs per second.

Two microbenchmarks, each on ``threads`` Python threads running independent blocks (as
:func:`pynq_bnn.compiler.execute` does), on the shape of a typical binary convolution
(``rows`` window vectors of ``bits`` bits against ``channels`` weight rows):

* ``xnor``  — the bit-packed XNOR-popcount kernel (:func:`pynq_bnn.compiler.kernels.
  xnor_popcount_matmul`: 64 bits per uint64 word, SWAR popcount; numpy 1.26 has no
  ``bitwise_count``). Binary MACs/s = ``rows * bits * channels`` / time.
* ``sgemm`` — numpy's float32 BLAS GEMM of the same ±1 matrices (one float MAC per binary MAC;
  the execution packs two exact integers per float, so it can exceed this rate).

Usage::

    python benchmarks/roofline.py [--threads N] [--seconds S]
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROWS, BITS, CHANNELS = 2048, 576, 64  # e.g. CNV's second conv: 3x3x64 windows, 64 channels


def _rate(work, macs_per_call: int, threads: int, seconds: float) -> float:
    """MACs/s of ``work()`` run back to back on ``threads`` threads for about ``seconds``."""
    work()  # warm-up (BLAS init, page faults)

    def loop(_):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            work()
            calls += 1
        return calls

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        calls = sum(pool.map(loop, range(threads)))
    return calls * macs_per_call / (time.perf_counter() - start)


def measure(threads: int | None = None, seconds: float = 1.0) -> dict:
    """``{"threads", "xnor_macs_per_s", "sgemm_macs_per_s"}`` measured now on this machine."""
    from pynq_bnn.compiler.execute import _single_threaded_blas
    from pynq_bnn.compiler.kernels import pack_bits, xnor_popcount_matmul
    from pynq_bnn.utils.cpus import usable_cpus

    threads = max(1, int(threads or usable_cpus()))
    rng = np.random.default_rng(0)
    x_bits = rng.integers(0, 2, (ROWS, BITS), dtype=np.uint8)
    w_bits = rng.integers(0, 2, (CHANNELS, BITS), dtype=np.uint8)
    x_words, w_words = pack_bits(x_bits), pack_bits(w_bits)
    x_float = (2.0 * x_bits - 1).astype(np.float32)
    w_float = np.ascontiguousarray((2.0 * w_bits - 1).astype(np.float32).T)
    expected = x_float @ w_float
    if not np.array_equal(xnor_popcount_matmul(x_words, w_words, BITS), expected):
        raise AssertionError("XNOR-popcount kernel disagrees with the float product")
    macs = ROWS * BITS * CHANNELS
    with _single_threaded_blas():
        xnor = _rate(lambda: xnor_popcount_matmul(x_words, w_words, BITS), macs, threads,
                     seconds)
        sgemm = _rate(lambda: x_float @ w_float, macs, threads, seconds)
    return {"threads": threads, "xnor_macs_per_s": xnor, "sgemm_macs_per_s": sgemm}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="default: usable CPUs")
    parser.add_argument("--seconds", type=float, default=1.0, help="per microbenchmark")
    args = parser.parse_args(argv)
    r = measure(args.threads, args.seconds)
    print(f"roofline on {r['threads']} threads: XNOR-popcount {r['xnor_macs_per_s'] / 1e9:.2f} G "
          f"binary MACs/s, float32 GEMM {r['sgemm_macs_per_s'] / 1e9:.2f} G MACs/s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    sys.exit(main())
