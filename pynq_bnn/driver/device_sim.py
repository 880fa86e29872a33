# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""A simulated PYNQ device: the same driver code (``pynq.Overlay``, ``pynq.allocate``, AXI DMA)
runs on a laptop, with the compiled accelerator (numpy reference of the dataflow graph) as PL.

How it plugs into pynq 4.0.0 (``pynq/pl_server/device.py``): every ``pynq.Device`` subclass that
defines ``_probe_`` and ``_probe_priority_`` is registered by the ``DeviceMeta`` metaclass when the
class is created; ``Device.devices`` calls every ``_probe_`` (lowest priority first) the first
time it is read, and ``Device.active_device`` is the device that ``pynq.allocate``, ``MMIO`` and
``Overlay`` use when none is passed. :class:`SimulatedDevice` uses priority 900 (after every real
device: on a board the real one stays the default) and its ``_probe_`` returns a device only when
``$PYNQ_BNN_SIMULATE`` is set. :func:`use_simulated_device` is the explicit way: it works whether
or not ``Device.devices`` has been read already (it appends the device and makes it active).

What the device implements, and where pynq's code takes over:

* ``allocate`` returns real ``pynq.buffer.PynqBuffer`` objects (coherent, so ``flush`` and
  ``invalidate`` are no-ops) with fake physical addresses (:class:`~.sim_hw.SimMemory`).
* capability ``REGISTER_RW``: ``pynq.MMIO`` forwards every register access to
  ``read_registers``/``write_registers``, which decode the address into the AXI DMA model and the
  accelerator model of :mod:`~pynq_bnn.driver.sim_hw`. pynq's unmodified ``pynq.lib.dma.DMA``
  driver (``sendchannel``/``recvchannel`` ``transfer``/``wait``) programs that model.
* ``get_bitfile_metadata`` returns metadata built from ``accelerator.json`` (an AXI DMA
  ``xilinx.com:ip:axi_dma:7.1`` and the accelerator IP) instead of parsing a ``.hwh`` (pynq's HWH
  parser needs the board's tool chain data), so ``pynq.Overlay(<package>/accelerator.json)``
  works; ``download`` loads the compiled graph (``graph.json`` + ``params.npz``) of the package.
* The accelerator's identity register holds :func:`~pynq_bnn.driver.identity.package_identity`
  of the loaded package's ``graph.json``/``params.npz`` (what the HLS top compiled from them
  would hold), so a package whose ``accelerator.json`` belongs to another graph is caught.
* Not simulated: PL clocks (``pynq.Clocks`` needs the PS registers of a Zynq), interrupts, GPIO.
"""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
from pynq import Device
from pynq.buffer import PynqBuffer

from pynq_bnn.driver.errors import OverlayFileError
from pynq_bnn.driver.identity import package_identity
from pynq_bnn.driver.sim_hw import SimAccelerator, SimAxiDma, SimMemory
from pynq_bnn.driver.spec import check_package_files, load_spec

__all__ = ["SimulatedDevice", "use_simulated_device", "compiled_accelerator", "SIM_ENV"]

log = logging.getLogger(__name__)
SIM_ENV = "PYNQ_BNN_SIMULATE"
DMA_BASE, ACCEL_BASE, IP_RANGE = 0x4040_0000, 0x43C0_0000, 0x1_0000


def compiled_accelerator(package_dir, spec):
    """``images -> (N, k)`` function running the package's compiled dataflow graph."""
    from pynq_bnn.compiler import execute, load_graph
    # load_graph registers the layer kinds of the lowering rules; LabelSelect (added by
    # lower_model itself) lives in its own module: import it so a fresh process can load graphs.
    import pynq_bnn.compiler.hw.label_select  # noqa: F401

    paths = check_package_files(spec, package_dir, ("graph",))
    try:
        graph = load_graph(paths["graph"].parent)
    except Exception as err:  # corrupt graph.json / params.npz
        raise OverlayFileError(f"cannot load the compiled graph of {package_dir}: {err}") from err
    k = spec.output.shape[0]

    def run(images):
        return np.asarray(execute(graph, images))[:, :k]

    return run


def _loaded_identity(package_dir, spec) -> int:
    """The identity register of the "bitstream" = the package's graph files (never its
    ``accelerator.json``: a package whose graph is not the one it declares is refused)."""
    paths = check_package_files(spec, package_dir, ("graph",))
    params = package_dir / spec.files.get("params", "params.npz")
    try:
        return package_identity(paths["graph"], params)
    except (ValueError, OSError) as err:  # corrupt graph.json / params.npz
        raise OverlayFileError(f"cannot read the compiled graph of {package_dir}: {err}") from err


class _Metadata:
    """The subset of pynq's HWH-parser interface that ``Overlay`` reads."""

    def __init__(self, spec):
        self.ip_dict = {
            spec.dma_name: _ip(spec.dma_name, "xilinx.com:ip:axi_dma:7.1", DMA_BASE, {
                "c_include_sg": "0", "c_micro_dma": "0", "c_sg_length_width": "26",
                "c_include_mm2s": "1", "c_include_s2mm": "1",
                "c_m_axi_mm2s_data_width": str(spec.input.word_bits),
                "c_m_axi_s2mm_data_width": str(spec.output.word_bits),
                "c_m_axis_mm2s_tdata_width": str(spec.input.word_bits),
                "c_s_axis_s2mm_tdata_width": str(spec.output.word_bits)}),
            spec.accelerator_ip: _ip(spec.accelerator_ip, "xilinx.com:hls:bnn_top:1.0",
                                     ACCEL_BASE, {}),
        }
        self.gpio_dict, self.interrupt_pins, self.interrupt_controllers = {}, {}, {}
        self.hierarchy_dict, self.mem_dict, self.clock_dict = {}, {}, {}
        self.systemgraph = None


def _ip(name, vlnv, base, parameters):
    return {"fullpath": name, "type": vlnv, "phys_addr": base, "addr_range": IP_RANGE,
            "parameters": parameters, "interrupts": {}, "gpio": {}, "state": None}


class SimulatedDevice(Device):
    """``pynq.Device`` whose PL is the compiled accelerator of an overlay package (see module doc).

    Args:
        accelerator: optional ``images -> (N, k)`` function replacing the package's compiled graph
            (tests inject faults or a tiny model with it).
    """

    _probe_priority_ = 900
    name = "pynq_bnn-simulated"

    @classmethod
    def _probe_(cls):
        return [cls()] if os.environ.get(SIM_ENV) else []

    def __init__(self, accelerator=None):
        super().__init__("pynq_bnn_sim0")
        self.capabilities = {"REGISTER_RW": True}
        self.memory = SimMemory()
        self.accelerator_override = accelerator
        self.dma_halt_stuck = False  # fault injection for the next download: DMA never starts
        self.spec = None
        self.package_dir = None
        self.accelerator = None
        self.dma = None
        self.timestamp = ""
        self.bitfile_name = None
        self.clear_dict()

    # -- pynq.Device interface -------------------------------------------------------------------
    def allocate(self, shape, dtype, **kwargs):
        buffer = PynqBuffer(shape, dtype, device=self, device_address=0, coherent=True)
        buffer.fill(0)
        buffer.device_address = self.memory.register(buffer)
        return buffer

    def get_bitfile_metadata(self, bitfile_name, partial=False):
        return _Metadata(load_spec(Path(bitfile_name).parent))

    def download(self, bitstream, parser=None):
        """"Program the PL": load the package next to ``bitstream`` and reset the IP models."""
        package_dir = Path(bitstream.bitfile_name).parent
        self.spec = load_spec(package_dir)
        compute = self.accelerator_override or compiled_accelerator(package_dir, self.spec)
        self.package_dir = package_dir
        self.accelerator = SimAccelerator(self.spec, compute, _loaded_identity(package_dir,
                                                                               self.spec))
        self.dma = SimAxiDma(self.memory, self.accelerator)
        self.dma.halt_stuck = self.dma_halt_stuck
        self.bitfile_name = bitstream.bitfile_name
        log.info("simulated device loaded %s", package_dir)
        self.post_download(bitstream, parser or _Metadata(self.spec))

    def read_registers(self, address, length):
        target, offset = self._decode(address)
        words = [target.read(offset + 4 * i) for i in range(max(length // 4, 1))]
        return np.array(words, dtype="<u4").tobytes()[:length]

    def write_registers(self, address, data):
        target, offset = self._decode(address)
        words = np.frombuffer(bytes(data).ljust(-(-len(data) // 4) * 4, b"\0"), dtype="<u4")
        for i, word in enumerate(words.tolist()):
            target.write(offset + 4 * i, word)
        self.dma.kick()  # ap_start may be the last condition the accelerator waited for

    def _decode(self, address):
        if self.dma is None:
            raise RuntimeError("simulated device: no overlay downloaded (create pynq.Overlay first)")
        if DMA_BASE <= address < DMA_BASE + IP_RANGE:
            return self.dma, address - DMA_BASE
        if ACCEL_BASE <= address < ACCEL_BASE + IP_RANGE:
            return self.accelerator, address - ACCEL_BASE
        raise RuntimeError(f"simulated device: no IP at address 0x{address:x}")


def use_simulated_device(package_dir=None, *, accelerator=None) -> SimulatedDevice:
    """Create a :class:`SimulatedDevice`, register it with pynq and make it the active device.

    Args:
        package_dir: optional overlay package to load right away (else ``pynq.Overlay`` or
            :class:`~pynq_bnn.driver.BNNOverlay` loads one).
        accelerator: optional ``images -> (N, k)`` function replacing the compiled graph.

    Returns:
        The device (also ``pynq.Device.active_device`` from now on).
    """
    device = SimulatedDevice(accelerator)
    with warnings.catch_warnings():  # pynq warns "No devices found" on a machine without a board
        warnings.simplefilter("ignore", UserWarning)
        devices = Device.devices  # probes the real devices once
    devices.append(device)
    Device.active_device = device
    if package_dir is not None:
        from pynq import Overlay

        Overlay(str(Path(package_dir) / "accelerator.json"), device=device)
    return device
