"""The official network's blocks outside the source-aware module (sasr_net/models.py,
sasr_net/modules/qst_net.py, sasr_net/modules/visual_net.py) that differ from the kit's own.

The audio projection, match head and answer head equal the kit's blocks and are reused from
`sasr_lite.model`; these are the ones that do not.
"""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from sasr_lite.model.encoders import QuestionEncoder
from sasr_lite.model.shapes import check_float, check_shape
from sasr_lite.model.spatial import EPS

TEMPORAL_HEADS = 4  # official attn_a / attn_v: nn.MultiheadAttention(512, 4)
TEMPORAL_DROPOUT = 0.1  # official dropout of those attentions and of dropout1-4 after them


class PaddedQuestionEncoder(QuestionEncoder):
    """The kit's question encoder layers, read as the official ``QstEncoder`` reads them (paper 3.1):
    the LSTM runs over all L positions, the ``<pad>`` tokens after the question included."""

    def forward(self, question: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """question [B, L] word indices -> q [B, D]; ``lengths`` is ignored (it reads the padding)."""
        self.check_words(question)
        # (3.1) q = FC(tanh([h_L; c_L])), the LSTM's state after the last position, padding or not
        words = torch.tanh(self.embedding(question))  # [B, L, word_dim]
        _, (h_n, c_n) = self.lstm(words)  # each [1, B, D]
        return self.fc(torch.tanh(torch.cat([h_n[-1], c_n[-1]], dim=-1)))


class AudioGuidedGrounding(nn.Module):
    """Section 3.4 as in the official ``out_match_infer``: cosine attention of the source-aware
    audio over the map positions, then f_v^sa = FC(tanh([f_v^g; f_v^attn])) (``fc_gl``).

    Unlike the kit's `SpatialAttention`, the attended vector is a mean of the *normalised* map
    vectors, and the audio is dotted with the map channels directly (so D must equal them).
    """

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc = nn.Linear(2 * d_model, d_model)

    def forward(
        self, f_a_g: torch.Tensor, f_v_g: torch.Tensor, visual_maps: torch.Tensor, map_norm: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f_a_g [B, T, D], f_v_g [B, T, D], visual_maps X [B, T, P, D], map_norm |X_t,p| [B, T, P] or
        None (computed here) -> f_v_sa [B, T, D], spatial_attn [B, T, P] (sums to 1 over P)."""
        D = self.fc.out_features
        sizes: dict[str, int] = {}
        check_shape("f_a_g", f_a_g, ("B", "T", D), sizes)
        check_shape("f_v_g", f_v_g, ("B", "T", D), sizes)
        check_shape("visual_maps", visual_maps, ("B", "T", "P", D), sizes)
        check_float("visual_maps", visual_maps)
        if map_norm is not None:
            check_shape("map_norm", map_norm, ("B", "T", "P"), sizes)
        B, T, P, _ = visual_maps.shape
        X = visual_maps.reshape(B * T, P, D)  # a view: the maps are never copied
        # the official code normalises X itself; dividing by the norms [B*T, P] instead gives the same
        # numbers without writing (and reading back) a normalised copy of the maps
        if map_norm is None:
            map_norm = torch.linalg.vector_norm(X, dim=-1)
        map_norm = map_norm.reshape(B * T, P).clamp_min(EPS)  # [B*T, P]
        query = nn.functional.normalize(f_a_g.reshape(B * T, D, 1), dim=1)
        # (3.4) w_t = softmax_P(cos(X_t,p, f_a,t^g))
        spatial_attn = torch.softmax((X @ query).squeeze(-1) / map_norm, dim=-1)  # [B*T, P]
        # (3.4) f_v,t^attn = w_t X_t (unit-length map vectors): sum_p (w_p / |X_p|) X_p
        f_v_attn = ((spatial_attn / map_norm).unsqueeze(1) @ X).squeeze(1)  # [B*T, D]
        # (3.4) f_v,t^sa = FC(tanh([f_v,t^g; f_v,t^attn]))
        f_v_sa = self.fc(torch.tanh(torch.cat([f_v_g.reshape(B * T, D), f_v_attn], dim=-1)))
        return f_v_sa.reshape(B, T, D), spatial_attn.reshape(B, T, P)


class QuestionGuidedTemporalAttention(nn.Module):
    """Section 3.5 as in the official forward: a 4-head attention of the question over the T
    segments, then a residual FFN and LayerNorm (official ``attn_v``, ``linear11``, ``linear12``,
    ``norm1`` for vision; ``attn_a``, ``linear21``, ``linear22``, ``norm2`` for audio)."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, TEMPORAL_HEADS, dropout=TEMPORAL_DROPOUT, batch_first=True)
        self.fc1 = nn.Linear(d_model, d_model)
        self.dropout1 = nn.Dropout(TEMPORAL_DROPOUT)
        self.fc2 = nn.Linear(d_model, d_model)
        self.dropout2 = nn.Dropout(TEMPORAL_DROPOUT)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, q: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q [B, D], f [B, T, D] (f_a_g or f_v_sa) -> f_ta [B, D], temporal_attn [B, T]
        (the weights averaged over the heads; sums to 1 over T)."""
        sizes: dict[str, int] = {}
        check_shape("q", q, ("B", "D"), sizes)
        check_shape("f", f, ("B", "T", "D"), sizes)
        # (3.5) f^ta = MultiHead(q, F, F): the question picks the segments it is about
        f_ta, temporal_attn = self.attn(q.unsqueeze(1), f, f)  # [B, 1, D], [B, 1, T]
        f_ta = f_ta.squeeze(1)
        # not in the paper: a transformer-style residual FFN and LayerNorm on the summary
        f_ta = self.norm(f_ta + self.dropout2(self.fc2(self.dropout1(torch.relu(self.fc1(f_ta))))))
        return f_ta, temporal_attn.squeeze(1)


def held_resnet18() -> nn.Module:
    """The ImageNet ResNet-18 the official model holds as ``visual_net`` and never runs (its
    features are extracted beforehand). Built untrained; nothing is downloaded.

    The official copy (sasr_net/modules/visual_net.py) also holds ``conv1_a``, a 1-channel stem
    for spectrograms (3,136 parameters), added here so the count and the weight names agree; its
    ``layer4`` keeps stride 1 (14 x 14 maps), which changes no weight.
    """
    resnet = torchvision.models.resnet18(weights=None)
    resnet.conv1_a = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return resnet
