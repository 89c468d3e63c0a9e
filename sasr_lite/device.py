"""Pick the device once; choose the precision (fp32 or bf16 autocast) for it; keep CPU memory warm."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

import torch

PRECISIONS = ("auto", "fp32", "bf16")



@contextlib.contextmanager
def cpu_threads(num_threads: int | None):
    """torch's CPU threads set to ``num_threads`` inside the block (None: unchanged), restored after.

    Small models run best on one thread, and on a machine that is busy with other work two
    OpenMP threads per process were measured up to 6x slower than one.
    """
    previous = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``), else CUDA when present, else CPU."""
    name = name or os.environ.get("SASR_LITE_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_has_bf16() -> bool:
    """Does this CPU multiply bf16 in hardware (AVX512-BF16 or AMX tiles)? Elsewhere bf16 is emulated
    and slower than fp32."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """``"fp32"`` or ``"bf16"``. ``"auto"`` is bf16 on CUDA and fp32 on a CPU: on this kit's 2-core
    CPU with AMX, bf16 trained the paper-size step faster but the lesson model slower per second
    of training (README, "Speed"), so a CPU gets bf16 only when asked for."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


def autocast(device: torch.device, precision: str = "auto"):
    """bf16 autocast when ``resolve_precision`` says bf16, else a no-op context (fp32)."""
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def maps_dtype(device: torch.device, precision: str = "auto") -> torch.dtype:
    """The dtype the loader gives the [V, T, P, 512] maps: bf16 when a CPU computes in bf16 (the maps
    are the step's largest reads, and autocast would otherwise cast them on every use), else fp32
    (CUDA casts inside its bf16 kernels, as before)."""
    if device.type == "cpu" and resolve_precision(device, precision) == "bf16":
        return torch.bfloat16
    return torch.float32


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt parameters (glibc's malloc.h)


def keep_freed_memory() -> bool:
    """Let glibc keep the memory a training step frees, for the next step to reuse.

    By default glibc serves each large tensor (over ~32 MB, and smaller ones before its threshold
    adapts) with a fresh mmap and returns it to the system when freed, so every step page-faults its
    batch and activations in again (about 1 us per 4 KiB page: converting one lesson batch of maps
    to float32 took 8.6 ms instead of 2.4 ms). Serving everything from the heap and never trimming
    it removes that cost. Returns whether the setting took (glibc on Linux); a no-op elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_MAX, 0) and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
