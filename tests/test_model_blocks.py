"""Each block of SaSR-Net against a direct re-computation of its equations (docs/design.md section 3)."""

from __future__ import annotations

import math
import re

import pytest
import torch

import model_reference as ref
from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.model import (
    AnswerHead,
    AudioProjection,
    CrossAttention,
    MatchHead,
    QuestionEncoder,
    SaSRBlock,
    SaSRBranch,
    SourceTokens,
    SpatialAttention,
    TemporalAttention,
    VisualProjection,
    self_attention,
)

ATOL = 1e-5


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---- 3.1 encoders ---------------------------------------------------------------------------


def test_question_encoder_is_embedding_lstm_and_fc_of_final_state():
    enc = QuestionEncoder(vocab_size=20, word_dim=12, d_model=16)
    question = torch.randint(1, 20, (4, 14))
    question[0, 9:] = 0  # trailing <pad>: the LSTM stops after the ninth word
    question[1, 5] = 0  # a <pad> before the last word is read like any word
    question[3, :] = 0  # all padding: one step
    lengths = [9, 14, 14, 1]
    rows = []
    for b, n in enumerate(lengths):
        words = torch.tanh(enc.embedding.weight[question[b : b + 1, :n]])
        h, c = ref.lstm_final_state(enc.lstm, words)
        rows.append(ref.linear(enc.fc, torch.tanh(torch.cat([h, c], dim=-1))))
    q = enc(question)
    assert q.shape == (4, 16)
    torch.testing.assert_close(q, torch.cat(rows), atol=ATOL, rtol=0)
    # more trailing padding changes nothing
    torch.testing.assert_close(enc(torch.cat([question, torch.zeros(4, 6, dtype=torch.long)], 1)), q,
                               atol=ATOL, rtol=0)


def test_question_encoder_has_the_official_parameter_count_at_official_sizes():
    enc = QuestionEncoder(vocab_size=93, word_dim=512, d_model=512)
    assert sum(p.numel() for p in enc.parameters()) == 2_673_664


def test_question_encoder_rejects_bad_indices_and_dtypes():
    enc = QuestionEncoder(vocab_size=20, word_dim=8, d_model=8)
    with pytest.raises(ValueError, match=r"question indices must lie in \[0, 20\)"):
        enc(torch.full((2, 14), 20))
    with pytest.raises(ValueError, match="question must hold integer word indices"):
        enc(torch.zeros(2, 14))
    with pytest.raises(ValueError, match=r"question must be \[B, L\]"):
        enc(torch.zeros(2, 14, 1, dtype=torch.long))


def test_audio_projection_is_fc_relu_fc():
    proj = AudioProjection(128, 16)
    audio = torch.randn(2, 10, 128)
    expected = ref.linear(proj.fc2, torch.clamp(ref.linear(proj.fc1, audio), min=0))
    torch.testing.assert_close(proj(audio), expected, atol=ATOL, rtol=0)
    with pytest.raises(ValueError, match=r"audio must be \[B, T, 128\], got \(2, 10, 64\)"):
        proj(torch.randn(2, 10, 64))


def test_visual_projection_is_one_fc():
    proj = VisualProjection(512, 16)
    visual = torch.randn(2, 7, 512)
    torch.testing.assert_close(proj(visual), ref.linear(proj.fc, visual), atol=ATOL, rtol=0)


# ---- 3.2 source-wise learnable tokens -------------------------------------------------------


def test_self_attention_matches_the_equation_and_rows_sum_to_one():
    f = torch.randn(2, 9, 16)
    out, weights = self_attention(f, return_weights=True)
    expected, expected_w = ref.self_attention(f)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights, expected_w, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 9))
    torch.testing.assert_close(self_attention(f), out)


def test_self_attention_accepts_any_leading_dims_and_has_no_parameters():
    f = torch.randn(3, 2, 5, 8)
    out = self_attention(f)
    for i in range(3):
        torch.testing.assert_close(out[i], ref.self_attention(f[i])[0], atol=ATOL, rtol=0)
    assert self_attention(torch.randn(5, 8)).shape == (5, 8)
    with pytest.raises(ValueError, match=r"\[\.\.\., N, D\]"):
        self_attention(torch.randn(8))


def test_source_tokens_start_small_random_and_distinct():
    slt = SourceTokens(num_tokens=22, d_model=512)
    G = slt.tokens.detach()
    assert G.shape == (22, 512)
    assert G.abs().sum() > 0 and 0.005 < G.std() < 0.1
    assert torch.cdist(G, G).add(torch.eye(22)).min() > 0  # no two tokens alike


def test_source_tokens_concatenate_attend_and_split():
    slt = SourceTokens(num_tokens=5, d_model=16)
    f_r = torch.randn(2, 7, 16)
    f_s, tokens, weights = slt(f_r)
    sequence = torch.cat([f_r, slt.tokens.detach().unsqueeze(0).repeat(2, 1, 1)], dim=1)
    expected, expected_w = ref.self_attention(sequence)
    torch.testing.assert_close(f_s, expected[:, :7], atol=ATOL, rtol=0)
    torch.testing.assert_close(tokens, expected[:, 7:], atol=ATOL, rtol=0)
    torch.testing.assert_close(weights, expected_w, atol=ATOL, rtol=0)
    assert weights.shape == (2, 12, 12)


def test_token_logits_classify_each_raw_token():
    slt = SourceTokens(num_tokens=6, d_model=16)
    logits = slt.token_logits()
    assert logits.shape == (6, 6)
    torch.testing.assert_close(logits, ref.linear(slt.classifier, slt.tokens), atol=ATOL, rtol=0)


# ---- 3.3 source-aware semantic representation -----------------------------------------------


def test_cross_attention_matches_the_equation():
    block = CrossAttention(16)
    a, b = torch.randn(2, 5, 16), torch.randn(2, 9, 16)
    out, weights = block(a, b)
    expected, expected_w = ref.cross_attention(block, a, b)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights, expected_w, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"b must be \[B, M, 16\] \(B=2\), got \(3, 9, 16\)"):
        block(a, torch.randn(3, 9, 16))


def test_sasr_branch_updates_tokens_then_segments():
    branch = SaSRBranch(16)
    f_s, tokens = torch.randn(2, 7, 16), torch.randn(2, 5, 16)
    f_g, tokens_new, token_w, segment_w = branch(f_s, tokens)
    # G' = LN(G + FC(CrossAttn(G, f^s)))
    read, expected_token_w = ref.cross_attention(branch.token_attn, tokens, f_s)
    expected_tokens = ref.layer_norm(branch.token_norm, tokens + ref.linear(branch.token_fc, read))
    # f^g = FC(CrossAttn(f^s, G'))
    read, expected_segment_w = ref.cross_attention(branch.segment_attn, f_s, expected_tokens)
    expected_f_g = ref.linear(branch.segment_fc, read)
    torch.testing.assert_close(tokens_new, expected_tokens, atol=ATOL, rtol=0)
    torch.testing.assert_close(f_g, expected_f_g, atol=ATOL, rtol=0)
    torch.testing.assert_close(token_w, expected_token_w, atol=ATOL, rtol=0)
    torch.testing.assert_close(segment_w, expected_segment_w, atol=ATOL, rtol=0)
    assert token_w.shape == (2, 5, 7) and segment_w.shape == (2, 7, 5)
    presence = branch.presence_logits(tokens_new)
    torch.testing.assert_close(presence, ref.linear(branch.presence, tokens_new).squeeze(-1), atol=ATOL, rtol=0)
    assert presence.shape == (2, 5)


def test_sasr_residual_adds_the_segments_back_and_keeps_them_apart():
    """f^g = f^s + FC(CrossAttn(f^s, G')) with ``residual=True`` (the official code); without it a
    segment's f^g is a mixture of token values only, so segments that read the tokens alike become
    the same vector whatever they held."""
    torch.manual_seed(0)
    plain = SaSRBranch(16)
    residual = SaSRBranch(16, residual=True)
    residual.load_state_dict(plain.state_dict())
    f_s, tokens = torch.randn(2, 7, 16), torch.randn(2, 5, 16)
    f_g_plain = plain(f_s, tokens)[0]
    torch.testing.assert_close(residual(f_s, tokens)[0], f_s + f_g_plain, atol=ATOL, rtol=0)
    # queries that read every token alike (fc_q = 0): the paper's f^g is one vector for all T
    for branch in (plain, residual):
        torch.nn.init.zeros_(branch.segment_attn.fc_q.weight)
        torch.nn.init.zeros_(branch.segment_attn.fc_q.bias)
    assert plain(f_s, tokens)[0].std(dim=1).max() < 1e-5
    torch.testing.assert_close(residual(f_s, tokens)[0].std(dim=1), f_s.std(dim=1), atol=1e-5, rtol=0)


def test_sasr_block_has_separate_weights_per_modality():
    block = SaSRBlock(16)
    f_s, tokens = torch.randn(2, 7, 16), torch.randn(2, 5, 16)
    out = block(f_s, tokens, f_s, tokens)
    torch.testing.assert_close(out["f_a_g"], block.audio(f_s, tokens)[0])
    torch.testing.assert_close(out["f_v_g"], block.visual(f_s, tokens)[0])
    assert not torch.allclose(out["f_a_g"], out["f_v_g"])  # same input, different weights
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "f_a_g": (2, 7, 16), "f_v_g": (2, 7, 16), "tokens_a": (2, 5, 16), "tokens_v": (2, 5, 16),
        "token_attn_a": (2, 5, 7), "token_attn_v": (2, 5, 7),
        "segment_attn_a": (2, 7, 5), "segment_attn_v": (2, 7, 5),
    }


# ---- 3.4 spatial attention and match head ---------------------------------------------------


def _spatial_reference(block, f_a_g, f_v_g, maps, norm, temperature):
    """Loop over (b, t): scores over P, softmax, weighted sum of the raw maps, FC(tanh(cat))."""
    B, T, P, V = maps.shape
    query = f_a_g if isinstance(block.query, torch.nn.Identity) else ref.linear(block.query, f_a_g)
    weights = torch.empty(B, T, P)
    attended = torch.empty(B, T, V)
    for b in range(B):
        for t in range(T):
            X, a = maps[b, t], query[b, t]
            if norm == "l2":
                scores = (X / X.norm(dim=-1, keepdim=True)) @ (a / a.norm())
            else:
                scores = X @ a
            weights[b, t] = ref.softmax(scores / temperature)
            attended[b, t] = weights[b, t] @ X
    f_v_sa = ref.linear(block.fc, torch.tanh(torch.cat([f_v_g, attended], dim=-1)))
    return f_v_sa, weights


@pytest.mark.parametrize("norm,temperature,d_model", [("l2", 1.0, 16), ("l2", 0.1, 24), ("none", 2.0, 24)])
def test_spatial_attention_matches_the_equation(norm, temperature, d_model):
    block = SpatialAttention(d_model, visual_dim=24, norm=norm, temperature=temperature)
    assert isinstance(block.query, torch.nn.Identity) == (d_model == 24)  # no projection unless needed
    f_a_g, f_v_g = torch.randn(2, 3, d_model), torch.randn(2, 3, d_model)
    maps = torch.rand(2, 3, 11, 24)
    f_v_sa, weights = block(f_a_g, f_v_g, maps)
    expected, expected_w = _spatial_reference(block, f_a_g, f_v_g, maps, norm, temperature)
    torch.testing.assert_close(weights, expected_w, atol=ATOL, rtol=0)
    torch.testing.assert_close(f_v_sa, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    assert f_v_sa.shape == (2, 3, d_model) and weights.shape == (2, 3, 11)


def test_spatial_attention_off_is_exactly_uniform():
    block = SpatialAttention(16, visual_dim=24, enabled=False)
    f_v_g, maps = torch.randn(2, 3, 16), torch.rand(2, 3, 13, 24)
    f_v_sa, weights = block(torch.randn(2, 3, 16), f_v_g, maps)
    assert torch.equal(weights, torch.full((2, 3, 13), 1.0 / 13))
    expected = ref.linear(block.fc, torch.tanh(torch.cat([f_v_g, maps.mean(2)], dim=-1)))
    torch.testing.assert_close(f_v_sa, expected, atol=ATOL, rtol=0)


def test_spatial_attention_rejects_maps_in_channel_first_layout():
    block = SpatialAttention(16, visual_dim=512)
    expected = "visual_maps must be [B, T, P, 512] (B=2, T=10), got (2, 10, 512, 14, 14)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        block(torch.randn(2, 10, 16), torch.randn(2, 10, 16), torch.randn(2, 10, 512, 14, 14))


def test_raw_scores_are_peakier_than_cosine_scores():
    """The design note's claim: l2 logits lie in [-1, 1], so over 196 positions they stay near flat."""
    l2 = SpatialAttention(512, visual_dim=512, norm="l2")
    raw = SpatialAttention(512, visual_dim=512, norm="none")
    raw.load_state_dict(l2.state_dict())
    f = torch.rand(1, 2, 512)
    maps = torch.rand(1, 2, 196, 512)
    w_l2 = l2(f, f, maps)[1]
    w_raw = raw(f, f, maps)[1]
    assert w_l2.max() < 2.0 / 196 < w_raw.max()


def test_match_head_is_an_mlp_on_audio_and_attended_vision():
    head = MatchHead(16)
    f_a_g, f_v_sa = torch.randn(2, 3, 16), torch.randn(2, 3, 16)
    x = torch.cat([f_a_g, f_v_sa], dim=-1)
    linears = [m for m in head.mlp if isinstance(m, torch.nn.Linear)]
    for layer in linears[:-1]:
        x = torch.clamp(ref.linear(layer, x), min=0)
    expected = ref.linear(linears[-1], x)
    logits = head(f_a_g, f_v_sa)
    assert logits.shape == (2, 3, 2)
    torch.testing.assert_close(logits, expected, atol=ATOL, rtol=0)


# ---- 3.5 temporal attention -----------------------------------------------------------------


def test_temporal_attention_matches_the_equation():
    block = TemporalAttention()
    q, f = torch.randn(2, 16), torch.randn(2, 7, 16)
    f_ta, weights = block(q, f)
    expected_w = ref.softmax(torch.einsum("bd,btd->bt", q, f) / math.sqrt(16))
    torch.testing.assert_close(weights, expected_w, atol=ATOL, rtol=0)
    torch.testing.assert_close(f_ta, torch.einsum("bt,btd->bd", expected_w, f), atol=ATOL, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    assert list(block.parameters()) == []


def test_temporal_attention_off_is_exactly_uniform():
    f = torch.randn(2, 7, 16)
    f_ta, weights = TemporalAttention(enabled=False)(torch.randn(2, 16), f)
    assert torch.equal(weights, torch.full((2, 7), 1.0 / 7))
    torch.testing.assert_close(f_ta, f.mean(1), atol=ATOL, rtol=0)


def test_temporal_attention_rejects_mismatched_width():
    with pytest.raises(ValueError, match=r"f must be \[B, T, D\] \(B=2, D=16\), got \(2, 7, 8\)"):
        TemporalAttention()(torch.randn(2, 16), torch.randn(2, 7, 8))


# ---- 3.6 answer head ------------------------------------------------------------------------


def test_answer_head_shortcut_fusion_gating_classifier():
    head = AnswerHead(16, num_answers=9)
    f_a_ta, f_v_ta, q = torch.randn(2, 16), torch.randn(2, 16), torch.randn(2, 16)
    f_a_g, f_v_sa = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    audio = f_a_ta + f_a_g.sum(1) / 7
    visual = f_v_ta + f_v_sa.sum(1) / 7
    f_av = ref.linear(head.fusion, torch.tanh(torch.cat([audio, visual], dim=-1)))
    expected = ref.linear(head.classifier, torch.tanh(f_av * q))
    logits = head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)
    assert logits.shape == (2, 9)
    torch.testing.assert_close(logits, expected, atol=ATOL, rtol=0)
