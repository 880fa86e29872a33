# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
import gzip
import shutil

import numpy as np
import pytest

from pynq_bnn.data import DataError, load_dataset, resolve_data_dir


def test_mnist_test_split_shapes_and_labels(data_dir):
    test = load_dataset("mnist", "test", data_dir)
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892,
                                                               958, 1028, 974, 1009]
    assert test.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_cifar10_test_split_is_balanced_rgb(data_dir):
    test = load_dataset("cifar10", "test", data_dir)
    assert test.images.shape == (10000, 3, 32, 32) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert test.classes[3] == "cat" and test.labels[0] == 3


def test_cifar10_train_split(data_dir):
    train = load_dataset("cifar10", "train", data_dir)
    assert len(train) == 50000 and np.bincount(train.labels).tolist() == [5000] * 10


def test_data_dir_from_environment(data_dir, monkeypatch):
    monkeypatch.setenv("PYNQ_BNN_DATA", str(data_dir))
    assert load_dataset("mnist", "test").images.shape[0] == 10000


def test_missing_data_dir_explains_what_to_set(monkeypatch):
    monkeypatch.delenv("PYNQ_BNN_DATA", raising=False)
    with pytest.raises(DataError, match="PYNQ_BNN_DATA"):
        resolve_data_dir()


def test_missing_files_are_listed(tmp_path):
    (tmp_path / "cifar10" / "cifar-10-batches-bin").mkdir(parents=True)
    with pytest.raises(DataError, match="MISSING.*test_batch.bin"):
        load_dataset("cifar10", "test", tmp_path)


def test_corrupt_cifar_file_fails_checksum(data_dir, tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    raw = bytearray((data_dir / "cifar10" / "cifar-10-batches-bin" / "test_batch.bin").read_bytes())
    raw[12345] ^= 0xFF
    (folder / "test_batch.bin").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("cifar10", "test", tmp_path)
    (folder / "test_batch.bin").write_bytes(bytes(raw[:1000]))
    with pytest.raises(DataError, match="truncated"):
        load_dataset("cifar10", "test", tmp_path)


def test_corrupt_mnist_files(data_dir, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable gzip"):
        load_dataset("mnist", "test", tmp_path)
    raw = bytearray(gzip.decompress((data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()))
    raw[-1] ^= 1
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("mnist", "test", tmp_path)


def test_unknown_dataset_and_split(data_dir):
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("svhn", "test", data_dir)
    with pytest.raises(DataError, match="split"):
        load_dataset("mnist", "validation", data_dir)
