"""Sections 3.2-3.3 as the official code builds them (sasr_net/modules/sasr.py and the
``ModalityTrans`` of grouping.py): source tokens, a transformer per modality, grouping.

Where the paper has a parameter-free self-attention over [f^r; G] (3.2) and four single-head
cross-attentions (3.3), the official module runs, per modality, three 8-head transformer layers
over the segments and the tokens together, a GroupViT grouping that gives every segment to one
token, and a cross-attention layer in which the segments read the grouped tokens back. The audio
branch first regroups its segments around the visual segments (the official ``han_encoder``).
"""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.model.official.grouping import CHANNEL_MLP_RATIO, GroupingBlock
from sasr_lite.model.official.layers import CrossAttentionLayer, SelfAttentionLayer
from sasr_lite.model.shapes import check_shape

SOURCE_DEPTH = 3  # official depth_aud / depth_vis: transformer layers per modality
SOURCE_HEADS = 8  # official num_heads and num_heads_grouping
DROP_PATH = 0.1  # official ModalityTrans drop_path (stochastic depth of every residual branch)
INIT_STD = 0.02  # official _init_weights: truncated normal for every FC of this module


class ModalityTransformer(nn.Module):
    """One modality's path from f^r to f^g and G^m' (official ``ModalityTrans``: audio_cug / visual_cug).

    ``num_segments`` set (the audio branch) adds the cross-modal grouping, whose group tokens
    are the other modality's T segments, mixed by an MLP over exactly ``num_segments`` rows.
    """

    def __init__(self, dim: int, num_tokens: int, num_segments: int | None = None) -> None:
        super().__init__()
        self.slt_layers = nn.ModuleList(
            SelfAttentionLayer(dim, SOURCE_HEADS, CHANNEL_MLP_RATIO, DROP_PATH) for _ in range(SOURCE_DEPTH)
        )
        # official han_encoder: soft assignment, no Gumbel noise
        self.cross_modal_grouping = (
            GroupingBlock(dim, SOURCE_HEADS, num_segments, num_segments, hard=False, gumbel=False)
            if num_segments else None
        )
        # official grouping: hard assignment with Gumbel noise while training
        self.source_grouping = GroupingBlock(dim, SOURCE_HEADS, num_tokens, num_tokens, hard=True, gumbel=True)
        self.segment_attn = CrossAttentionLayer(dim, SOURCE_HEADS, CHANNEL_MLP_RATIO, DROP_PATH, post_norm=False)

    def forward(
        self, f_r: torch.Tensor, tokens: torch.Tensor, other: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """f_r [B, T, D], tokens G [C, D], other [B, T, D] (the visual input; audio branch only)
        -> f_g [B, T, D], tokens G^m' [B, C, D], token weights [B, C, T], segment weights [B, T, C]."""
        B, T, D = f_r.shape
        C = tokens.shape[0]
        # (3.2) [f^s; G^m] = Transformer([f^r; G]): segments and tokens attend over one T+C sequence
        sequence = torch.cat([f_r, tokens.expand(B, C, D)], dim=1)  # [B, T+C, D]
        for layer in self.slt_layers:
            sequence = layer(sequence)
        f_s, tokens_m = sequence.split([T, C], dim=1)
        if self.cross_modal_grouping is not None:
            # audio only: T groups seeded by the visual segments take the audio segments apart
            f_s, _ = self.cross_modal_grouping(f_s, other)  # [B, T, D]
        # (3.3) G^m' = Grouping(f^s, G^m): every segment goes to one token
        tokens_new, token_weights = self.source_grouping(f_s, tokens_m)  # [B, C, D], [B, C, T]
        # (3.3) f^g = CrossAttn(f^s, G^m') + f^s: the segments read the grouped tokens
        read, segment_weights = self.segment_attn(f_s, tokens_new)
        f_g = read + f_s
        return f_g, tokens_new, token_weights, segment_weights.mean(dim=1)


class SourceAwareModule(nn.Module):
    """Learnable source tokens and both modalities' transformers, with the L_source and L_reg
    heads (official ``SourceAwareSemanticRepresentation``, ``SaSR_Net.sasr``; paper 3.2-3.3)."""

    def __init__(self, d_model: int, visual_dim: int, num_tokens: int, num_segments: int) -> None:
        super().__init__()
        D = d_model
        self.audio_in = nn.Linear(D, D)  # official fc_a
        # official fc_v / fc_st / fc_fusion fuse "2D and 3D" visual features; both inputs are
        # the same pooled ResNet vectors in the official network
        self.visual_in = nn.Linear(visual_dim, D)
        self.visual_st_in = nn.Linear(visual_dim, D)
        self.visual_fusion = nn.Linear(2 * D, D)
        # (3.2) G: one token per instrument class, zeros at the start as in the official code
        self.tokens = nn.Parameter(torch.zeros(num_tokens, D))  # official av_token
        self.audio = ModalityTransformer(D, num_tokens, num_segments)  # official audio_cug
        self.visual = ModalityTransformer(D, num_tokens)  # official visual_cug
        self.presence = nn.Linear(D, 1)  # official fc_prob: held, never used
        self.presence_a = nn.Linear(D, 1)  # official fc_prob_a
        self.presence_v = nn.Linear(D, 1)  # official fc_prob_v
        self.token_classifier = nn.Linear(D, num_tokens)  # official fc_cls (L_reg)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=INIT_STD)
                nn.init.zeros_(module.bias)

    def forward(self, f_a_r: torch.Tensor, visual: torch.Tensor) -> dict[str, torch.Tensor]:
        """f_a_r [B, T, D] projected audio, visual [B, T, 512] pooled maps -> dict of f_a_g, f_v_g
        [B, T, D], tokens_a, tokens_v [B, C, D], presence_a, presence_v [B, C] logits, and the
        weight maps token_attn_a/v [B, C, T] and segment_attn_a/v [B, T, C] (mean over heads)."""
        D = self.audio_in.in_features
        sizes: dict[str, int] = {}
        check_shape("f_a_r", f_a_r, ("B", "T", D), sizes)
        check_shape("visual", visual, ("B", "T", self.visual_in.in_features), sizes)
        x_a = self.audio_in(f_a_r)
        x_v = self.visual_fusion(torch.cat([self.visual_in(visual), self.visual_st_in(visual)], dim=-1))
        # vision first, as the official forward runs them (the order of random draws in training)
        f_v_g, tokens_v, token_attn_v, segment_attn_v = self.visual(x_v, self.tokens)
        f_a_g, tokens_a, token_attn_a, segment_attn_a = self.audio(x_a, self.tokens, x_v)
        # (3.3) L_source logits per token; the official code returns their sigmoid
        return dict(
            f_a_g=f_a_g, f_v_g=f_v_g, tokens_a=tokens_a, tokens_v=tokens_v,
            presence_a=self.presence_a(tokens_a).squeeze(-1), presence_v=self.presence_v(tokens_v).squeeze(-1),
            token_attn_a=token_attn_a, token_attn_v=token_attn_v,
            segment_attn_a=segment_attn_a, segment_attn_v=segment_attn_v,
        )

    def token_logits(self) -> torch.Tensor:
        """FC(G) [C, C]: row i holds the class logits of token i (target: class i) for L_reg."""
        return self.token_classifier(self.tokens)
