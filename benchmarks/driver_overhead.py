# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Driver overhead: pack + unpack cost per frame against the memcpy floor and naive packing.

For the CIFAR-10 input of cnv/fracbnn (32×32×3 uint8 pixels on 64-bit words, 384 words/image)
and a top-1 uint8 output, measures in one run:

* ``copy``   — ``np.copyto`` of the same bytes into a preallocated buffer (the floor),
* ``pack``   — :func:`pynq_bnn.driver.pack_input` into the same buffer (what the driver does),
* ``unpack`` — :func:`pynq_bnn.driver.unpack_output` of the result words,
* ``naive``  — a straightforward per-element Python packing (shift/or into each word),

and prints µs/frame and the ratios pack/copy (target ≤ 3) and naive/pack.

Usage: ``python benchmarks/driver_overhead.py [--batch 256] [--repeats 20]``
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pynq_bnn.driver.packing import pack_input, packed_words, unpack_output  # noqa: E402
from pynq_bnn.driver.spec import AcceleratorSpec, StreamSpec  # noqa: E402


def cifar_spec(word_bits=64):
    return AcceleratorSpec(
        model="cnv/fracbnn", board="Pynq-Z2", clock_mhz=100.0,
        input=StreamSpec.create((32, 32, 3), "uint8", "NHWC", 8, word_bits),
        output=StreamSpec.create((1,), "uint8", "NK", 8, word_bits),
        classes=tuple(str(i) for i in range(10)), files={"graph": "graph.json"})


def naive_pack(images, words_per_image, word_bits=64):
    """Per-element Python loop: element i goes to word i*8//word_bits at bit (i*8) % word_bits."""
    out = np.zeros((len(images), words_per_image), dtype=np.uint64)
    for n, image in enumerate(images):
        for i, value in enumerate(image.reshape(-1).tolist()):
            bit = i * 8
            out[n, bit // word_bits] |= np.uint64(value << (bit % word_bits))
    return out


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--naive-images", type=int, default=4)
    args = parser.parse_args(argv)
    spec = cifar_spec()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.batch, 32, 32, 3), dtype=np.uint8)
    buffer = np.zeros(packed_words(spec.input, args.batch), dtype=np.uint64)
    flat = buffer.view(np.uint8).reshape(images.shape)
    results = rng.integers(0, 10, packed_words(spec.output, args.batch), dtype=np.uint64)

    packed = pack_input(spec, images, out=buffer)
    assert packed.tobytes() == images.tobytes()
    assert np.array_equal(naive_pack(images[:2], spec.input.words_per_image), packed[:2])

    per_frame = {
        "copy": best_of(lambda: np.copyto(flat, images), args.repeats) / args.batch,
        "pack": best_of(lambda: pack_input(spec, images, out=buffer), args.repeats) / args.batch,
        "unpack": best_of(lambda: unpack_output(spec, results, args.batch), args.repeats) / args.batch,
        "naive": best_of(lambda: naive_pack(images[:args.naive_images], spec.input.words_per_image),
                         1) / args.naive_images,
    }
    print(f"CIFAR-10 input 32x32x3 uint8, 64-bit words, batch {args.batch} (best of {args.repeats})")
    for name, seconds in per_frame.items():
        print(f"  {name:<7} {seconds * 1e6:10.3f} us/frame")
    pack_unpack = per_frame["pack"] + per_frame["unpack"]
    print(f"  pack/copy          = {per_frame['pack'] / per_frame['copy']:.2f}x (target <= 3x)")
    print(f"  (pack+unpack)/copy = {pack_unpack / per_frame['copy']:.2f}x")
    print(f"  naive/pack         = {per_frame['naive'] / per_frame['pack']:.0f}x")
    return per_frame


if __name__ == "__main__":
    main()
