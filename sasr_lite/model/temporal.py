"""Section 3.5: question-guided attention over the T segments (one call for audio, one for vision)."""

from __future__ import annotations

import math

import torch
from torch import nn

from sasr_lite.model.shapes import check_float, check_shape


class TemporalAttention(nn.Module):
    """f^ta = softmax(q F^T / sqrt(D)) F: the question picks the segments it is about.

    Parameter-free, as in the paper's equation. ``temperature`` divides the logits before the
    softmax (1: the equation; below 1 lets a small model's q and f, whose products vary little
    over T, make the weights peak). ``enabled=False`` (the TA ablation) gives exactly uniform
    weights 1/T, i.e. a plain time average.
    """

    def __init__(self, enabled: bool = True, temperature: float = 1.0) -> None:
        super().__init__()
        self.enabled, self.temperature = enabled, temperature

    def forward(self, q: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q [B, D], f [B, T, D] (f_a_g or f_v_sa) -> f_ta [B, D], temporal_attn [B, T] (sums to 1)."""
        sizes: dict[str, int] = {}
        check_shape("q", q, ("B", "D"), sizes)
        check_shape("f", f, ("B", "T", "D"), sizes)
        check_float("f", f)
        B, T, D = f.shape
        if self.enabled:
            # (3.5) w = softmax_T(q F^T / sqrt(D))
            scores = torch.bmm(f, q.unsqueeze(-1)).squeeze(-1) / (math.sqrt(D) * self.temperature)  # [B, T]
            temporal_attn = torch.softmax(scores, dim=-1)
        else:
            temporal_attn = f.new_full((B, T), 1.0 / T)
        # (3.5) f^ta = w F
        f_ta = torch.bmm(temporal_attn.unsqueeze(1), f).squeeze(1)  # [B, D]
        return f_ta, temporal_attn
