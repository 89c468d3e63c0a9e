"""SaSR-Net: the blocks of sections 3.1-3.6 wired together, with every attention map returned."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import nn

from sasr_lite.config import SaSRConfig
from sasr_lite.model.answer import answer_logits as answer_logits_of, build_answer_head
from sasr_lite.model.encoders import AudioProjection, QuestionEncoder, VisualProjection
from sasr_lite.model.sasr import SaSRBlock, SaSRBranch
from sasr_lite.model.shapes import check_model_inputs
from sasr_lite.model.slt import SourceTokens
from sasr_lite.model.spatial import MatchHead, SpatialAttention
from sasr_lite.model.temporal import TemporalAttention


@dataclass
class SaSROutput:
    """Everything one forward pass produces. Maps of a switched-off block are ``None``
    (except spatial / temporal, which become exactly uniform).

    B counts questions and V videos: the video path (sections 3.1-3.4) never sees the question,
    so its outputs are per video. V = B unless the forward was given ``video_of``.
    """

    answer_logits: torch.Tensor  # [B, A]
    match_logits: torch.Tensor  # [V, T, 2] matched pairs (target class 1)
    match_logits_neg: torch.Tensor | None  # [V, T, 2] audio with another video's maps (target 0)
    presence_a: torch.Tensor  # [V, C] source presence logits from the audio tokens G^a'
    presence_v: torch.Tensor  # [V, C] ... from the visual tokens G^v'
    token_logits: torch.Tensor  # [C, C] FC(G) for L_reg, row i should pick class i
    spatial_attn: torch.Tensor  # [V, T, P] sums to 1 over P
    temporal_attn_a: torch.Tensor  # [B, T] sums to 1 over T
    temporal_attn_v: torch.Tensor  # [B, T]
    spatial_attn_neg: torch.Tensor | None = None  # [V, T, P] on the negative maps
    slt_attn_a: torch.Tensor | None = None  # [V, T+C, T+C] SLT self-attention, segments then tokens
    slt_attn_v: torch.Tensor | None = None
    sasr_token_attn_a: torch.Tensor | None = None  # [V, C, T] tokens reading the segments
    sasr_token_attn_v: torch.Tensor | None = None
    sasr_segment_attn_a: torch.Tensor | None = None  # [V, T, C] segments reading the tokens
    sasr_segment_attn_v: torch.Tensor | None = None
    tokens_a: torch.Tensor | None = None  # [V, C, D] G^a' after SaSR (G^a when SaSR is off)
    tokens_v: torch.Tensor | None = None
    q: torch.Tensor | None = None  # [B, D] question vector
    video_of: torch.Tensor | None = None  # [B] video row of each question (None: row b)
    match_weight: float = 1.0  # the network's own factor on L_match (the official one halves it)

    def maps(self) -> dict[str, torch.Tensor]:
        """Every attention map that was computed, by field name (for probing notebooks)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name.endswith(("_attn", "_attn_a", "_attn_v", "_attn_neg")) and getattr(self, f.name) is not None
        }


class SaSRNet(nn.Module):
    """Source-aware semantic representation network for audio-visual question answering.

    The ablation switches are fixed when the model is built; to compare, build another model
    from ``config.replace(use_...=False)`` and load the same state dict (every switch keeps the
    same parameters).
    """

    def __init__(self, config: SaSRConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SaSRConfig()
        self.use_slt, self.use_sasr = config.use_slt, config.use_sasr
        D = config.d_model
        self.question_encoder = QuestionEncoder(config.question_vocab_size, config.word_dim, D)
        self.audio_proj = AudioProjection(config.audio_dim, D)
        self.visual_proj = VisualProjection(config.visual_dim, D)
        # the tokens and their L_reg classifier exist even without SLT: G then feeds SaSR directly
        self.slt = SourceTokens(config.num_tokens, D)
        # the presence heads inside the branches serve L_source even without SaSR
        self.sasr = SaSRBlock(D, config.sasr_residual)
        self.spatial = SpatialAttention(
            D, config.visual_dim, config.spatial_norm, config.spatial_temperature, enabled=config.use_spatial
        )
        self.match_head = MatchHead(D)
        self.temporal = TemporalAttention(enabled=config.use_temporal, temperature=config.temporal_temperature)
        self.answer_head = build_answer_head(config, config.dropout)

    @property
    def has_unused_parameters(self) -> bool:
        """True when a switched-off block keeps parameters that get no gradient (DDP must look for them)."""
        c = self.config
        return not all((c.use_slt, c.use_sasr, c.use_spatial, c.use_temporal))

    def forward(
        self,
        audio: torch.Tensor,
        visual: torch.Tensor,
        visual_maps: torch.Tensor,
        question: torch.Tensor,
        visual_maps_neg: torch.Tensor | None = None,
        video_of: torch.Tensor | None = None,
        visual_neg: torch.Tensor | None = None,
        question_len: torch.Tensor | None = None,
        choices: torch.Tensor | None = None,
        choice_len: torch.Tensor | None = None,
        visual_map_norms: torch.Tensor | None = None,
        visual_map_norms_neg: torch.Tensor | None = None,
    ) -> SaSROutput:
        """audio [V, T, 128], visual [V, T, 512], visual_maps [V, T, P, 512], question [B, L] long,
        visual_maps_neg [V, T, P, 512] or None, video_of [B] long or None, visual_neg [V, T, 512]
        or None, question_len [B] or None, choices [B, K, L_c] long and choice_len [B, K] (a
        multiple-choice head only), visual_map_norms and visual_map_norms_neg [V, T, P] or None
        -> SaSROutput (shapes listed on its fields).

        ``video_of[b]`` is the row of the video tensors that question b is about; None means
        row b (V = B). Several questions about one video then share one pass of the video path.
        ``visual_neg`` are the negative videos' pooled vectors, pooled as ``visual`` was (the
        store's; `BatchLoader` gives them); None pools ``visual_maps_neg`` here, for hand-made
        inputs. ``question_len`` (words before the padding, on the host) spares a GPU step a copy
        back; None counts them here. ``visual_map_norms(_neg)``: the maps' norms |X_t,p| as
        `BatchLoader` keeps them (the same numbers spatial attention would compute); None computes them.
        """
        check_model_inputs(self.config, audio, visual, visual_maps, question, visual_maps_neg, video_of, visual_neg)
        # (3.1) q
        q = self.question_encoder(question, question_len)  # [B, D]
        # (3.1)-(3.3) audio path
        f_a_r = self.audio_proj(audio)  # [B, T, D]
        f_a_s, tokens_a, slt_attn_a = self._source_tokens(f_a_r)  # (3.2) [f^s; G^m] = S([f^r; G])
        f_a_g, tokens_a, sasr_a = self._semantics(self.sasr.audio, f_a_s, tokens_a)  # (3.3) G^m' and f^g
        # (3.1)-(3.3) visual path, the negative video's too when L_match needs it
        if visual_maps_neg is not None and visual_neg is None:
            visual_neg = visual_maps_neg.mean(dim=2)
        f_v_g, tokens_v, slt_attn_v, sasr_v, f_v_g_neg = self._visual_path(visual, visual_neg)
        # (3.4) f_v^sa from the maps attended by the source-aware audio; match logits
        f_v_sa, spatial_attn = self.spatial(f_a_g, f_v_g, visual_maps, visual_map_norms)
        match_logits = self.match_head(f_a_g, f_v_sa)
        match_logits_neg = spatial_attn_neg = None
        if visual_maps_neg is not None:
            match_logits_neg, spatial_attn_neg = self._negative_match(f_a_g, f_v_g_neg, visual_maps_neg,
                                                                      visual_map_norms_neg)
        # from here on the question matters: one row per question
        if video_of is not None:
            # index_select, not f[video_of]: its backward (index_add_) sums the rows of a video in a
            # fixed order, where indexing's (index_put_) order changes from run to run on 2+ threads
            f_a_g, f_v_sa = f_a_g.index_select(0, video_of), f_v_sa.index_select(0, video_of)  # [B, T, D]
        # (3.5) question-guided summaries over T
        f_a_ta, temporal_attn_a = self.temporal(q, f_a_g)
        f_v_ta, temporal_attn_v = self.temporal(q, f_v_sa)
        # (3.6) answer logits
        answer_logits = answer_logits_of(self.answer_head, self.question_encoder, f_a_ta, f_a_g, f_v_ta, f_v_sa, q,
                                         choices, choice_len)
        return SaSROutput(
            answer_logits=answer_logits,
            match_logits=match_logits,
            match_logits_neg=match_logits_neg,
            presence_a=self.sasr.audio.presence_logits(tokens_a),
            presence_v=self.sasr.visual.presence_logits(tokens_v),
            token_logits=self.slt.token_logits(),
            spatial_attn=spatial_attn,
            temporal_attn_a=temporal_attn_a,
            temporal_attn_v=temporal_attn_v,
            spatial_attn_neg=spatial_attn_neg,
            slt_attn_a=slt_attn_a,
            slt_attn_v=slt_attn_v,
            sasr_token_attn_a=sasr_a[0],
            sasr_token_attn_v=sasr_v[0],
            sasr_segment_attn_a=sasr_a[1],
            sasr_segment_attn_v=sasr_v[1],
            tokens_a=tokens_a,
            tokens_v=tokens_v,
            q=q,
            video_of=video_of,
        )

    def _source_tokens(self, f_r: torch.Tensor):
        """SLT, or its ablation: f^s = f^r and G^m = G (no self-attention map)."""
        if self.use_slt:
            return self.slt(f_r)
        B = f_r.shape[0]
        return f_r, self.slt.tokens.expand(B, *self.slt.tokens.shape), None

    def _semantics(self, branch: SaSRBranch, f_s: torch.Tensor, tokens: torch.Tensor):
        """SaSR for one modality, or its ablation: f^g = f^s and the tokens unchanged."""
        if self.use_sasr:
            f_g, tokens, token_attn, segment_attn = branch(f_s, tokens)
            return f_g, tokens, (token_attn, segment_attn)
        return f_s, tokens, (None, None)

    def _visual_path(self, visual: torch.Tensor, visual_neg: torch.Tensor | None):
        """(3.1)-(3.3) for the video, and for the negative video when given: f_v_g [V, T, D], tokens_v
        [V, C, D], the SLT map, the SaSR maps, and the negative's f_v_g [V, T, D] (None without one).

        The negative video goes through the whole visual path as the positive one does: its pooled
        vectors, then SLT and SaSR. Both are pooled the same way (the store's float16 means), or
        L_match could tell the pairs apart by rounding alone. Every step treats each video on its
        own, so the two run as one batch of 2V videos: one product per layer instead of two (at the
        paper's size that made the CPU training step 5-10% faster).
        """
        V = visual.shape[0]
        both = visual if visual_neg is None else torch.cat([visual, visual_neg])  # [V or 2V, T, 512]
        f_v_r = self.visual_proj(both)  # [., T, D]
        f_v_s, tokens_v, slt_attn_v = self._source_tokens(f_v_r)  # (3.2)
        f_v_g, tokens_v, sasr_v = self._semantics(self.sasr.visual, f_v_s, tokens_v)  # (3.3)
        if visual_neg is None:
            return f_v_g, tokens_v, slt_attn_v, sasr_v, None

        def positive(m):  # the first V rows are the video's own
            return None if m is None else m[:V]

        return (f_v_g[:V], tokens_v[:V], positive(slt_attn_v), tuple(positive(m) for m in sasr_v), f_v_g[V:])

    def _negative_match(self, f_a_g: torch.Tensor, f_v_g_neg: torch.Tensor, visual_maps_neg: torch.Tensor,
                        map_norm: torch.Tensor | None = None):
        """Match logits of this audio with another video's maps X' (target: not matched), from that
        video's f_v_g (`_visual_path`)."""
        f_v_sa, spatial_attn = self.spatial(f_a_g, f_v_g_neg, visual_maps_neg, map_norm)
        return self.match_head(f_a_g, f_v_sa), spatial_attn
