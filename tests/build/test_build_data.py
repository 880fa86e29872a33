# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The build checks its test data before any long step; without a data folder it uses the
shipped subset."""
import time

import pytest

from pynq_bnn.compiler.build import BuildConfig, BuildError, build_overlay
from pynq_bnn.compiler.build_data import check_build_data


def test_without_data_folder_the_build_uses_the_shipped_subset(monkeypatch):
    monkeypatch.delenv("PYNQ_BNN_DATA", raising=False)
    assert check_build_data(BuildConfig(model="cnv")) == "cifar10/test[:1000] (shipped subset)"
    assert check_build_data(BuildConfig(model="lfc", stop="fold")) is None  # needs no images
    with pytest.raises(BuildError, match="has 1,000 images but the build checks 2,000"):
        check_build_data(BuildConfig(model="lfc", verify_images=2000))


def test_a_bad_data_folder_fails_before_export(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    config = BuildConfig(model="lfc", data_dir=str(tmp_path / "nothing"),
                         out=str(tmp_path / "o" / "lfc"))
    t0 = time.monotonic()
    with pytest.raises(BuildError, match="does not exist"):
        build_overlay(config)
    with pytest.raises(BuildError, match="MISSING"):
        build_overlay(BuildConfig(**{**config.__dict__, "data_dir": str(tmp_path)}))
    assert time.monotonic() - t0 < 20
    assert not (tmp_path / "o" / ".lfc.work" / "export").exists()  # nothing long ran


def test_with_the_data_folder_the_full_test_split_is_used(data_dir):
    assert check_build_data(BuildConfig(model="cnv", data_dir=str(data_dir),
                                        verify_images=5000)) == "cifar10/test"
