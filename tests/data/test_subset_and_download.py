# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The shipped 1,000-image test subsets (the default without a data folder) and the opt-in
download, tested against a local HTTP server on 127.0.0.1 serving the shared data folder
(never the network)."""
import functools
import hashlib
import http.server
import io
import logging
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

import pynq_bnn.data.subset as subset
from pynq_bnn.data import DataError, load_dataset
from pynq_bnn.data.download import download

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_subset_is_the_first_1000_official_test_images(name, data_dir):
    shipped = subset.load_test_subset(name)
    full = load_dataset(name, "test", data_dir)
    assert len(shipped) == 1000 and shipped.classes == full.classes
    np.testing.assert_array_equal(shipped.images, full.images[:1000])
    np.testing.assert_array_equal(shipped.labels, full.labels[:1000])
    assert (subset.SUBSET_DIR / subset.subset_manifest()[name]["file"]).stat().st_size < 3_000_000


def test_subset_refuses_a_file_that_does_not_match_its_sha256(tmp_path, monkeypatch):
    copy = tmp_path / "subset"
    shutil.copytree(subset.SUBSET_DIR, copy)
    path = copy / "mnist-test-1000.npz"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(subset, "SUBSET_DIR", copy)
    subset._read.cache_clear()
    try:
        with pytest.raises(DataError, match="sha256"):
            subset.load_test_subset("mnist")
    finally:
        subset._read.cache_clear()


def test_without_a_data_folder_the_test_split_is_the_subset(monkeypatch, caplog):
    monkeypatch.delenv("PYNQ_BNN_DATA", raising=False)
    import pynq_bnn.data as data

    data._announce_subset.cache_clear()
    with caplog.at_level(logging.WARNING):
        test = load_dataset("cifar10", "test")
    assert len(test) == 1000 and "shipped subset" in test.name
    assert "python -m pynq_bnn.data download" in caplog.text
    with pytest.raises(DataError, match="pynq_bnn.data download"):
        load_dataset("cifar10", "train")


@pytest.fixture
def serve():
    """Start an HTTP server on 127.0.0.1 for a folder; returns its base URL."""
    servers = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    def start(folder) -> str:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_from_a_mirror_verifies_every_file(data_dir, tmp_path, serve):
    url = serve(data_dir)
    dest = tmp_path / "data"
    written = download(dest, ["mnist", "cifar10"], "test", mirror=url)
    assert {p.name for p in written} == {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                                         "test_batch.bin"}
    for name in ("mnist", "cifar10"):
        np.testing.assert_array_equal(load_dataset(name, "test", dest).images,
                                      load_dataset(name, "test", data_dir).images)
    assert download(dest, ["mnist", "cifar10"], "test", mirror=url) == []  # valid: kept
    assert not list(dest.rglob("*.part"))


def test_download_refuses_a_corrupt_file_and_keeps_nothing(data_dir, tmp_path, serve):
    bad = tmp_path / "mirror" / "mnist"
    bad.mkdir(parents=True)
    shutil.copy(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", bad)
    images = gzip_bytes_with_flipped_pixel(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    (bad / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    dest = tmp_path / "data"
    with pytest.raises(DataError, match="checksum mismatch"):
        download(dest, ["mnist"], "test", mirror=serve(tmp_path / "mirror"))
    assert not (dest / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    with pytest.raises(DataError, match="failed"):  # a file the server does not have
        download(tmp_path / "d2", ["cifar10"], "test", mirror=serve(tmp_path / "mirror"))


def gzip_bytes_with_flipped_pixel(path: Path) -> bytes:
    import gzip

    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 0xFF
    return gzip.compress(bytes(raw))


def _archive(tmp_path, data_dir, extra_member: bool) -> Path:
    """A tar.gz laid out like the official CIFAR-10 binary archive (+ an evil member)."""
    folder = tmp_path / "site"
    folder.mkdir()
    archive = folder / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(data_dir / "cifar10" / "cifar-10-batches-bin" / "test_batch.bin",
                "cifar-10-batches-bin/test_batch.bin")
        if extra_member:
            info = tarfile.TarInfo("../escaped.bin")
            payload = b"x" * 10
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return archive


def test_download_of_the_cifar10_archive_checks_md5_and_extracts_only_batches(
        data_dir, tmp_path, serve):
    archive = _archive(tmp_path, data_dir, extra_member=True)
    url = serve(archive.parent) + "/" + archive.name
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    dest = tmp_path / "out" / "data"
    with pytest.raises(DataError, match="checksum mismatch"):
        download(dest, ["cifar10"], "test", cifar10_archive_url=url, cifar10_archive_md5="0" * 32)
    written = download(dest, ["cifar10"], "test", cifar10_archive_url=url,
                       cifar10_archive_md5=md5)
    assert [p.name for p in written] == ["test_batch.bin"]
    assert not (tmp_path / "out" / "escaped.bin").exists() and not (dest / "escaped.bin").exists()
    assert len(load_dataset("cifar10", "test", dest)) == 10000


def test_download_cli(data_dir, tmp_path, serve):
    url = serve(data_dir)
    done = subprocess.run([sys.executable, "-m", "pynq_bnn.data", "download", "--dest",
                           str(tmp_path / "d"), "--datasets", "mnist", "--split", "test",
                           "--mirror", url], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "export PYNQ_BNN_DATA=" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "pynq_bnn.data", "download", "--dest",
                          str(tmp_path / "e"), "--datasets", "cifar10", "--split", "test",
                          "--mirror", url + "/nothing"], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert bad.returncode == 1 and "download failed" in bad.stderr
    assert "Traceback" not in bad.stderr
