"""Section 3.3: source-aware semantic representation (SaSR) by cross-attention with the tokens."""

from __future__ import annotations

import math

import torch
from torch import nn

from sasr_lite.model.shapes import check_float, check_shape


class CrossAttention(nn.Module):
    """CrossAttn(a, b) = softmax(FC_q(a) FC_k(b)^T / sqrt(D)) FC_v(b): each row of a reads from b."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc_q = nn.Linear(d_model, d_model)
        self.fc_k = nn.Linear(d_model, d_model)
        self.fc_v = nn.Linear(d_model, d_model)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a [B, N, D], b [B, M, D] -> out [B, N, D], weights [B, N, M] (rows sum to 1)."""
        D = self.fc_q.in_features
        sizes: dict[str, int] = {}
        check_shape("a", a, ("B", "N", D), sizes)
        check_shape("b", b, ("B", "M", D), sizes)
        # (3.3) CrossAttn(a, b) = softmax(FC(a) FC(b)^T / sqrt(D)) FC(b)
        weights = torch.softmax(self.fc_q(a) @ self.fc_k(b).transpose(1, 2) / math.sqrt(D), dim=-1)
        return weights @ self.fc_v(b), weights


class SaSRBranch(nn.Module):
    """The two SaSR equations of one modality, plus the token presence head of L_source."""

    def __init__(self, d_model: int, residual: bool = False) -> None:
        super().__init__()
        self.residual = residual  # f^g = f^s + FC(...) (official code) instead of FC(...) (the equation)
        self.token_attn = CrossAttention(d_model)  # tokens read the segments
        self.token_fc = nn.Linear(d_model, d_model)
        self.token_norm = nn.LayerNorm(d_model)  # the text names LN; it sits after the residual
        self.segment_attn = CrossAttention(d_model)  # segments read the updated tokens
        self.segment_fc = nn.Linear(d_model, d_model)
        self.presence = nn.Linear(d_model, 1)  # one presence logit per token

    def forward(
        self, f_s: torch.Tensor, tokens: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """f_s [B, T, D], tokens G^m [B, C, D] -> f_g [B, T, D], tokens G^m' [B, C, D],
        token weights [B, C, T], segment weights [B, T, C]."""
        D = self.token_fc.in_features
        sizes: dict[str, int] = {}
        check_shape("f_s", f_s, ("B", "T", D), sizes)
        check_shape("tokens", tokens, ("B", "C", D), sizes)
        check_float("f_s", f_s)
        # (3.3) G^m' = LN(G^m + FC(CrossAttn(G^m, f^s)))
        read, token_weights = self.token_attn(tokens, f_s)
        tokens_new = self.token_norm(tokens + self.token_fc(read))
        # (3.3) f^g = FC(CrossAttn(f^s, G^m'))
        read, segment_weights = self.segment_attn(f_s, tokens_new)
        f_g = self.segment_fc(read)
        if self.residual:  # the official code's f^g = f^s + ...: keeps the segments apart (docs/design.md 3.3)
            f_g = f_g + f_s
        return f_g, tokens_new, token_weights, segment_weights

    def presence_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, C, D] -> logits [B, C]: is source c present (for L_source)?"""
        # (3.3) L_source logits = FC(G^m')
        return self.presence(tokens).squeeze(-1)


class SaSRBlock(nn.Module):
    """Both modalities' SaSR branches (four cross-attention equations, separate weights)."""

    def __init__(self, d_model: int, residual: bool = False) -> None:
        super().__init__()
        self.audio = SaSRBranch(d_model, residual)
        self.visual = SaSRBranch(d_model, residual)

    def forward(
        self, f_a_s: torch.Tensor, tokens_a: torch.Tensor, f_v_s: torch.Tensor, tokens_v: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """f_a_s, f_v_s [B, T, D]; tokens_a, tokens_v [B, C, D] -> dict of f_a_g, f_v_g [B, T, D],
        tokens_a, tokens_v [B, C, D] (updated), and the four weight maps ([B, C, T] / [B, T, C])."""
        f_a_g, tokens_a, token_attn_a, segment_attn_a = self.audio(f_a_s, tokens_a)
        f_v_g, tokens_v, token_attn_v, segment_attn_v = self.visual(f_v_s, tokens_v)
        return dict(
            f_a_g=f_a_g, f_v_g=f_v_g, tokens_a=tokens_a, tokens_v=tokens_v,
            token_attn_a=token_attn_a, token_attn_v=token_attn_v,
            segment_attn_a=segment_attn_a, segment_attn_v=segment_attn_v,
        )
