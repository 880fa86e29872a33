# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Multi-GPU / multi-node training with ``torchrun`` and PyTorch DDP (no home-made distribution).

``torchrun --nproc_per_node=G [--nnodes=.. --rdzv-endpoint=..] -m pynq_bnn.train ...`` starts one
process per GPU and sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``. :func:`init_distributed` reads them and joins the process group with the
``env://`` rendezvous: backend ``nccl`` on CUDA, ``gloo`` on CPU. Each rank trains on its shard of
every epoch (``make_loader(rank=, world_size=)``), DDP averages the gradients, rank 0 evaluates,
logs, draws progress bars and writes checkpoints.
"""
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "init_distributed", "current_context", "shutdown_distributed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def _default_device(local_rank: int, device=None) -> torch.device:
    """The given device (a bare ``"cuda"`` means this process's GPU), else CUDA if available."""
    if device is not None:
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def init_distributed(device=None) -> DistContext:
    """Join the process group described by torchrun's environment variables (if any).

    Without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1``) this is a single-process run and nothing
    is initialized.

    Args:
        device: force a device (``"cpu"``, ``"cuda"``); default CUDA when available.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(device=_default_device(0, device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    chosen = _default_device(local_rank, device)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, init_method="env://", rank=rank,
                                world_size=world_size)
        log.info("joined process group: rank %d/%d, backend %s, device %s", rank, world_size,
                 backend, chosen)
    return DistContext(rank, world_size, local_rank, chosen)


def current_context(device=None) -> DistContext:
    """The context of an already initialized process group, or a single-process context."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        return DistContext(rank, world, local_rank, _default_device(local_rank, device))
    return DistContext(device=_default_device(0, device))


def shutdown_distributed() -> None:
    """Leave the process group (no-op when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
