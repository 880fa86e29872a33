# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""docs/pynq_contract.md is true: its code block (plain pynq calls only) runs unchanged in a fresh
interpreter on the simulated device and classifies like BNNOverlay; its register table matches
accelerator.json and the driver."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from pynq_bnn.driver import BNNOverlay, load_spec
from pynq_bnn.driver.spec import DEFAULT_REGISTERS

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "pynq_contract.md"


def page_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) == 1, "the page has one python block"
    return blocks[0]


def test_page_code_runs_with_plain_pynq(cifar_package, tmp_path):
    code = page_code()
    assert "BNNOverlay" not in code and "use_simulated_device" not in code
    env = dict(os.environ, PYNQ_BNN_PACKAGE=str(cifar_package), PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("PYNQ_BNN_SIMULATE", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    top1 = json.loads(result.stdout.strip().splitlines()[-1])["top1"]
    spec = load_spec(cifar_package)
    images = np.random.default_rng(0).integers(0, 256, (8, *spec.input.shape), dtype=np.uint8)
    with BNNOverlay(cifar_package, device="sim") as overlay:
        assert top1 == overlay.predict(images)[:, 0].tolist()


def test_register_table_matches_accelerator_json(cifar_package):
    table = re.findall(r"^\| `0x([0-9a-f]{2})` \| `(\w+)` \|", PAGE.read_text(), flags=re.M)
    rows = {name: int(offset, 16) for offset, name in table}
    assert rows == DEFAULT_REGISTERS == load_spec(cifar_package).registers
    saved = json.loads((cifar_package / "accelerator.json").read_text())
    assert saved["registers"] == {"ap_ctrl": 0, "num_images": 16, "identity": 24}
    assert re.fullmatch(r"0x[0-9a-f]{8}", saved["identity"])
