# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Hostile options of ``build/build_overlay.py``: each is one clear error line, exit 2, found
before any step runs — nothing written, nothing deleted, nothing executed."""
import json
import os

import pytest

from .conftest import assert_clear_error, call, tree_state

# (id, option overrides ({tmp} is the test's folder; None drops the option), files to create
#  first ({path: text}, None for a folder), text the error must contain)
CASES = [
    ("model-dotdot", {"--model": ".."}, {}, "invalid model"),
    ("model-traversal", {"--model": "../../x"}, {}, "invalid model"),
    ("model-tcl-exec", {"--model": "x[exec touch {tmp}/PWNED]"}, {}, "invalid model"),
    ("model-shell-subst", {"--model": "$(touch {tmp}/PWNED)"}, {}, "invalid model"),
    ("model-empty", {"--model": ""}, {}, "invalid model"),
    ("model-semicolon", {"--model": "lfc;touch {tmp}/PWNED"}, {}, "invalid model"),
    ("model-too-long", {"--model": "l" * 65}, {}, "invalid model"),
    ("model-typo", {"--model": "lcf"}, {}, "did you mean 'lfc'"),
    ("model-checkpoint-mismatch", {"--model": "cnv"}, {}, "holds model 'lfc'"),
    ("board-unknown", {"--board": "zybo"}, {}, "unknown board"),
    ("board-typo", {"--board": "pynq-z3"}, {}, "did you mean"),
    ("clock-nan", {"--clock-mhz": "nan"}, {}, "finite"),
    ("clock-inf", {"--clock-mhz": "inf"}, {}, "finite"),
    ("clock-zero", {"--clock-mhz": "0"}, {}, "positive"),
    ("clock-negative", {"--clock-mhz": "-100"}, {}, "positive"),
    ("clock-1e6", {"--clock-mhz": "1e6"}, {}, "at most"),
    ("fps-zero", {"--target-fps": "0"}, {}, "positive"),
    ("fps-nan", {"--target-fps": "nan"}, {}, "finite"),
    ("jobs-negative", {"--jobs": "-3"}, {}, "--jobs"),
    ("jobs-zero", {"--jobs": "0"}, {}, "--jobs"),
    ("verify-images-zero", {"--verify-images": "0"}, {}, "--verify-images"),
    ("verify-images-negative", {"--verify-images": "-1"}, {}, "--verify-images"),
    ("csim-images-zero", {"--csim-images": "0"}, {}, "--csim-images"),
    ("folding-fractional-pe", {"--target-fps": None, "--folding": "{tmp}/f.json"},
     {"f.json": '{"mvau_0": {"PE": 4.9}}'}, "whole number"),
    ("folding-negative-simd", {"--target-fps": None, "--folding": "{tmp}/f.json"},
     {"f.json": '{"mvau_0": {"SIMD": -1}}'}, "at least 1"),
    ("folding-not-json", {"--target-fps": None, "--folding": "{tmp}/f.json"},
     {"f.json": "PE=4"}, "not a valid folding"),
    ("folding-missing", {"--target-fps": None, "--folding": "{tmp}/none.json"}, {},
     "not found"),
    ("out-is-file", {"--out": "{tmp}/file"}, {"file": "user data"}, "is a file"),
    ("out-user-folder", {"--out": "{tmp}/myproject"},
     {"myproject": None, "myproject/thesis.tex": "irreplaceable"}, "not a pynq_bnn package"),
    ("out-parent-is-file", {"--out": "{tmp}/file/lfc"}, {"file": "x"}, "cannot create"),
    ("out-symlink", {"--out": "{tmp}/link"}, {"real": None, "real/notes.txt": "mine"},
     "not a pynq_bnn package"),
    ("work-dir-user-folder", {"--work-dir": "{tmp}/src"},
     {"src": None, "src/main.c": "int main;"}, "not a pynq_bnn work folder"),
    ("work-dir-is-out", {"--out": "{tmp}/o/lfc", "--work-dir": "{tmp}/o/lfc"}, {},
     "separate folders"),
    ("work-dir-inside-out", {"--out": "{tmp}/o/lfc", "--work-dir": "{tmp}/o/lfc/w"}, {},
     "separate folders"),
    ("checkpoint-missing", {"--checkpoint": "{tmp}/none.pt"}, {}, "not found"),
    ("checkpoint-empty", {"--checkpoint": "{tmp}/empty.pt"}, {"empty.pt": ""}, "empty"),
    ("checkpoint-garbage", {"--checkpoint": "{tmp}/junk.pt"}, {"junk.pt": "not torch"},
     "not a readable checkpoint"),
    ("data-dir-missing", {"--data-dir": "{tmp}/nodata"}, {}, "does not exist"),
    ("clock-not-a-number", {"--clock-mhz": "fast"}, {}, "invalid float"),
]


def _argv(tiny_ckpt, data_dir, tmp, overrides) -> list:
    options = {"--model": "lfc", "--checkpoint": str(tiny_ckpt), "--data-dir": str(data_dir),
               "--out": f"{tmp}/overlays/lfc", "--verify-images": "16", "--csim-images": "8",
               "--target-fps": "20000"}
    options.update(overrides)
    argv = ["-q"]
    for key, value in options.items():
        if value is not None:
            argv += [key, value.replace("{tmp}", str(tmp))]
    return argv


@pytest.mark.parametrize("name,overrides,files,match", CASES, ids=[c[0] for c in CASES])
def test_hostile_build_option(name, overrides, files, match, build_cli, tiny_ckpt, data_dir,
                              tmp_path, capsys, monkeypatch):
    work = tmp_path / "t"
    work.mkdir()
    for rel, text in files.items():
        if text is None:
            (work / rel).mkdir(parents=True)
        else:
            (work / rel).write_text(text)
    if name == "out-symlink":
        (work / "link").symlink_to(work / "real")
    monkeypatch.chdir(work)
    before = tree_state(work)
    rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, work, overrides))
    assert_clear_error(rc, capsys.readouterr().err, match=match)
    assert tree_state(work) == before  # nothing written, nothing deleted
    assert sorted(p.name for p in work.iterdir()) == sorted(
        {rel.split("/")[0] for rel in files} | ({"link"} if name == "out-symlink" else set()))
    assert not (work / "PWNED").exists()


def test_out_current_folder_is_refused(build_cli, tiny_ckpt, data_dir, tmp_path, capsys,
                                       monkeypatch):
    """``--out .`` (even an empty one) would rename the folder the user stands in."""
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, tmp_path, {"--out": "."}))
    assert_clear_error(rc, capsys.readouterr().err, match="current folder")
    assert (tmp_path / "here").is_dir() and list(tmp_path.iterdir()) == [tmp_path / "here"]


def test_out_home_like_folder_with_package_files_is_refused(build_cli, tiny_ckpt, data_dir,
                                                            tmp_path, capsys):
    """A folder with a stray accelerator.json only is still not a package."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "accelerator.json").write_text("{}")
    (tmp_path / "proj" / "code.py").write_text("print(1)")
    rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, tmp_path,
                                    {"--out": f"{tmp_path}/proj"}))
    assert_clear_error(rc, capsys.readouterr().err, match="not a pynq_bnn package")
    assert (tmp_path / "proj" / "code.py").read_text() == "print(1)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_parent_is_refused(build_cli, tiny_ckpt, data_dir, tmp_path, capsys):
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o555)
    try:
        rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, tmp_path,
                                        {"--out": f"{tmp_path}/ro/x"}))
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    assert_clear_error(rc, capsys.readouterr().err, match="cannot create")


def test_hostile_name_never_reaches_tcl(build_cli, tiny_ckpt, data_dir, tmp_path, capsys):
    """End to end: no project, no Tcl file, no command run for a Tcl/shell-injection name."""
    sentinel = tmp_path / "PWNED"
    for name in (f"x[exec touch {sentinel}]", f"x;exec touch {sentinel}", "x\ncreate_bd",
                 "x}; exec touch y; {", "x$env(HOME)"):
        rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, tmp_path, {"--model": name}))
        assert_clear_error(rc, capsys.readouterr().err, match="invalid model")
    assert not sentinel.exists()
    assert not list(tmp_path.rglob("*.tcl")) and not (tmp_path / "overlays").exists()


def test_folding_values_must_be_whole_numbers_in_the_api():
    """``apply_folding`` itself refuses PE 4.9 (it used to become 4)."""
    from pynq_bnn.compiler.folding import FoldingError, apply_folding

    class Layer:
        name, kind = "mvau_0", "MVAU"
        attrs = {"PE": 1}

        def folding_space(self):
            return {"PE": [1, 2, 4, 8]}

    with pytest.raises(FoldingError, match="whole number"):
        apply_folding([Layer()], {"mvau_0": {"PE": 4.9}}, validate=False)
    apply_folding([Layer()], json.loads('{"mvau_0": {"PE": 4}}'), validate=False)


def test_unreadable_data_is_reported_before_any_step(build_cli, tiny_ckpt, data_dir, tmp_path,
                                                     capsys, monkeypatch):
    def unreadable(name, split, folder=None, **kw):
        raise PermissionError(13, "Permission denied", f"{folder}/mnist/t10k-images-idx3-ubyte.gz")

    monkeypatch.setattr("pynq_bnn.data.load_dataset", unreadable)
    rc = call(build_cli.main, _argv(tiny_ckpt, data_dir, tmp_path, {}))
    assert_clear_error(rc, capsys.readouterr().err, match="permission denied")
    assert not (tmp_path / "overlays").exists()
