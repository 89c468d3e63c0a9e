"""Direct re-computations of the paper's operations for the model tests.

Written independently of sasr_lite.model: explicit exp / sum softmax, explicit weight
products, per-element loops where that is clearer. Only the blocks' parameters are shared.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run a test module on one thread, then restore the setting.

    The model tests use tiny tensors that gain nothing from threads, and on a shared 2-core
    machine the thread pool's waiting made a tiny training step 20x slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)
    return e / e.sum(dim=dim, keepdim=True)


def linear(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("...i,oi->...o", x, layer.weight) + layer.bias


def layer_norm(layer: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + layer.eps) * layer.weight + layer.bias


def self_attention(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """S(f) = softmax(f f^T / sqrt(D)) f for f [B, N, D]."""
    D = f.shape[-1]
    w = softmax(torch.einsum("bnd,bmd->bnm", f, f) / math.sqrt(D))
    return torch.einsum("bnm,bmd->bnd", w, f), w


def cross_attention(block, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    D = a.shape[-1]
    q, k, v = linear(block.fc_q, a), linear(block.fc_k, b), linear(block.fc_v, b)
    w = softmax(torch.einsum("bnd,bmd->bnm", q, k) / math.sqrt(D))
    return torch.einsum("bnm,bmd->bnd", w, v), w


def lstm_final_state(lstm: nn.LSTM, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One-layer LSTM written out gate by gate (PyTorch's i, f, g, o order)."""
    B, L, _ = x.shape
    H = lstm.hidden_size
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    for step in range(L):
        gates = x[:, step] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h, c
