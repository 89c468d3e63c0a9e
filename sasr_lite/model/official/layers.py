"""Transformer layers inside the official source-aware module (sasr_net/modules/grouping.py).

ViT-style pieces: a two-layer feed-forward network, multi-head attention, and the pre-norm
self- and cross-attention layers built from them. The attribute names are the official ones
(``norm1``, ``attn.qkv``, ``mlp.fc1``, ...), so these layers load official weights unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import StochasticDepth


class FeedForward(nn.Module):
    """FC -> GELU -> FC (official ``Mlp``; its dropout rate is 0 wherever the network uses it)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int | None = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim or in_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., in_dim] -> [..., out_dim]."""
        return self.fc2(nn.functional.gelu(self.fc1(x)))


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, num_heads: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention with ``num_heads`` heads, each on D / num_heads channels.

    q [B, N, D], k and v [B, M, D] -> out [B, N, D], weights [B, heads, N, M] (sum to 1 over M).
    """
    B, N, D = q.shape
    M = k.shape[1]
    head_dim = D // num_heads
    q = q.reshape(B, N, num_heads, head_dim).transpose(1, 2)  # [B, h, N, D/h]
    k = k.reshape(B, M, num_heads, head_dim).transpose(1, 2)  # [B, h, M, D/h]
    v = v.reshape(B, M, num_heads, head_dim).transpose(1, 2)
    # softmax_M(q k^T / sqrt(D/h)), scaled after the product as the official code does
    weights = torch.softmax((q @ k.transpose(-2, -1)) * head_dim**-0.5, dim=-1)  # [B, h, N, M]
    out = (weights @ v).transpose(1, 2).reshape(B, N, D)
    return out, weights


def _check_heads(dim: int, num_heads: int) -> None:
    if dim % num_heads:
        raise ValueError(f"the width {dim} must split evenly into {num_heads} attention heads")


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused q/k/v projection (official ``Attention(qkv_fuse=True)``)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        _check_heads(dim, num_heads)
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, N, D] -> [B, N, D]."""
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        out, _ = attend(q, k, v, self.num_heads)
        return self.proj(out)


class CrossAttention(nn.Module):
    """Multi-head attention of ``query`` rows over ``key`` rows (official ``Attention``)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        _check_heads(dim, num_heads)
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query [B, N, D], key [B, M, D] -> out [B, N, D], weights [B, heads, N, M]."""
        out, weights = attend(self.q_proj(query), self.k_proj(key), self.v_proj(key), self.num_heads)
        return self.proj(out), weights


class SelfAttentionLayer(nn.Module):
    """Pre-norm transformer layer: x + Attn(LN(x)), then + FFN(LN(x)) (official ``AttnBlock``).

    Each residual branch is dropped for a whole row with probability ``drop_path`` in training
    (stochastic depth, timm's ``DropPath``).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: int, drop_path: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, mlp_ratio * dim)
        self.drop_path = StochasticDepth(drop_path, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, N, D] -> [B, N, D]."""
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class CrossAttentionLayer(nn.Module):
    """query + Attn(query, key), then + FFN (official ``CrossAttnBlock``).

    ``post_norm=False`` normalises query and key before attending (pre-norm); ``post_norm=True``
    normalises the layer's output instead, as the grouping blocks do.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: int, drop_path: float, post_norm: bool) -> None:
        super().__init__()
        self.norm_q = nn.Identity() if post_norm else nn.LayerNorm(dim)
        self.norm_k = nn.Identity() if post_norm else nn.LayerNorm(dim)
        self.norm_post = nn.LayerNorm(dim) if post_norm else nn.Identity()
        self.attn = CrossAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, mlp_ratio * dim)
        self.drop_path = StochasticDepth(drop_path, "row")

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query [B, N, D], key [B, M, D] -> out [B, N, D], weights [B, heads, N, M]."""
        read, weights = self.attn(self.norm_q(query), self.norm_k(key))
        x = query + self.drop_path(read)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return self.norm_post(x), weights
