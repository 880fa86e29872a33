# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The steps of an overlay build (see :mod:`pynq_bnn.compiler.build` for the driver).

Each step is ``step(ctx) -> dict`` (a small JSON summary that goes into ``report.json``); it reads
what earlier steps left in ``ctx.work/<step>/`` and writes its own outputs to
``ctx.step_dir(name)``. Steps never write into the final package; only ``package`` does, through
a temporary folder renamed at the end.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np

__all__ = ["STEPS", "VerificationFailed", "file_sha256"]

log = logging.getLogger(__name__)


class VerificationFailed(RuntimeError):
    """An equivalence check failed: the build stops and packages nothing."""


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def step_load(ctx) -> dict:
    """Resolve the checkpoint (explicit path or the shipped one) and record its hash."""
    from pynq_bnn.checkpoint import resolve_checkpoint

    path = Path(resolve_checkpoint(ctx.config.checkpoint or ctx.config.model)).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found; pass --checkpoint PATH")
    info = {"checkpoint": str(path), "sha256": file_sha256(path)}
    (ctx.step_dir("load") / "checkpoint.json").write_text(json.dumps(info, indent=2))
    return info


def _model(ctx):
    from pynq_bnn.checkpoint import load_model

    if ctx.cache.get("model") is None:
        info = json.loads((ctx.work / "load" / "checkpoint.json").read_text())
        model, ckpt = load_model(info["checkpoint"])
        if model.config.get("name") != ctx.config.model:
            raise ValueError(f"checkpoint {info['checkpoint']} holds model "
                             f"{model.config.get('name')!r}, not {ctx.config.model!r}")
        ctx.cache["model"] = model
    return ctx.cache["model"]


def step_export(ctx) -> dict:
    """Brevitas -> QONNX (``export/model.onnx``)."""
    from pynq_bnn.export import export_qonnx

    path = ctx.step_dir("export") / "model.onnx"
    export_qonnx(_model(ctx), path)
    return {"onnx": str(path), "config": _model(ctx).config}


def step_compile(ctx) -> dict:
    """QONNX -> streamlined dataflow graph of HW layers (``compile/graph.json``)."""
    from pynq_bnn.compiler import compile_qonnx, save_graph

    graph = compile_qonnx(ctx.work / "export" / "model.onnx")
    graph.meta.setdefault("model", ctx.config.model)
    save_graph(graph, ctx.step_dir("compile"))
    return {"layers": [f"{layer.name}:{layer.kind}" for layer in graph.layers]}


def _graph(ctx, step: str):
    from pynq_bnn.compiler import load_graph

    key = f"graph:{step}"
    if key not in ctx.cache:
        ctx.cache[key] = load_graph(ctx.work / step)
    return ctx.cache[key]


def step_fold(ctx) -> dict:
    """PE/SIMD per layer: from ``--folding FILE``, ``--target-fps``, or the fastest that fits."""
    from pynq_bnn.compiler import save_graph
    from pynq_bnn.compiler.folding import apply_folding, fold_for_fps, fold_to_fit, get_folding, \
        load_folding, save_folding

    graph = _graph(ctx, "compile")
    cfg = ctx.config
    if cfg.folding_file:
        apply_folding(graph, load_folding(cfg.folding_file))
        how = f"file {cfg.folding_file}"
    elif cfg.target_fps:
        fold_for_fps(graph, cfg.target_fps, cfg.board, cfg.clock_mhz)
        how = f"target {cfg.target_fps} FPS"
    else:
        fold_to_fit(graph, cfg.board, cfg.clock_mhz)
        how = "fastest that fits the board"
    folding = get_folding(graph)
    folder = ctx.step_dir("fold")
    save_graph(graph, folder)
    save_folding(folding, folder / "folding.json")
    ctx.cache["graph:fold"] = graph
    return {"method": how, "folding": folding}


def step_estimate(ctx) -> dict:
    """Cycles, FPS, latency and resources of the folded graph (``estimate/estimate.json``)."""
    from pynq_bnn.compiler.estimate import estimate, write_report

    est = estimate(_graph(ctx, "fold"), ctx.config.board, ctx.config.clock_mhz)
    path = write_report(est, ctx.step_dir("estimate") / "estimate.json")
    return json.loads(Path(path).read_text())


def _test_images(ctx, count: int):
    from pynq_bnn.data import load_dataset

    dataset = _model(ctx).config.get("dataset")
    if not dataset:
        raise ValueError(f"model config of {ctx.config.model!r} names no dataset")
    data = load_dataset(dataset, "test", ctx.config.data_dir)
    ctx.cache["data_name"] = data.name
    count = min(int(count), len(data.labels))
    return data.images[:count], data.labels[:count].astype(np.int64), data.classes


TIE_RTOL = 1e-5  # float noise of Brevitas logits is ~1e-7 relative; one integer step is >1e-4


def step_verify(ctx) -> dict:
    """Brevitas (eval) top-1 == numpy dataflow top-1 on every one of ``--verify-images``.

    Brevitas computes the logits in float: accumulators that are equal integers can come out a
    few ulps apart (the products of the weight and activation scales are summed in float), so on
    an exact integer tie its argmax is float noise. An image counts as matching when the
    dataflow's class has the maximal Brevitas logit up to ``TIE_RTOL`` of the largest magnitude;
    such tie cases are counted separately (``float_ties``).
    """
    import torch

    from pynq_bnn.compiler import execute
    from pynq_bnn.zoo import to_model_input

    images, labels, _ = _test_images(ctx, ctx.config.verify_images)
    model = _model(ctx)
    logits = []
    with torch.no_grad():
        for start in range(0, len(images), 250):
            logits.append(model(to_model_input(images[start:start + 250])).double().numpy())
    logits = np.concatenate(logits)
    torch_top1 = logits.argmax(axis=1)
    hw_top1 = np.asarray(execute(_graph(ctx, "fold"), images.transpose(0, 2, 3, 1)))[:, 0]
    tol = TIE_RTOL * np.abs(logits).max(axis=1)
    tied = logits[np.arange(len(images)), hw_top1] >= logits.max(axis=1) - tol
    mismatch = np.nonzero((torch_top1 != hw_top1) & ~tied)[0]
    result = {"images": int(len(images)), "mismatches": int(mismatch.size),
              "float_ties": int(((torch_top1 != hw_top1) & tied).sum()),
              "first_mismatches": mismatch[:10].tolist(),
              "data": ctx.cache["data_name"],
              "accuracy_brevitas": float((torch_top1 == labels).mean()),
              "accuracy_dataflow": float((hw_top1 == labels).mean())}
    if mismatch.size:
        raise VerificationFailed(f"numpy dataflow graph differs from Brevitas on {mismatch.size} "
                                 f"of {len(images)} images (first: {mismatch[:10].tolist()})")
    return result


def step_hls(ctx) -> dict:
    """Render and write the HLS + Vivado project (``hls/``), then run the static checks of the
    rules Vitis HLS enforces (:mod:`pynq_bnn.compiler.hls.static_check`; fails on a finding)."""
    from pynq_bnn.compiler.hls.project import write_project
    from pynq_bnn.compiler.hls.static_check import assert_project_clean

    project = write_project(_graph(ctx, "fold"), ctx.work / "hls", ctx.config.board,
                            ctx.config.clock_mhz, name=ctx.config.model, jobs=ctx.config.jobs)
    assert_project_clean(project.hls_dir)
    return {**project.to_dict(), "static_checks": "clean"}


def step_csim(ctx) -> dict:
    """g++ csim of the whole accelerator == numpy dataflow graph on ``--csim-images``."""
    from pynq_bnn.compiler.hls.verify import verify_csim

    images, _, _ = _test_images(ctx, ctx.config.csim_images)
    report = verify_csim(_graph(ctx, "fold"), ctx.work / "hls", images.transpose(0, 2, 3, 1),
                         progress=ctx.config.progress_bars)
    if not report.passed:
        raise VerificationFailed(f"HLS csim differs from the numpy graph on {report.mismatches} "
                                 f"of {report.images} images "
                                 f"(first: {report.mismatch_indices[:10]})")
    return {**report.as_dict(), "data": ctx.cache["data_name"]}


def step_synth(ctx) -> dict:
    """Vitis HLS: csynth + IP export (skipped with a message when the tool is absent)."""
    from pynq_bnn.compiler.toolchain import missing_tools_message, run_tool

    tools = ctx.toolchain()
    if not tools.vitis_hls:
        ctx.stop_after(missing_tools_message(tools, ctx.work / "hls"))
        return {"skipped": "Vitis HLS not found"}
    hls_dir = ctx.work / "hls" / "hls"
    seconds = run_tool([tools.vitis_hls, "-f", "hls.tcl"], hls_dir, ctx.config.synth_timeout_s,
                       ctx.work / "logs" / "vitis_hls.log")
    return {"seconds": round(seconds, 1), "tool": tools.vitis_hls,
            "version": tools.versions.get("vitis_hls", "")}


def step_bitstream(ctx) -> dict:
    """Vivado: block design, implementation, ``<model>.bit`` + ``.hwh``."""
    from pynq_bnn.compiler.toolchain import missing_tools_message, run_tool

    tools = ctx.toolchain()
    if not tools.vivado:
        ctx.stop_after(missing_tools_message(tools, ctx.work / "hls"))
        return {"skipped": "Vivado not found"}
    viv_dir = ctx.work / "hls" / "vivado"
    seconds = run_tool([tools.vivado, "-mode", "batch", "-source", "vivado.tcl"], viv_dir,
                       ctx.config.vivado_timeout_s, ctx.work / "logs" / "vivado.log")
    for ext in ("bit", "hwh"):
        if not (viv_dir / f"{ctx.config.model}.{ext}").is_file():
            raise RuntimeError(f"Vivado finished but {ctx.config.model}.{ext} is missing; see "
                               f"{ctx.work / 'logs' / 'vivado.log'}")
    return {"seconds": round(seconds, 1), "tool": tools.vivado}


def copy_tree(src: Path, dst: Path, skip=()) -> None:
    """Copy a folder, leaving out ``skip`` (relative paths: csim binary, tool project folders)."""
    def ignore(folder, names):
        rel = Path(folder).relative_to(src)
        return [n for n in names if str(rel / n) in skip or n.startswith(".")]

    shutil.copytree(src, dst, ignore=ignore)


STEPS = {
    "load": step_load, "export": step_export, "compile": step_compile, "fold": step_fold,
    "estimate": step_estimate, "verify": step_verify, "hls": step_hls, "csim": step_csim,
    "synth": step_synth, "bitstream": step_bitstream,
}
