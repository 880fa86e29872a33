# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Simulation throughput: the compiler's numpy execution vs qonnx vs torch, side by side.

For each model: build it (the shipped checkpoint from ``pynq_bnn/zoo/pretrained/`` when present,
otherwise a random-init model, marked as such), export it to QONNX once, compile that same graph,
and time on real test images (CIFAR-10; MNIST for ``lfc``):

* ``numpy``  — :func:`pynq_bnn.compiler.execute` on the compiled HW-layer graph (batched);
* ``qonnx``  — :func:`qonnx.core.onnx_exec.execute_onnx` on the exported graph (one image per
  call: the exported graph has batch size 1);
* ``torch``  — the Brevitas model in eval mode under ``torch.no_grad()`` (batches of 100).

It also checks the numpy top-1 against torch on every image and against qonnx on the qonnx
images, and places the numpy execution on this machine's roofline (``benchmarks/roofline.py``,
measured in the same run on the same threads): achieved binary MACs/s = img/s x the graph's
1-bit x 1-bit products per image (``sum(layer.binary_macs())``), as a fraction of the
bit-packed XNOR-popcount rate (``%xnor``) and of the float32 GEMM rate (``%sgemm``; the
execution packs two exact integers per float, so up to 200%). Targets (issue 17): numpy >= 2x
torch eval for every preset; >= 25% (fracbnn) / 40% (cnv, lfc) of the XNOR-popcount roofline.

Usage::

    python benchmarks/sim_throughput.py --images 1000 [--models cnv fracbnn ...]
        [--qonnx-images 10] [--data-dir DIR] [--json results.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATASETS = {"lfc": "mnist"}
TORCH_BATCH = 100


def load_model(name: str):
    """``(model, note)``: the shipped checkpoint when there is one, else a random-init model."""
    import torch

    from pynq_bnn import zoo
    from pynq_bnn.checkpoint import CheckpointError, load_model as load_checkpoint_model
    from pynq_bnn.checkpoint import pretrained_path

    try:
        model, _ = load_checkpoint_model(pretrained_path(name))
        return model.eval(), "shipped checkpoint"
    except CheckpointError:
        torch.manual_seed(0)
        return zoo.build(name).eval(), "random-init (no shipped checkpoint)"


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def benchmark_model(name: str, images: np.ndarray, qonnx_images: int, workdir: Path) -> dict:
    """Measure one model on uint8 NCHW ``images``; returns a JSON-able dict."""
    import torch
    from qonnx.core.onnx_exec import execute_onnx

    from pynq_bnn.compiler import compile_qonnx, execute
    from pynq_bnn.export import export_qonnx

    model, note = load_model(name)
    wrapper = export_qonnx(model, workdir / f"{name}.onnx")
    graph, compile_s = _timed(lambda: compile_qonnx(wrapper))
    nhwc = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    execute(graph, nhwc[:2])  # warm-up
    top_numpy, numpy_s = _timed(lambda: execute(graph, nhwc)[:, 0])

    x = torch.from_numpy(images).float() / 255.0
    with torch.no_grad():
        model(x[:2])  # warm-up

        def run_torch():
            return torch.cat([model(x[i:i + TORCH_BATCH]) for i in range(0, len(x), TORCH_BATCH)])

        logits, torch_s = _timed(run_torch)
    top_torch = logits.argmax(dim=1).numpy()

    count = max(1, min(qonnx_images, len(images)))
    in_name, out_name = wrapper.graph.input[0].name, wrapper.graph.output[0].name

    def run_qonnx():
        tops = []
        for i in range(count):
            logits = execute_onnx(wrapper, {in_name: x[i:i + 1].numpy()})[out_name]
            tops.append(int(np.argmax(logits)))
        return np.array(tops)

    top_qonnx, qonnx_s = _timed(run_qonnx)
    n = len(images)
    result = {
        "model": name, "weights": note, "images": n, "qonnx_images": count,
        "layers": len(graph.layers), "compile_s": compile_s,
        "numpy_ips": n / numpy_s, "torch_ips": n / torch_s, "qonnx_ips": count / qonnx_s,
        "top1_numpy_vs_torch": float(np.mean(top_numpy == top_torch)),
        "top1_numpy_vs_qonnx": float(np.mean(top_numpy[:count] == top_qonnx)),
    }
    result["numpy_over_qonnx"] = result["numpy_ips"] / result["qonnx_ips"]
    result["numpy_over_torch"] = result["numpy_ips"] / result["torch_ips"]
    result["binary_macs_per_image"] = int(sum(layer.binary_macs() for layer in graph.layers))
    result["binary_macs_per_s"] = result["numpy_ips"] * result["binary_macs_per_image"]
    return result


def load_images(dataset: str, count: int, data_dir) -> np.ndarray:
    from pynq_bnn.data import load_dataset

    images = load_dataset(dataset, "test", data_dir).images
    return np.ascontiguousarray(images[:count])


def run(models, images: int, qonnx_images: int, data_dir=None, roofline: dict | None = None
        ) -> list:
    """Benchmark every model; a model that fails to build/compile is reported, not fatal.

    With ``roofline`` (:func:`roofline.measure`) each result gets its fractions of it."""
    results = []
    with tempfile.TemporaryDirectory(prefix="sim_throughput.") as tmp:
        for name in models:
            data = load_images(DATASETS.get(name, "cifar10"), images, data_dir)
            try:
                results.append(benchmark_model(name, data, qonnx_images, Path(tmp)))
            except Exception as err:  # noqa: BLE001 - a benchmark reports and continues
                results.append({"model": name, "error": f"{type(err).__name__}: {err}"})
    for r in results:
        if roofline and "binary_macs_per_s" in r:
            r["of_xnor_roofline"] = r["binary_macs_per_s"] / roofline["xnor_macs_per_s"]
            r["of_sgemm"] = r["binary_macs_per_s"] / roofline["sgemm_macs_per_s"]
    return results


def format_table(results, roofline: dict | None = None) -> str:
    head = (f"{'model':12s} {'numpy img/s':>12s} {'qonnx img/s':>12s} {'torch img/s':>12s} "
            f"{'np/qonnx':>9s} {'np/torch':>9s} {'Mbin-MAC/img':>12s} {'Gbin-MAC/s':>10s} "
            f"{'%xnor':>6s} {'%sgemm':>6s} {'top1=torch':>10s} {'top1=qonnx':>10s}  weights")
    rows = []
    if roofline:
        rows.append(f"roofline (measured now, {roofline['threads']} threads): bit-packed "
                    f"XNOR-popcount {roofline['xnor_macs_per_s'] / 1e9:.2f} G binary MACs/s; "
                    f"float32 GEMM {roofline['sgemm_macs_per_s'] / 1e9:.2f} G MACs/s")
    rows += [head, "-" * len(head)]
    for r in results:
        if "error" in r:
            rows.append(f"{r['model']:12s} FAILED: {r['error']}")
            continue
        macs = r.get("binary_macs_per_image")
        mac_cols = (f"{macs / 1e6:12.1f} {r['binary_macs_per_s'] / 1e9:10.2f} "
                    if macs is not None else f"{'-':>12s} {'-':>10s} ")
        frac = (f"{100 * r['of_xnor_roofline']:5.0f}% {100 * r['of_sgemm']:5.0f}% "
                if "of_xnor_roofline" in r else f"{'-':>6s} {'-':>6s} ")
        rows.append(f"{r['model']:12s} {r['numpy_ips']:12.1f} {r['qonnx_ips']:12.2f} "
                    f"{r['torch_ips']:12.1f} {r['numpy_over_qonnx']:8.0f}x "
                    f"{r['numpy_over_torch']:8.2f}x {mac_cols}{frac}"
                    f"{r['top1_numpy_vs_torch']:10.4f} "
                    f"{r['top1_numpy_vs_qonnx']:10.4f}  {r['weights']}")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="test images per model")
    parser.add_argument("--qonnx-images", type=int, default=10,
                        help="images run through qonnx (slow: one call per image)")
    parser.add_argument("--models", nargs="+", default=None,
                        help="zoo presets (default: every preset)")
    parser.add_argument("--data-dir", default=None, help="dataset folder (default $PYNQ_BNN_DATA)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--no-roofline", action="store_true",
                        help="skip the XNOR-popcount / GEMM microbenchmarks")
    args = parser.parse_args(argv)
    models = args.models
    if models is None:
        from pynq_bnn import zoo

        models = zoo.list_presets()
    roofline = None
    if not args.no_roofline:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import roofline as roofline_bench

        roofline = roofline_bench.measure()
    results = run(models, args.images, args.qonnx_images, args.data_dir, roofline)
    print(format_table(results, roofline))
    if args.json:
        Path(args.json).write_text(json.dumps({"roofline": roofline, "results": results},
                                              indent=2) + "\n")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    sys.exit(main())
