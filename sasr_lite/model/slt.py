"""Section 3.2: source-wise learnable tokens (SLT), one token per instrument class."""

from __future__ import annotations

import math

import torch
from torch import nn

from sasr_lite.model.shapes import check_float, check_shape


def self_attention(f: torch.Tensor, return_weights: bool = False):
    """Parameter-free self-attention S(f) = softmax(f f^T / sqrt(D)) f.

    f [..., N, D] -> S(f) [..., N, D]; with ``return_weights`` also the weights [..., N, N]
    (each row sums to 1: row i says how much element i reads from every element).
    """
    if not isinstance(f, torch.Tensor) or f.dim() < 2:
        raise ValueError(f"f must be a tensor shaped [..., N, D], got {getattr(f, 'shape', type(f))}")
    D = f.shape[-1]
    # (3.2) S(f) = softmax(f f^T / sqrt(D)) f
    weights = torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(D), dim=-1)
    out = weights @ f
    return (out, weights) if return_weights else out


class SourceTokens(nn.Module):
    """The learnable tokens G [C, D], the SLT self-attention step and the L_reg classifier.

    One set of tokens serves both modalities: audio and vision each attend over their own
    [f^r; G] sequence and get their own copy G^a, G^v back.
    """

    def __init__(self, num_tokens: int, d_model: int, init_std: float = 0.02) -> None:
        super().__init__()
        # small random normal, not zeros: zero tokens are identical, so they could not
        # start out as different sources (the official code starts them at zero)
        self.tokens = nn.Parameter(torch.randn(num_tokens, d_model) * init_std)
        # L_reg: each raw token g_i must be classified as its own class i
        self.classifier = nn.Linear(d_model, num_tokens)

    def forward(self, f_r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """f_r [B, T, D] -> f_s [B, T, D], tokens G^m [B, C, D], weights [B, T+C, T+C]."""
        C, D = self.tokens.shape
        check_shape("f_r", f_r, ("B", "T", D), {})
        check_float("f_r", f_r)
        B, T, _ = f_r.shape
        # (3.2) [f^s; G^m] = S([f^r; G]): segments and tokens attend over one T+C sequence
        sequence = torch.cat([f_r, self.tokens.expand(B, C, D)], dim=1)  # [B, T+C, D]
        attended, weights = self_attention(sequence, return_weights=True)
        f_s, tokens = attended.split([T, C], dim=1)
        return f_s, tokens, weights

    def token_logits(self) -> torch.Tensor:
        """FC(G) [C, C]: row i holds the class logits of token i (target: class i) for L_reg."""
        # (3.3) L_reg = CE(FC(g_i), i)
        return self.classifier(self.tokens)
