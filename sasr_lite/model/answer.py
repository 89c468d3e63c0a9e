"""Section 3.6: shortcut, fusion, question gating and the answer classifier."""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.model.shapes import check_shape


class AnswerHead(nn.Module):
    """f_av = FC(tanh([f_A^ta + mean_t f_a^g; f_V^ta + mean_t f_v^sa])); logits = FC(tanh(f_av * q)).

    Dropout (not in the equations) regularises the gated feature before the classifier.
    """

    def __init__(self, d_model: int, num_answers: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.fusion = nn.Linear(2 * d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(d_model, num_answers)

    def forward(
        self, f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor, q: torch.Tensor
    ) -> torch.Tensor:
        """f_a_ta [B, D], f_a_g [B, T, D], f_v_ta [B, D], f_v_sa [B, T, D], q [B, D] -> logits [B, A]."""
        D = self.fusion.out_features
        sizes: dict[str, int] = {}
        check_shape("f_a_ta", f_a_ta, ("B", D), sizes)
        check_shape("f_a_g", f_a_g, ("B", "T", D), sizes)
        check_shape("f_v_ta", f_v_ta, ("B", D), sizes)
        check_shape("f_v_sa", f_v_sa, ("B", "T", D), sizes)
        check_shape("q", q, ("B", D), sizes)
        # (3.6) shortcut: each temporal summary plus its plain time average, modality by modality
        audio = f_a_ta + f_a_g.mean(dim=1)
        visual = f_v_ta + f_v_sa.mean(dim=1)
        # (3.6) f_av = FC(tanh([audio; visual]))
        f_av = self.fusion(torch.tanh(torch.cat([audio, visual], dim=-1)))  # [B, D]
        # (3.6) logits = FC(tanh(f_av * q)): the question gates the fused feature
        return self.classifier(self.dropout(torch.tanh(f_av * q)))
