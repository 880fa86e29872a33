# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Packaging for pynq_bnn.

``pip install pynq_bnn`` installs the runtime only (numpy + pynq: driver, graph loading and numpy
execution, simulated device) - what a PYNQ board needs. Extras: ``[camera]``, ``[notebooks]``,
``[train]`` (torch, brevitas), ``[build]`` (train + onnx, qonnx, hls4ml: export, compile, csim),
``[dev]`` (all of it + the test tools). Install torch first (``pip install torch==2.13.0``, or the
CPU-only wheel from https://download.pytorch.org/whl/cpu): a looser torch requirement resolved by
pip can pull several GB of CUDA packages.
"""
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class BuildPyWithNotebooks(build_py):
    """Also copy the top-level notebooks/ into the package (pynq_bnn/_notebooks) so that
    ``pynq get-notebooks`` / ``python -m pynq_bnn.notebooks`` find them in a wheel install."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "pynq_bnn" / "_notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(Path("notebooks").glob("*.ipynb")):
            shutil.copy2(notebook, target / notebook.name)

# What a PYNQ board (or a laptop running the simulated device) needs: the driver, graph loading
# and numpy execution, packing and the notebooks' lookups. pynq gets a lower bound only, so the
# board image's own pynq is used as it is (never re-pinned; pynq 4.0.0 is an sdist).
INSTALL_REQUIRES = [
    "numpy>=1.26,<2",
    "pynq>=3.0",
]

EXTRAS = {
    # The live camera demo (OpenCV capture, one image widget updated in place).
    "camera": ["opencv-python-headless==4.11.0.86", "ipywidgets"],
    # Plots in the notebooks, training curves, the build's per-layer chart.
    "notebooks": ["matplotlib", "ipywidgets"],
    # Quantization-aware training and evaluation (install torch first, see the README).
    "train": ["torch==2.13.0", "brevitas==0.13.4", "matplotlib", "tqdm"],
}
# Export + compile + HLS generation and csim (needs the trained model, hence "train").
EXTRAS["build"] = EXTRAS["train"] + [
    "onnx==1.22.0",
    "onnxoptimizer",
    "onnxscript",
    "onnxruntime",
    "ml_dtypes==0.5.4",
    "protobuf>=5.29,<5.30",
    "qonnx==1.0.0",
    "jinja2",
    "hls4ml==1.3.0",  # ships the Apache-2.0 ap_types headers used for g++ csim
]
EXTRAS["dev"] = sorted(set(EXTRAS["build"] + EXTRAS["camera"] + EXTRAS["notebooks"] + [
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "nbmake",
    "nbformat",
    "nbclient",
    "ipykernel",
]))

setup(
    name="pynq_bnn",
    version="0.1.0",
    description="Binary neural networks from Brevitas training to PYNQ FPGA overlays",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["pynq_bnn", "pynq_bnn.*"]),
    include_package_data=True,
    package_data={
        "pynq_bnn": [
            "compiler/templates/**/*",
            "compiler/hls/**/*",
            "zoo/pretrained/*",
            "data/subset/*",
        ]
    },
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    cmdclass={"build_py": BuildPyWithNotebooks},
    entry_points={
        "pynq.notebooks": ["pynq_bnn = pynq_bnn.notebooks"],
        "console_scripts": [
            "pynq-bnn-train=pynq_bnn.train.__main__:main",
            "pynq-bnn-eval=pynq_bnn.eval.__main__:main",
            "pynq-bnn-export=pynq_bnn.export.__main__:main",
        ]
    },
)
