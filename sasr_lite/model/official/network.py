"""The official SaSR-Net (sasr_net/models.py, ``SaSR_Net``) in the kit's own code and input layout.

Same weights, same computation: loaded with an official state dict (`load_official_state_dict`),
its answer logits equal the official ones. Read it beside `sasr_lite.model.SaSRNet` to see what
the released code does that the paper's equations do not.
"""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.config import SaSRConfig
from sasr_lite.model.answer import answer_logits as answer_logits_of, build_answer_head
from sasr_lite.model.encoders import AudioProjection
from sasr_lite.model.official.blocks import (
    AudioGuidedGrounding,
    PaddedQuestionEncoder,
    QuestionGuidedTemporalAttention,
    held_resnet18,
)
from sasr_lite.model.official.source import SourceAwareModule
from sasr_lite.model.sasrnet import SaSROutput
from sasr_lite.model.shapes import check_model_inputs
from sasr_lite.model.spatial import MatchHead

# T: the official audio branch mixes the visual segments with an MLP over exactly 10 rows
# (``han_encoder``, num_group_token=10), so every video must have 10 segments
OFFICIAL_SEGMENTS = 10

# Parameter counts at SaSRConfig() (93 words, 42 answers), by our submodule: the total is the
# paper's count; the parts are our torchinfo measurement of the official code
OFFICIAL_PARAMETERS = {
    "total": 65_117_283,
    "without_resnet": 53_424_635,
    "visual_net": 11_692_648,  # the held ImageNet ResNet-18, never run
    "sasr": 45_506_895,  # the source-aware module (official SaSR_Net.sasr)
    "question_encoder": 2_673_664,
    "temporal_a.attn": 1_050_624,  # official attn_a, one 4-head nn.MultiheadAttention
    "temporal_v.attn": 1_050_624,  # official attn_v
}


# SaSRConfig fields the official network has no counterpart for (they must keep their defaults)
FIXED_IN_OFFICIAL = ("use_slt", "use_sasr", "use_spatial", "use_temporal", "spatial_norm", "spatial_temperature",
                     "temporal_temperature", "sasr_residual")


class OfficialSaSRNet(nn.Module):
    """SaSR-Net as released by its authors, block by block.

    ``with_resnet=False`` leaves out the ResNet-18 the official model holds but never runs
    (11.7M of its 65.1M parameters). The official sizes are fixed (93 words, 42 answers,
    T = 10); ``config`` may shrink the widths, the vocabulary, the answers and the tokens, but
    T stays 10 and ``visual_dim`` must equal ``d_model`` (the grounding dots the audio with
    the map channels). It has no ablation switches and one spatial rule, so a config that changes
    ``use_*``, ``spatial_norm`` or ``spatial_temperature`` is refused rather than ignored. The loss
    weights (``lambda_*``, 0.5 each) are the official script's.
    """

    def __init__(self, config: SaSRConfig | None = None, with_resnet: bool = True) -> None:
        super().__init__()
        self.config = config = config or SaSRConfig()
        D = config.d_model
        changed = [f"{name}={getattr(config, name)!r}" for name in FIXED_IN_OFFICIAL
                   if getattr(config, name) != getattr(SaSRConfig, name)]
        if changed:
            raise ValueError(f"the official network has no ablation switches and one spatial rule; "
                             f"arch='official' cannot honour {', '.join(changed)}")
        if config.visual_dim != D:
            raise ValueError(
                f"the official network needs visual_dim == d_model (its grounding dots the audio "
                f"with the map channels), got visual_dim={config.visual_dim}, d_model={D}"
            )
        # (3.1) official QstEncoder(93, 512, 512, 1, 512): embedding, LSTM, FC
        self.question_encoder = PaddedQuestionEncoder(config.question_vocab_size, config.word_dim, D)
        # (3.1) official fc_a1, fc_a2: f_a^r = FC(ReLU(FC(A)))
        self.audio_proj = AudioProjection(config.audio_dim, D)
        # official visual_net: held, never run
        self.visual_net = held_resnet18() if with_resnet else None
        # (3.2-3.3) official sasr: tokens, transformers, grouping, L_source and L_reg heads
        self.sasr = SourceAwareModule(D, config.visual_dim, config.num_tokens, OFFICIAL_SEGMENTS)
        # (3.4) official grounding in out_match_infer, fc_gl; match head fc1-fc4
        self.grounding = AudioGuidedGrounding(D)
        self.match_head = MatchHead(D)
        # (3.5) official attn_a / attn_v with their FFNs and norms
        self.temporal_a = QuestionGuidedTemporalAttention(D)
        self.temporal_v = QuestionGuidedTemporalAttention(D)
        # official norm3: held, never used
        self.unused_norm = nn.LayerNorm(D)
        # (3.6) official fc_fusion, fc_ans; its dropout (0.5) is defined but never applied
        self.answer_head = build_answer_head(config, dropout=0.0)

    # the held ResNet and norm3 never get a gradient, so DDP must look for unused parameters
    has_unused_parameters = True

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
        """audio [V, 10, 128], visual [V, 10, 512], visual_maps [V, 10, P, 512], question [B, L]
        long, visual_maps_neg [V, 10, P, 512] or None, video_of [B] long or None, visual_neg
        [V, 10, 512] or None -> SaSROutput.

        The official forward takes (audio [B, T, 128], visual_posi and visual_nega [B, T, 512,
        14, 14], question [B, L]): our maps with P = 14 x 14 flattened row by row and the channels
        last. It average-pools the maps itself; ``visual`` and ``visual_neg`` are those pooled
        vectors (None for ``visual_neg`` pools ``visual_maps_neg`` here). The negative pass reruns
        the whole video path with the same audio, as the official one does.
        The video path never sees the question, so it runs once per video and ``video_of``
        picks each question's row afterwards: the same numbers as the official per-question
        rows. ``question_len`` is ignored: the official LSTM reads through the ``<pad>`` tokens.
        ``choices`` [B, K, L_c] and ``choice_len`` [B, K]: the candidates of a multiple-choice
        head (``answer_head='multiple_choice'``, the kit's addition for AVQA-Yang).
        ``visual_map_norms(_neg)`` [V, 10, P]: the maps' norms as `BatchLoader` keeps them; None
        computes them in the grounding.

        Filled: answer_logits [B, A]; match_logits and match_logits_neg [V, 10, 2] (official
        out_match_posi / _nega: [B*10, 2], per question; here per video, the same rows when
        video_of is None; _neg is None without negatives, which the answers do not use);
        presence_a, presence_v [V, C] logits (the official code returns their
        sigmoid); token_logits [C, C] (official av_cls_prob); spatial_attn, spatial_attn_neg
        [V, 10, P]; temporal_attn_a, temporal_attn_v [B, 10], averaged over the 4 heads;
        sasr_token_attn_a/v [V, C, 10], what each token reads in the grouping (the audio one over
        the 10 cross-modal groups); sasr_segment_attn_a/v [V, 10, C], averaged over 8 heads;
        tokens_a, tokens_v [V, C, D]; q [B, D]; video_of.
        None: slt_attn_a, slt_attn_v (three 8-head layers attend over the segments and tokens;
        no one map stands for them).
        """
        check_model_inputs(self.config, audio, visual, visual_maps, question, visual_maps_neg, video_of, visual_neg,
                           segments=OFFICIAL_SEGMENTS)
        # (3.1) q
        q = self.question_encoder(question)  # [B, D]
        # (3.1-3.4) the official out_match_infer, on the positive and on the negative maps
        video = self._video_path(audio, visual, visual_maps, visual_map_norms)
        neg = None
        if visual_maps_neg is not None:
            if visual_neg is None:
                visual_neg = visual_maps_neg.mean(dim=2)
            neg = self._video_path(audio, visual_neg, visual_maps_neg, visual_map_norms_neg)
        # from here on the question matters: one row per question
        f_a_g, f_v_sa = video["f_a_g"], video["f_v_sa"]
        if video_of is not None:
            # index_select, not f[video_of]: its backward (index_add_) sums the rows of a video in a
            # fixed order, where indexing's (index_put_) order changes from run to run on 2+ threads
            f_a_g, f_v_sa = f_a_g.index_select(0, video_of), f_v_sa.index_select(0, video_of)  # [B, T, D]
        # (3.5) question-guided summaries over T (vision first, as the official forward)
        f_v_ta, temporal_attn_v = self.temporal_v(q, f_v_sa)
        f_a_ta, temporal_attn_a = self.temporal_a(q, f_a_g)
        # (3.6) answer logits
        answer_logits = answer_logits_of(self.answer_head, self.question_encoder, f_a_ta, f_a_g, f_v_ta, f_v_sa, q,
                                         choices, choice_len)
        return SaSROutput(
            answer_logits=answer_logits,
            match_logits=video["match_logits"],
            match_logits_neg=None if neg is None else neg["match_logits"],
            presence_a=video["presence_a"],
            presence_v=video["presence_v"],
            token_logits=self.sasr.token_logits(),
            spatial_attn=video["spatial_attn"],
            temporal_attn_a=temporal_attn_a,
            temporal_attn_v=temporal_attn_v,
            spatial_attn_neg=None if neg is None else neg["spatial_attn"],
            slt_attn_a=None,
            slt_attn_v=None,
            sasr_token_attn_a=video["token_attn_a"],
            sasr_token_attn_v=video["token_attn_v"],
            sasr_segment_attn_a=video["segment_attn_a"],
            sasr_segment_attn_v=video["segment_attn_v"],
            tokens_a=video["tokens_a"],
            tokens_v=video["tokens_v"],
            q=q,
            match_weight=0.5,  # its one CE over the positive and negative rows together: half our L_match
            video_of=video_of,
        )

    def _video_path(self, audio: torch.Tensor, visual: torch.Tensor, visual_maps: torch.Tensor,
                    map_norm: torch.Tensor | None = None) -> dict:
        """Official ``out_match_infer``: audio [V, T, 128], visual [V, T, 512], maps [V, T, P, 512],
        map_norm [V, T, P] or None -> `SourceAwareModule`'s dict plus f_v_sa [V, T, D], spatial_attn
        [V, T, P] and match_logits [V, T, 2]."""
        # (3.1) f_a^r
        f_a_r = self.audio_proj(audio)
        # (3.2-3.3) f_a^g, f_v^g, G^a', G^v'
        out = self.sasr(f_a_r, visual)
        # (3.4) f_v^sa and the match logits
        out["f_v_sa"], out["spatial_attn"] = self.grounding(out["f_a_g"], out["f_v_g"], visual_maps, map_norm)
        out["match_logits"] = self.match_head(out["f_a_g"], out["f_v_sa"])
        return out
