"""Pick the device once; autocast to bf16 on CUDA, full precision elsewhere."""

from __future__ import annotations

import contextlib
import os

import torch


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``), else CUDA when present, else CPU."""
    name = name or os.environ.get("SASR_LITE_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(device: torch.device):
    """bf16 autocast on CUDA; a no-op context on CPU (CPU bf16 is slower than fp32 there)."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()

