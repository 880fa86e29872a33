# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Fault injection into the build: ``kill -9`` at step boundaries, mid-write and between the two
renames of the package swap, a full disk, stale or truncated cache files, concurrent builds.

Every case asserts the outcome: the previous package is intact (byte for byte) or the next run
recovers it, the next build gives a correct package, and nothing is left behind.
"""
import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from pynq_bnn.compiler import package_io
from pynq_bnn.compiler.build import build_overlay

from .conftest import (assert_clear_error, build_config, call, kill_self, leftovers, run_killed,
                       tree_state)


def _folding_consistent(package: Path) -> dict:
    """The package's graph.json folding equals the folding its report says was built."""
    from pynq_bnn.compiler import load_graph
    from pynq_bnn.compiler.folding import get_folding

    report = json.loads((package / "report.json").read_text())
    folding = get_folding(load_graph(package))
    assert folding == report["steps"]["fold"]["folding"]
    return folding


def _config(overlays, tiny_ckpt, data_dir, **kw):
    return build_config(tiny_ckpt, overlays / "lfc", data_dir, **kw)


def test_kill_between_swap_renames_restores_previous_package(overlays, tiny_ckpt, data_dir,
                                                            monkeypatch):
    out = overlays / "lfc"
    before = tree_state(out)
    config = _config(overlays, tiny_ckpt, data_dir)

    def trigger():
        real = os.replace

        def replace(src, dst):
            real(src, dst)
            if Path(src) == out and ".old-" in str(dst):
                kill_self()
        monkeypatch.setattr(os, "replace", replace)

    run_killed(lambda: build_overlay(config), trigger)
    assert not out.exists()  # the worst moment: only the hidden old copy exists
    assert any(".old-" in name for name in leftovers(overlays))
    build_overlay(_config(overlays, tiny_ckpt, data_dir, stop="load"))  # the next run recovers
    assert tree_state(out) == before
    assert leftovers(overlays) == []


def test_kill_mid_package_write_keeps_previous_then_cleans(overlays, tiny_ckpt, data_dir,
                                                          monkeypatch):
    import pynq_bnn.driver.package as package

    out = overlays / "lfc"
    before = tree_state(out)
    config = _config(overlays, tiny_ckpt, data_dir)

    def trigger():
        real = package.make_package

        def partial(graph, folder, **kw):
            real(graph, folder, **kw)
            kill_self()
        monkeypatch.setattr(package, "make_package", partial)

    run_killed(lambda: build_overlay(config), trigger)
    assert tree_state(out) == before
    assert any(".pkg-" in name for name in leftovers(overlays))
    result = build_overlay(config)
    assert result.package == out and package_io.is_package(out)
    assert leftovers(overlays) == []
    _folding_consistent(out)


@pytest.mark.parametrize("boundary", ["load", "fold", "hls"])
def test_kill_at_step_boundary_then_resume(boundary, overlays, tiny_ckpt, data_dir,
                                           monkeypatch):
    import pynq_bnn.compiler.build as build

    out = overlays / "lfc"
    before = tree_state(out)
    shutil.rmtree(overlays / ".lfc.work")  # every step runs
    config = _config(overlays, tiny_ckpt, data_dir)

    def trigger():
        real = build._write_stamp

        def stamp(work, step, key, summary):
            real(work, step, key, summary)
            if step == boundary:
                kill_self()
        monkeypatch.setattr(build, "_write_stamp", stamp)

    run_killed(lambda: build_overlay(config), trigger)
    assert tree_state(out) == before  # the package is untouched by an unfinished build
    result = build_overlay(config)
    order = build.STEP_ORDER
    assert result.cached == list(order[:order.index(boundary) + 1])
    assert leftovers(overlays) == [] and package_io.is_package(out)
    _folding_consistent(out)


def test_kill_after_fold_wrote_before_stamp_is_not_cached(overlays, tiny_ckpt, data_dir,
                                                          monkeypatch):
    """Outputs of an unrecorded fold (another --target-fps) never pass for the cached ones."""
    import pynq_bnn.compiler.build as build

    out = overlays / "lfc"
    first = _folding_consistent(out)
    other = _config(overlays, tiny_ckpt, data_dir, target_fps=300)

    def trigger():
        def stamp(work, step, key, summary):
            if step == "fold":
                kill_self()
            real(work, step, key, summary)
        real = build._write_stamp
        monkeypatch.setattr(build, "_write_stamp", stamp)

    run_killed(lambda: build_overlay(other), trigger)
    result = build_overlay(_config(overlays, tiny_ckpt, data_dir))
    assert "fold" not in result.cached and "compile" in result.cached
    assert _folding_consistent(out) == first


def test_truncated_cached_output_is_redone(overlays, tiny_ckpt, data_dir):
    """A 0-byte cached file newer than everything else (a killed write) is detected by hash."""
    graph = overlays / ".lfc.work" / "fold" / "graph.json"
    graph.write_bytes(b"")
    result = build_overlay(_config(overlays, tiny_ckpt, data_dir))
    assert "fold" not in result.cached and "compile" in result.cached
    assert graph.stat().st_size > 0
    _folding_consistent(overlays / "lfc")


def test_zero_byte_testbench_is_never_reused(overlays, monkeypatch):
    """A g++ killed mid-link must not leave a binary that later builds take for finished."""
    from pynq_bnn.compiler.hls import verify

    hls = overlays / ".lfc.work" / "hls"
    csim = hls / "hls" / "csim"
    csim.mkdir(parents=True, exist_ok=True)
    compiled = []

    def fake_compile(sources, exe, **kw):
        Path(exe).write_bytes(b"")  # the linker has created its output ...
        kill_self()                 # ... and is killed

    monkeypatch.setattr(verify, "compile_cpp", fake_compile)
    run_killed(lambda: verify.build_csim(hls), lambda: None)
    assert not (csim / "tb").exists()  # only a partial name was ever written
    (csim / "tb").write_bytes(b"")  # the old poison: 0 bytes, newer than its sources
    os.utime(csim / "tb", (4e9, 4e9))

    def good_compile(sources, exe, **kw):
        compiled.append(exe)
        Path(exe).write_bytes(b"\x7fELF binary")

    monkeypatch.setattr(verify, "compile_cpp", good_compile)
    exe = verify.build_csim(hls)
    assert compiled and exe.read_bytes() == b"\x7fELF binary"
    assert not list(csim.glob("tb.partial-*"))
    assert verify.build_csim(hls) == exe and len(compiled) == 1  # now cached by content hash


def test_full_disk_while_packaging(overlays, tiny_ckpt, data_dir, build_cli, capsys,
                                   monkeypatch):
    out = overlays / "lfc"
    before = tree_state(out)

    def no_space(tmp, *a, **k):  # the package's last write: its ownership marker
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    monkeypatch.setattr(package_io, "mark_complete", no_space)
    rc = call(build_cli.main, ["-q", "--model", "lfc", "--checkpoint", str(tiny_ckpt),
                               "--data-dir", str(data_dir), "--out", str(out),
                               "--verify-images", "16", "--csim-images", "8",
                               "--target-fps", "20000"])
    assert_clear_error(rc, capsys.readouterr().err, code=1, match="no space left")
    assert tree_state(out) == before and leftovers(overlays) == []


def test_concurrent_build_into_same_folder_is_refused(overlays, tiny_ckpt, data_dir, build_cli,
                                                      capsys):
    out = overlays / "lfc"
    before = tree_state(out)
    ready_r, ready_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # another build holding the lock
        try:
            package_io.output_lock(out).acquire()
            os.write(ready_w, b"1")
            os.read(hold_r, 1)
        finally:
            os._exit(0)
    os.read(ready_r, 1)
    argv = ["-q", "--model", "lfc", "--checkpoint", str(tiny_ckpt), "--data-dir", str(data_dir),
            "--out", str(out), "--verify-images", "16", "--csim-images", "8", "--target-fps",
            "20000", "--clock-mhz", "120"]
    try:
        rc = call(build_cli.main, argv)
        assert_clear_error(rc, capsys.readouterr().err, match=f"pid {pid}")
        assert tree_state(out) == before
    finally:
        os.kill(pid, 9)  # kill -9 of the holder frees the lock
        os.waitpid(pid, 0)
    assert call(build_cli.main, argv) == 0
    spec = json.loads((out / "accelerator.json").read_text())
    assert spec["clock_mhz"] == 120.0 and leftovers(overlays) == []


def test_concurrent_builds_sharing_a_work_folder_are_refused(overlays, tiny_ckpt, data_dir):
    """Two outputs, one --work-dir: the second build stops instead of mixing the caches."""
    from pynq_bnn.compiler.build import BuildInputError

    work = overlays / ".lfc.work"
    holder = package_io.work_lock(work).acquire()
    try:
        with pytest.raises(BuildInputError, match="work folder"):
            build_overlay(build_config(tiny_ckpt, overlays / "other", data_dir,
                                       work_dir=str(work)))
    finally:
        holder.release()
    assert not (overlays / "other").exists() and leftovers(overlays) == []


def test_killed_step_temporaries_in_work_folder_are_cleaned(overlays, tiny_ckpt, data_dir):
    work = overlays / ".lfc.work"
    (work / ".hls.tmp-k1ll3d").mkdir()
    (work / ".hls.tmp-k1ll3d" / "bnn_top.cpp").write_text("half")
    (work / ".hls.old-999999").mkdir()
    (work / ".fold.stamp.json.999999.x.tmp").write_text("{")
    build_overlay(_config(overlays, tiny_ckpt, data_dir))
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == sorted(
        [".pynq_bnn_work.json"] + [f".{s}.stamp.json" for s in
                                   ("load", "export", "compile", "fold", "estimate", "verify",
                                    "hls", "csim")])


def test_kill_mid_export_then_next_export_cleans(tmp_path, monkeypatch):
    from pynq_bnn.export import export_qonnx, qonnx_export

    from .conftest import tiny_lfc

    target = tmp_path / "m.onnx"
    (tmp_path / "keep.txt").write_text("user file")

    def trigger():
        def killed(exporter, model, example, raw, **kw):
            Path(raw).write_bytes(b"partial onnx")
            kill_self()
        monkeypatch.setattr(qonnx_export, "_brevitas_export", killed)

    run_killed(lambda: export_qonnx(tiny_lfc(), target), trigger)
    assert not target.exists() and len(list(tmp_path.glob(".export.*"))) == 1
    export_qonnx(tiny_lfc(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "m.onnx"]
