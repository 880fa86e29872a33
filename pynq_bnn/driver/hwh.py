# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Consistency check of a Vivado ``.hwh`` hardware handoff against ``accelerator.json``.

A package whose bitstream was rebuilt without regenerating ``accelerator.json`` (or the other
way round) would make the driver pack images for a stream the hardware does not have; the DMA
would then hang or return garbage. :func:`verify_hwh` reads the ``.hwh`` XML directly (pynq's
parser is only usable on a board) and compares:

* the AXI DMA instance ``spec.dma_name`` exists, is an ``axi_dma`` in simple (non-SG) mode, and its
  stream widths ``C_M_AXIS_MM2S_TDATA_WIDTH`` / ``C_S_AXIS_S2MM_TDATA_WIDTH`` equal the input and
  output ``word_bits``;
* the accelerator instance ``spec.accelerator_ip`` exists and, when the ``.hwh`` lists its
  ``s_axilite`` registers (Vivado writes them for HLS IPs; pynq builds ``register_map`` from
  them), ``num_images`` and ``identity`` sit at the offsets of ``spec.registers`` (a bitstream
  built before the identity register existed is named as such);
* the PL clock 0 of the PS (``PCW_FPGA0_PERIPHERAL_FREQMHZ`` on Zynq-7000,
  ``PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ`` on Zynq UltraScale+) is within 1 % of ``clock_mhz``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pynq_bnn.driver.errors import HwhMismatchError, OverlayFileError

__all__ = ["read_hwh_modules", "verify_hwh", "PL_CLOCK_PARAMETERS"]

PL_CLOCK_PARAMETERS = ("PCW_FPGA0_PERIPHERAL_FREQMHZ", "PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
                       "PSU__CRL_APB__PL0_REF_CTRL__ACT_FREQMHZ")


def read_hwh_modules(path) -> dict:
    """``{instance: {"MODTYPE", "VLNV", "parameters": {NAME: VALUE}, "registers": {NAME: offset}}}``
    of a ``.hwh``."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise OverlayFileError(f"{path} is not a readable .hwh file ({err}); copy the .hwh "
                               "written by Vivado next to the bitstream") from None
    modules = {}
    for module in root.iter("MODULE"):
        instance = module.get("INSTANCE")
        if not instance:
            continue
        params = {p.get("NAME"): p.get("VALUE") for p in module.iter("PARAMETER")}
        registers = {}
        for register in module.iter("REGISTER"):
            offset = register.find('./PROPERTY[@NAME="ADDRESS_OFFSET"]')
            if register.get("NAME") and offset is not None:
                try:
                    registers[register.get("NAME")] = int(offset.get("VALUE", ""), 0)
                except ValueError:
                    continue
        modules[instance] = {"MODTYPE": module.get("MODTYPE", ""), "VLNV": module.get("VLNV", ""),
                             "parameters": params, "registers": registers}
    return modules


def verify_hwh(spec, path) -> None:
    """Raise :class:`HwhMismatchError` listing every disagreement between ``.hwh`` and ``spec``."""
    modules = read_hwh_modules(path)
    problems = []
    dma = modules.get(spec.dma_name)
    if dma is None:
        problems.append(f"no DMA instance {spec.dma_name!r} (instances: {sorted(modules)})")
    else:
        params = dma["parameters"]
        if dma["MODTYPE"] != "axi_dma":
            problems.append(f"{spec.dma_name} is a {dma['MODTYPE']!r}, not an axi_dma")
        if params.get("C_INCLUDE_SG", "0") != "0":
            problems.append(f"{spec.dma_name} uses scatter-gather; the driver needs simple mode")
        for name, side in (("C_M_AXIS_MM2S_TDATA_WIDTH", spec.input),
                           ("C_S_AXIS_S2MM_TDATA_WIDTH", spec.output)):
            if name in params and int(params[name]) != side.word_bits:
                problems.append(f"{spec.dma_name}.{name} = {params[name]} but accelerator.json "
                                f"says word_bits = {side.word_bits}")
    if spec.accelerator_ip not in modules:
        problems.append(f"no accelerator instance {spec.accelerator_ip!r}")
    else:
        problems += _register_problems(spec, modules[spec.accelerator_ip]["registers"])
    clock = _pl_clock_mhz(modules)
    if clock is not None and abs(clock - spec.clock_mhz) > 0.01 * spec.clock_mhz:
        problems.append(f"PL clock 0 is {clock:g} MHz but accelerator.json says "
                        f"{spec.clock_mhz:g} MHz")
    if problems:
        raise HwhMismatchError(f"{path} does not match accelerator.json: " + "; ".join(problems)
                               + ". Rebuild the package so both come from the same build.")


def _register_problems(spec, registers: dict) -> list:
    """Disagreements between the accelerator's registers in the ``.hwh`` and ``spec.registers``."""
    if not registers:  # this .hwh does not list registers: nothing to compare
        return []
    problems = []
    for name in ("num_images", "identity"):
        expected = spec.registers[name]
        if name not in registers:
            if name == "identity":
                problems.append(f"{spec.accelerator_ip} has no identity register: the bitstream "
                                "was built before pynq_bnn emitted one (rebuild it)")
            else:
                problems.append(f"{spec.accelerator_ip} has no {name} register")
        elif registers[name] != expected:
            problems.append(f"{spec.accelerator_ip}.{name} is at 0x{registers[name]:02x} but "
                            f"accelerator.json says 0x{expected:02x}")
    return problems


def _pl_clock_mhz(modules):
    for module in modules.values():
        for name in PL_CLOCK_PARAMETERS:
            value = module["parameters"].get(name)
            if value:
                try:
                    return float(value)
                except ValueError:
                    continue
    return None
