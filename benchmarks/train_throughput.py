# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Training throughput (img/s) of eager fp32 vs the fast path (compile + bf16), side by side.

Usage::

    PYNQ_BNN_DATA=/path/to/data python -m benchmarks.train_throughput \
        [--models lfc cnv fracbnn] [--steps 8] [--warmup 3] [--batch-size 128] [--threads 1]

For each model: one freshly seeded copy per variant, the same real training batches (crop + flip
on CIFAR-10), full training steps (forward, loss, backward, Adam step) timed after ``--warmup``
steps (the fast path compiles during warm-up, not timed; compile time is reported separately).
Prints the median step time, img/s and the fast/eager ratio. Measured numbers: they depend on
the CPU (bf16 needs AVX512-BF16/AMX) and on what else runs on the machine — the output says how
many CPUs were busy at the start (load average) so contention is visible.
"""
import argparse
import os
import statistics
import sys
import time

import torch

from pynq_bnn import zoo
from pynq_bnn.data import load_dataset, make_loader
from pynq_bnn.train.fast import FastForward, bf16_supported
from pynq_bnn.train.losses import task_loss


def _batches(dataset: str, batch_size: int, count: int, data_dir):
    images = load_dataset(dataset, "train", data_dir).subset(batch_size * count)
    loader = make_loader(images, batch_size, shuffle=True, augment=dataset == "cifar10",
                         seed=0, drop_last=True)
    return list(loader)


def _time_variant(name: str, batches, warmup: int, fast: bool):
    torch.manual_seed(0)
    model = zoo.build(name)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = FastForward(model, "cpu") if fast else model
    times, compile_s = [], 0.0
    for index, (x, y) in enumerate(batches):
        start = time.perf_counter()
        loss = task_loss("ce", forward(x), y) + model.regularization_loss()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if index < warmup:
            compile_s += elapsed
        else:
            times.append(elapsed)
    return statistics.median(times), compile_s


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lfc", "cnv", "fracbnn"])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps (compiling)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("PYNQ_BNN_DATA"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# measured: torch {torch.__version__}, {args.threads} thread(s), batch "
          f"{args.batch_size}, {args.steps} timed steps after {args.warmup} warm-up steps; "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, bf16 fast: "
          f"{bf16_supported('cpu')}; load average at start {load:.2f} on {os.cpu_count()} CPUs "
          "(other processes share the machine: absolute numbers include their contention)")
    print(f"{'model':<10}{'eager img/s':>13}{'fast img/s':>12}{'ratio':>8}{'compile s':>11}")
    for name in args.models:
        dataset = zoo.get_preset(name).dataset
        batches = _batches(dataset, args.batch_size, args.warmup + args.steps, args.data_dir)
        eager_s, _ = _time_variant(name, batches, args.warmup, fast=False)
        fast_s, compile_s = _time_variant(name, batches, args.warmup, fast=True)
        eager, fast = args.batch_size / eager_s, args.batch_size / fast_s
        print(f"{name:<10}{eager:>13.0f}{fast:>12.0f}{fast / eager:>7.2f}x{compile_s:>11.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
