"""Where and in which precision to train: CUDA with bf16 where present, else CPU fp32.

Several processes need little here: launched under torchrun or accelerate, each process gets
its own device from the HF Trainer (TRL kinds) or the Accelerator (PPO); `agreed_stop` keeps
a cancel collective.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cuda" or "cpu"
    dtype: torch.dtype

    @property
    def bf16(self) -> bool:
        return self.dtype == torch.bfloat16


def plan_device(precision: str) -> DevicePlan:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if precision == "bf16":
        return DevicePlan(device, torch.bfloat16)
    if precision == "auto" and device == "cuda" and torch.cuda.is_bf16_supported():
        return DevicePlan(device, torch.bfloat16)
    return DevicePlan(device, torch.float32)


def agreed_stop(wants_stop: bool, device) -> bool:
    """Under several processes all stop when any asks: one stopping alone would hang the rest."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return wants_stop
    flag = torch.tensor(float(wants_stop), device=device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
    return bool(flag.item())
