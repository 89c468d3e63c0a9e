"""Device and precision choices, glibc's memory setting, and bit-for-bit repeatable steps on two threads."""

from __future__ import annotations

import pytest
import torch

from sasr_lite.bench import _random_batch
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.device import autocast, cpu_threads, keep_freed_memory, maps_dtype, resolve_precision
from sasr_lite.losses import sasr_losses
from sasr_lite.model import build_model
from sasr_lite.train import train

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # a device object needs no GPU


def test_auto_precision_is_bf16_on_cuda_and_fp32_on_a_cpu():
    assert resolve_precision(CUDA) == "bf16" and resolve_precision(CPU) == "fp32"
    assert resolve_precision(CPU, "bf16") == "bf16" and resolve_precision(CUDA, "fp32") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision(CPU, "fp16")
    with pytest.raises(ValueError, match="TrainConfig.precision must be one of"):
        TrainConfig(precision="half")
    # a CPU computing in bf16 gets its maps in bf16; CUDA keeps fp32 inputs and casts in its kernels
    assert maps_dtype(CPU, "bf16") == torch.bfloat16
    assert maps_dtype(CPU) == maps_dtype(CUDA) == maps_dtype(CUDA, "bf16") == torch.float32
    with autocast(CPU, "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast(CPU):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_glibc_keeps_freed_memory():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert keep_freed_memory()


def _gradients(model, batch, config) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)  # the same dropout mask each time
    model.zero_grad()
    out = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"], batch["visual_maps_neg"],
                batch["video_of"], batch["visual_neg"], batch["question_len"])
    sasr_losses(out, batch["answer"], batch["sources"], config)["total"].backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("arch", ["paper", "official"])
def test_two_threads_give_the_same_gradients_every_time(arch):
    """Several questions per video: the video rows are gathered per question, and the backward of
    that gather must add a video's rows in a fixed order (indexing with f[video_of] did not: on two
    threads about 4 runs in 5 differed in the last bits)."""
    # the official network needs D = 512 (it is slow: 2 videos)
    config = SaSRConfig(d_model=128, word_dim=128) if arch == "paper" else SaSRConfig(arch="official")
    torch.manual_seed(0)
    model = build_model(config)
    batch = _random_batch(config, 32, 8, CPU, torch.float32) if arch == "paper" else _random_batch(config, 10, 5, CPU, torch.float32)
    with cpu_threads(2):
        first = _gradients(model, batch, config)
        for _ in range(4 if arch == "paper" else 2):
            again = _gradients(model, batch, config)
            assert all(torch.equal(again[name], first[name]) for name in first), \
                [name for name in first if not torch.equal(again[name], first[name])]


def test_a_bf16_run_on_a_cpu_gets_bf16_maps_and_trains(tiny):
    from sasr_lite.data.dataset import BatchLoader

    loader = BatchLoader(tiny.dataset("train"), 4, device="cpu", maps_dtype=torch.bfloat16)
    batch = next(iter(loader))
    assert batch["visual_maps"].dtype == batch["visual_maps_neg"].dtype == torch.bfloat16
    assert batch["visual"].dtype == batch["audio"].dtype == torch.float32
    with cpu_threads(1):
        result = train(tiny, SaSRConfig.tiny(), TrainConfig(epochs=2, batch_size=8, lr=1e-3, precision="bf16",
                                                            progress=False, verbose=False, tensorboard=False))
    history = result.history
    assert history["loss_total"].notna().all() and history["loss_total"].iloc[-1] < history["loss_total"].iloc[0]
