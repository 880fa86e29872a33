# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Bit-exact, batched numpy execution of a :class:`DataflowGraph` (the simulated accelerator).

Each layer's ``reference()`` runs on a chunk of images at a time; chunks are sized so the largest
intermediate tensor (usually a sliding-window stream feeding an MVAU, converted to float32 for
BLAS) stays near ``memory_budget_mb``. A flatten between a feature map and a fully connected
layer is free (the stream order is already channels-last), so a layer input is reshaped to the
layer's ``in_shapes()`` whenever the element counts agree.

Fast path: a layer read by one consumer only may be absorbed by it
(:meth:`~pynq_bnn.compiler.hw.base.HWLayer.fused_reference`): a FracMVAU reads the float32
plane encoding of its Requantize's table directly (no FRAC2 code stream), and a
``SlidingWindow`` whose only consumer is an ``MVAU`` (every convolution) is fused
into it (:meth:`MVAU.conv_reference`): the window stream — ``Kh*Kw`` times the size of its input,
and for CNV's second conv 90% of the run time when materialized as uint8 and then converted to
float — is built per small block directly in float from the decoded input and fed to BLAS. It is
bit-exact (see ``conv_reference``); the window tensor exists only when ``return_all`` asks for
every stream, in which case every layer runs its own ``reference()``.

Threads: chunks run on ``threads`` Python threads (BLAS and numpy copies release the GIL) while
numpy's OpenBLAS is held at one thread. Measured on a shared 2-core machine, OpenBLAS' own
threading on cache-sized blocks is several times slower than single-threaded calls (its workers
spin-wait for each other when a core is busy elsewhere); independent chunks per thread have no
such barrier. The OpenBLAS setting is restored on return (a no-op when numpy's BLAS is not an
OpenBLAS exposing ``openblas_set_num_threads``).
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pynq_bnn.compiler.graph import DataflowGraph
from pynq_bnn.utils.cpus import usable_cpus

__all__ = ["execute", "ExecutionInputError"]

log = logging.getLogger(__name__)


class ExecutionInputError(ValueError):
    """The images given to :func:`execute` do not match the graph's input contract."""


def _check_images(graph: DataflowGraph, images) -> np.ndarray:
    if not isinstance(images, np.ndarray):
        raise ExecutionInputError(
            f"execute expects a numpy uint8 array, got {type(images).__name__}")
    if images.dtype != np.uint8:
        raise ExecutionInputError(f"execute expects uint8 pixels, got dtype {images.dtype}")
    shape = tuple(graph.input_shape)
    if images.ndim == len(shape) and tuple(images.shape) == shape:
        images = images[None]
    if images.ndim != len(shape) + 1 or tuple(images.shape[1:]) != shape:
        hint = ""
        if images.ndim == 4 and tuple(images.shape[1:]) == (shape[2], shape[0], shape[1]):
            hint = " (got NCHW: transpose with images.transpose(0, 2, 3, 1))"
        raise ExecutionInputError(
            f"execute expects NHWC images of shape (N, {', '.join(map(str, shape))}), got "
            f"{tuple(images.shape)}{hint}")
    return images


def _openblas_threads_api():
    """``(get, set)`` of numpy's bundled OpenBLAS thread count, or None."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libopenblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):
            get = getattr(lib, "openblas_get_num_threads" + suffix, None)
            put = getattr(lib, "openblas_set_num_threads" + suffix, None)
            if get is not None and put is not None:
                return get, put
    return None


@contextlib.contextmanager
def _single_threaded_blas():
    api = _openblas_threads_api()
    if api is None:
        yield
        return
    get, put = api
    before = int(get())
    put(1)
    try:
        yield
    finally:
        put(before)


def _fused_producers(graph: DataflowGraph) -> dict:
    """``{consumer_index: (producer, function)}`` for every producer read by one consumer only
    that the consumer absorbs (:meth:`HWLayer.fused_reference`)."""
    readers = {}
    for i, layer in enumerate(graph.layers):
        for name in layer.inputs:
            readers.setdefault(name, []).append(i)
    producer = {layer.output: layer for layer in graph.layers}
    fused = {}
    for i, layer in enumerate(graph.layers):
        if len(layer.inputs) != 1:
            continue
        source = producer.get(layer.inputs[0])
        if source is None or readers.get(source.output) != [i] or \
                source.output == graph.output_name:
            continue
        function = layer.fused_reference(source)
        if function is not None:
            fused[i] = (source, function)
    return fused


def _chunk_size(graph: DataflowGraph, memory_budget_mb: float, skipped=()) -> int:
    per_image = max([int(np.prod(layer.out_shape())) for layer in graph.layers
                     if layer.output not in skipped] + [1])
    return max(1, int(memory_budget_mb * 2 ** 20 // (per_image * 8)))


def _steps(graph: DataflowGraph, fuse: bool) -> list:
    """``(layer, input names, function)`` per executed step, in graph order."""
    fused = _fused_producers(graph) if fuse else {}
    skipped = {source.output for source, _ in fused.values()}
    steps = []
    for i, layer in enumerate(graph.layers):
        if layer.output in skipped:
            continue
        if i in fused:
            source, function = fused[i]
            steps.append((layer, source.inputs, source.in_shapes(), function))
        else:
            steps.append((layer, layer.inputs, layer.in_shapes(), layer.reference))
    return steps


def _run_chunk(graph: DataflowGraph, steps: list, images: np.ndarray, keep_all: bool) -> dict:
    n = images.shape[0]
    tensors = {graph.input_name: images}
    last_use = {}
    for i, (_, inputs, _, _) in enumerate(steps):
        for name in inputs:
            last_use[name] = i
    for i, (layer, names, shapes, run) in enumerate(steps):
        inputs = [tensors[name].reshape((n,) + tuple(shape)) for name, shape in zip(names, shapes)]
        tensors[layer.output] = run(*inputs)
        if not keep_all:
            for name in names:
                if last_use[name] == i and name != graph.output_name:
                    del tensors[name]
    return tensors


def execute(graph: DataflowGraph, images_nhwc_uint8: np.ndarray, return_all: bool = False, *,
            batch_size: int | None = None, memory_budget_mb: float = 256.0,
            threads: int | None = None):
    """Run the HW-layer graph on uint8 NHWC images, bit-exactly.

    Args:
        graph: the compiled dataflow graph.
        images_nhwc_uint8: ``(N, H, W, C)`` uint8 pixels (a single ``(H, W, C)`` image is
            accepted too).
        return_all: also return every intermediate stream.
        batch_size: images per chunk (default: chosen from ``memory_budget_mb``).
        memory_budget_mb: approximate memory for the largest intermediates of all chunks in
            flight together.
        threads: chunks run in parallel (default: the CPUs this process may use); results do
            not depend on it.

    Returns:
        ``(N, k)`` top-k class indices (the graph output), or with ``return_all`` a dict of
        every stream by name, each ``(N, *shape)``.

    Raises:
        ExecutionInputError: wrong dtype / shape / type of ``images_nhwc_uint8``.
    """
    images = _check_images(graph, images_nhwc_uint8)
    steps = _steps(graph, fuse=not return_all)
    skipped = {layer.output for layer in graph.layers} - {step[0].output for step in steps}
    threads = max(1, int(threads or usable_cpus()))
    n = images.shape[0]
    if batch_size:
        chunk = int(batch_size)
    else:
        chunk = _chunk_size(graph, memory_budget_mb / threads, skipped)
        chunk = max(1, min(chunk, -(-n // threads)))
    starts = list(range(0, n, chunk)) or [0]

    def run(start):
        return _run_chunk(graph, steps, images[start:start + chunk], return_all)

    with _single_threaded_blas():
        if threads == 1 or len(starts) == 1:
            parts = [run(start) for start in starts]
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = list(pool.map(run, starts))
    if not return_all:
        return np.concatenate([p[graph.output_name] for p in parts])
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
