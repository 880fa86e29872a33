# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Checkpoints and dataset files as untrusted input: crafted, truncated, non-finite, oversized
or malicious files are refused with a clear error before anything large is allocated, and
nothing in them runs."""
import gzip
import os
import resource
import shutil
import zlib

import numpy as np
import pytest
import torch

from pynq_bnn.checkpoint import CheckpointError, load_model, save_checkpoint
from pynq_bnn.data import DataError, load_dataset

from .conftest import assert_clear_error, call, tiny_lfc


def _rewrite(src, dst, edit):
    ckpt = torch.load(src, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, dst)
    return dst


def _first_packed(ckpt):
    return next(iter(ckpt["packed_weights"].values()))


def _set_bits(ckpt, bits):
    _first_packed(ckpt)["bits"] = bits


def _nan_weight(ckpt):
    key = next(k for k, v in ckpt["state_dict"].items() if v.is_floating_point())
    ckpt["state_dict"][key] = ckpt["state_dict"][key].clone().fill_(float("nan"))


def _inf_running_var(ckpt):
    key = next(k for k in ckpt["state_dict"] if k.endswith("running_var"))
    ckpt["state_dict"][key] = ckpt["state_dict"][key].clone().fill_(float("inf"))


CHECKPOINT_CASES = [
    ("packed-bits-truncated", True,
     lambda c: _set_bits(c, _first_packed(c)["bits"][:-1].clone()), "needs exactly"),
    ("packed-bits-extra", True,
     lambda c: _set_bits(c, torch.cat([_first_packed(c)["bits"],
                                       torch.zeros(3, dtype=torch.uint8)])),
     "needs exactly"),
    ("packed-bits-wrong-dtype", True,
     lambda c: _set_bits(c, _first_packed(c)["bits"].to(torch.int64)), "uint8"),
    ("packed-shape-negative", True,
     lambda c: _first_packed(c).__setitem__("shape", [-32, 784]), "invalid shape"),
    ("packed-shape-huge", True,
     lambda c: _first_packed(c).__setitem__("shape", [1 << 20, 1 << 20]), "refusing to allocate"),
    ("packed-shape-float", True,
     lambda c: _first_packed(c).__setitem__("shape", [32.5, 784]), "not an integer"),
    ("nan-weight", False, _nan_weight, "NaN or infinity"),
    ("inf-running-var", False, _inf_running_var, "NaN or infinity"),
    ("config-huge-int", False,
     lambda c: c["config"].__setitem__("hidden", [10 ** 9, 32]), "out of range"),
    ("config-wider-than-weights", False,
     lambda c: c["config"].__setitem__("hidden", [1 << 19, 1 << 19]), "does not match"),
    ("config-unknown-preset", False,
     lambda c: c["config"].__setitem__("name", "nope"), "cannot rebuild"),
    ("wrong-format", False, lambda c: c.__setitem__("format", "other"), "not a pynq_bnn"),
    ("newer-version", False, lambda c: c.__setitem__("version", 99), "version 99"),
    ("state-dict-not-tensors", False,
     lambda c: c["state_dict"].__setitem__("extra", "text"), "map names to tensors"),
]


@pytest.mark.parametrize("name,compact,edit,match", CHECKPOINT_CASES,
                         ids=[c[0] for c in CHECKPOINT_CASES])
def test_hostile_checkpoint(name, compact, edit, match, tiny_ckpt, tiny_compact, tmp_path):
    path = _rewrite(tiny_compact if compact else tiny_ckpt, tmp_path / "bad.pt", edit)
    with pytest.raises(CheckpointError, match=match):
        load_model(path)


def test_crafted_config_allocates_nothing_large(tiny_ckpt, tmp_path):
    """A config asking for ~1e12 parameters is refused under a 1.5 GB address-space limit."""
    path = _rewrite(tiny_ckpt, tmp_path / "big.pt",
                    lambda c: c["config"].__setitem__("hidden", [(1 << 20) - 1] * 3))
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            with open("/proc/self/status") as handle:
                vm = next(int(line.split()[1]) for line in handle if line.startswith("VmSize"))
            limit = vm * 1024 + (1536 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            load_model(path)
        except CheckpointError:
            code = 0
        except MemoryError:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_malicious_pickle_is_not_executed(tmp_path, capsys):
    from pynq_bnn.eval.__main__ import main

    sentinel = tmp_path / "PWNED"
    torch.save({"format": "pynq_bnn.checkpoint", "payload": _Exploit(sentinel)},
               tmp_path / "evil.pt")
    rc = call(main, ["--checkpoint", str(tmp_path / "evil.pt"), "--no-progress"])
    assert_clear_error(rc, capsys.readouterr().err, match="not a readable checkpoint")
    assert not sentinel.exists()


def test_truncated_bits_through_the_eval_cli(tiny_compact, tmp_path, data_dir, capsys):
    """Used to load zero-padded (10 % accuracy) without a word."""
    from pynq_bnn.eval.__main__ import main

    path = _rewrite(tiny_compact, tmp_path / "cut.pt",
                    lambda c: _set_bits(c, _first_packed(c)["bits"][:-5].clone()))
    rc = call(main, ["--checkpoint", str(path), "--data-dir", str(data_dir), "--no-progress"])
    assert_clear_error(rc, capsys.readouterr().err, match="truncated or corrupt")


def test_non_finite_model_is_never_saved(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", tiny_lfc(), metrics={}, epoch=1)
    before = path.read_bytes()
    model = tiny_lfc()
    with torch.no_grad():
        next(model.parameters()).fill_(float("inf"))
    with pytest.raises(CheckpointError, match="previous checkpoint is kept"):
        save_checkpoint(path, model, metrics={}, epoch=2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


# --- dataset files -------------------------------------------------------------------------

def _mnist_dir(tmp_path, data_dir, images: bytes) -> str:
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    shutil.copy(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", folder)
    return str(tmp_path / "data")


def _gzip_bomb(size: int) -> bytes:
    """A valid gzip stream of ``size`` zero bytes (a few hundred KB compressed)."""
    squeezer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [squeezer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + squeezer.flush()


def test_gzip_bomb_is_refused_at_the_expected_size(tmp_path, data_dir, monkeypatch):
    """64 MB of zeros (~250 KB compressed; a real bomb is only bigger) is refused once the
    7.8 MB of a test-images file are exceeded: decompression never buffers more."""
    import pynq_bnn.data.mnist as mnist

    bomb = _gzip_bomb(64 << 20)
    assert len(bomb) < 1 << 20
    folder = _mnist_dir(tmp_path, data_dir, bomb)
    seen = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, *a, **k):
            self.inner = real(*a, **k)

        def decompress(self, data, max_length=0):
            out = self.inner.decompress(data, max_length)
            seen.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(mnist.zlib, "decompressobj", Spy)
    with pytest.raises(DataError, match="decompresses to more than"):
        load_dataset("mnist", "test", folder)
    assert seen and max(seen) <= 16 + 10000 * 784 + 1


@pytest.mark.parametrize("content,match", [
    (gzip.compress(b"\x00\x00\x08\x03" + bytes(100))[:-20], "truncated|not a readable"),
    (b"this is not gzip at all", "not a readable gzip"),
    (gzip.compress(np.array([2051, 10000, 28, 28], dtype=">u4").tobytes()
                   + bytes(10000 * 784)), "checksum mismatch"),
], ids=["truncated-gzip", "not-gzip", "zeros-with-valid-header"])
def test_bad_mnist_file(content, match, tmp_path, data_dir):
    folder = _mnist_dir(tmp_path, data_dir, content)
    with pytest.raises(DataError, match=match):
        load_dataset("mnist", "test", folder)


def test_oversized_cifar_file_is_not_read(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    with open(folder / "test_batch.bin", "wb") as handle:  # sparse: 8 GB, no disk used
        handle.truncate(8 << 30)
    with pytest.raises(DataError, match="expected 30730000"):
        load_dataset("cifar10", "test", str(tmp_path))


def test_data_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_dataset("mnist", "test", str(tmp_path / "f"))


# --- compiler input files --------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["empty", "not-onnx", "truncated-export"])
def test_bad_onnx_file_names_the_file(kind, golden, tmp_path):
    from pynq_bnn.compiler import compile_qonnx

    path = tmp_path / "model.onnx"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "not-onnx":
        path.write_text("name,value\nlfc,1\n")
    else:
        data = (golden / ".lfc.work" / "export" / "model.onnx").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=str(path)):
        compile_qonnx(path)
