"""The whole SaSR-Net: shapes, wiring, gradients, ablation switches, bad input, overfitting."""

from __future__ import annotations

import math

import pytest
import torch

import model_reference as ref
from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.config import SaSRConfig
from sasr_lite.losses import sasr_losses
from sasr_lite.data.vocab import question_lengths
from sasr_lite.model import SaSRNet, SaSROutput
from sasr_lite.model.summary import PAPER_PARAMETERS, paper_comparison, parameter_table, torchinfo_summary


def make_inputs(config: SaSRConfig, B=2, T=10, P=196, L=14, negatives=True, seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    maps = torch.rand(B, T, P, config.visual_dim, generator=g)
    return dict(
        audio=torch.randn(B, T, config.audio_dim, generator=g),
        visual=maps.mean(2),  # pooled vectors are the spatial mean of the maps, as in the store
        visual_maps=maps,
        question=torch.randint(0, config.question_vocab_size, (B, L), generator=g),
        visual_maps_neg=torch.rand(B, T, P, config.visual_dim, generator=g) if negatives else None,
    )


def make_model(seed=0, **switches) -> SaSRNet:
    torch.manual_seed(seed)
    return SaSRNet(SaSRConfig.tiny(**switches)).eval()


def ablated(model: SaSRNet, **switches) -> SaSRNet:
    """The same weights with some blocks switched off."""
    other = SaSRNet(model.config.replace(**switches)).eval()
    other.load_state_dict(model.state_dict())
    return other


def _run(model, x):
    with torch.no_grad():
        return model(**x)


# ---- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("T,P,L", [(10, 196, 14), (7, 49, 9), (1, 4, 3)])
def test_output_shapes_and_attention_sums(T, P, L):
    model = make_model()
    c = model.config
    B, C, D = 2, c.num_tokens, c.d_model
    with torch.no_grad():
        out = model(**make_inputs(c, B=B, T=T, P=P, L=L))
    expected = {
        "answer_logits": (B, c.num_answers), "match_logits": (B, T, 2), "match_logits_neg": (B, T, 2),
        "presence_a": (B, C), "presence_v": (B, C), "token_logits": (C, C),
        "spatial_attn": (B, T, P), "spatial_attn_neg": (B, T, P),
        "temporal_attn_a": (B, T), "temporal_attn_v": (B, T),
        "slt_attn_a": (B, T + C, T + C), "slt_attn_v": (B, T + C, T + C),
        "sasr_token_attn_a": (B, C, T), "sasr_token_attn_v": (B, C, T),
        "sasr_segment_attn_a": (B, T, C), "sasr_segment_attn_v": (B, T, C),
        "tokens_a": (B, C, D), "tokens_v": (B, C, D), "q": (B, D),
    }
    assert {k: tuple(getattr(out, k).shape) for k in expected} == expected
    # every attention map is a distribution over its last axis
    maps = out.maps()
    assert set(maps) == {k for k in expected if "attn" in k}
    for name, weights in maps.items():
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]), msg=name)
        assert (weights >= 0).all(), name


def test_negatives_are_optional():
    model = make_model()
    with torch.no_grad():
        out = model(**make_inputs(model.config, T=5, P=9, negatives=False))
    assert out.match_logits_neg is None and out.spatial_attn_neg is None


# ---- wiring ---------------------------------------------------------------------------------


def test_forward_follows_the_paper_block_by_block():
    model = make_model()
    x = make_inputs(model.config, T=6, P=16, L=14)
    with torch.no_grad():
        out = model(**x)
        q = model.question_encoder(x["question"])
        f_a_s, G_a, _ = model.slt(model.audio_proj(x["audio"]))
        f_v_s, G_v, _ = model.slt(model.visual_proj(x["visual"]))
        f_a_g, G_a2, _, _ = model.sasr.audio(f_a_s, G_a)
        f_v_g, G_v2, _, _ = model.sasr.visual(f_v_s, G_v)
        f_v_sa, spatial = model.spatial(f_a_g, f_v_g, x["visual_maps"])
        D = model.config.d_model
        w_a = ref.softmax(torch.einsum("bd,btd->bt", q, f_a_g) / math.sqrt(D))
        w_v = ref.softmax(torch.einsum("bd,btd->bt", q, f_v_sa) / math.sqrt(D))
        f_a_ta = torch.einsum("bt,btd->bd", w_a, f_a_g)
        f_v_ta = torch.einsum("bt,btd->bd", w_v, f_v_sa)
        answer = model.answer_head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)
    close = dict(atol=1e-5, rtol=0)
    torch.testing.assert_close(out.answer_logits, answer, **close)
    torch.testing.assert_close(out.spatial_attn, spatial, **close)
    torch.testing.assert_close(out.temporal_attn_a, w_a, **close)
    torch.testing.assert_close(out.temporal_attn_v, w_v, **close)
    torch.testing.assert_close(out.match_logits, model.match_head(f_a_g, f_v_sa), **close)
    torch.testing.assert_close(out.tokens_a, G_a2, **close)
    torch.testing.assert_close(out.presence_v, model.sasr.visual.presence_logits(G_v2), **close)
    torch.testing.assert_close(out.token_logits, model.slt.token_logits(), **close)


def test_negative_maps_take_the_same_visual_path():
    """With the video's own maps as 'negatives' the two match heads must agree."""
    model = make_model()
    x = make_inputs(model.config, T=4, P=9)
    x["visual_maps_neg"] = x["visual_maps"].clone()
    with torch.no_grad():
        out = model(**x)
    torch.testing.assert_close(out.match_logits_neg, out.match_logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.spatial_attn_neg, out.spatial_attn, atol=1e-6, rtol=0)


def test_the_video_and_its_negative_share_one_pass_that_equals_two():
    """`_visual_path` runs the video and the negative video as one batch of 2V: the negative's match
    logits equal the blocks run on the negative alone, and the video's own outputs do not change
    when a negative is added (every step treats each video on its own)."""
    model = make_model()
    x = make_inputs(model.config, B=3, T=4, P=9)
    x["visual_neg"] = x["visual_maps_neg"].mean(2)
    with torch.no_grad():
        out = model(**x)
        alone = model(**{**x, "visual_maps_neg": None, "visual_neg": None})
        f_a_s, tokens_a, _ = model.slt(model.audio_proj(x["audio"]))
        f_a_g = model.sasr.audio(f_a_s, tokens_a)[0]
        f_v_s, tokens_v, _ = model.slt(model.visual_proj(x["visual_neg"]))
        f_v_g_neg = model.sasr.visual(f_v_s, tokens_v)[0]
        f_v_sa_neg, spatial_neg = model.spatial(f_a_g, f_v_g_neg, x["visual_maps_neg"])
    close = dict(atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out.match_logits_neg, model.match_head(f_a_g, f_v_sa_neg), **close)
    torch.testing.assert_close(out.spatial_attn_neg, spatial_neg, **close)
    for name in ("answer_logits", "match_logits", "spatial_attn", "tokens_v", "presence_v", "slt_attn_v",
                 "sasr_token_attn_v", "sasr_segment_attn_v"):
        assert getattr(out, name).shape == getattr(alone, name).shape, name
        torch.testing.assert_close(getattr(out, name), getattr(alone, name), **close)


def test_negatives_pooled_as_the_store_pooled_the_positives_match_them_bit_for_bit():
    """The store keeps float16 maps and float16 pooled vectors (the mean of the float32 maps), so
    re-pooling the stored maps is not what the positive path reads. Given the stored pooled
    vectors of the same video as 'negatives', the two match heads must agree exactly: L_match
    cannot tell its pairs apart by rounding."""
    model = make_model()
    x = make_inputs(model.config, T=4, P=9)
    maps = x["visual_maps"]
    x["visual"] = maps.mean(2).half().float()  # as the store writes and BatchLoader reads them
    x["visual_maps"] = x["visual_maps_neg"] = maps.half().float()
    x["visual_neg"] = x["visual"].clone()
    with torch.no_grad():
        out = model(**x)
    torch.testing.assert_close(out.match_logits_neg, out.match_logits, atol=0, rtol=0)
    with pytest.raises(ValueError, match="visual_neg was given without visual_maps_neg"):
        model(**{**x, "visual_maps_neg": None})


def test_question_lengths_given_by_the_loader_equal_the_ones_counted_here():
    model = make_model()
    x = make_inputs(model.config, B=3, T=4, P=9)
    x["question"][0, 5:] = 0  # <pad> after five words
    x["question"][1, 1:] = 0
    counted = question_lengths(x["question"])
    assert counted.tolist()[:2] == [5, 1]
    with torch.no_grad():
        given = model(**x, question_len=counted.tolist()).answer_logits
        torch.testing.assert_close(given, model(**x).answer_logits, atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"lengths must give one length per question \(3\), got 2"):
        model.question_encoder(x["question"], [4, 4])


def test_a_training_step_reads_no_tensor_value_on_the_host_when_value_checks_are_off(monkeypatch):
    """On a GPU, reading a value (.item(), .tolist(), `if tensor`) waits for the queued kernels.
    With value checks off (the default on an accelerator) forward + losses + backward read none."""
    model = make_model().train()
    x = make_inputs(model.config, B=4, T=4, P=9)
    x["visual_neg"] = x["visual_maps_neg"].mean(2)
    x["video_of"] = torch.tensor([0, 0, 1, 1])
    for key in ("audio", "visual", "visual_maps", "visual_maps_neg", "visual_neg"):
        x[key] = x[key][:2]
    lengths = question_lengths(x["question"])
    answer, sources = torch.tensor([1, 2, 3, -1]), (torch.rand(2, model.config.num_tokens) < 0.3).float()
    for name in ("item", "tolist", "__bool__", "__int__", "__float__", "numpy"):
        def refuse(*args, _name=name, **kwargs):
            raise AssertionError(f"host read: Tensor.{_name}")
        monkeypatch.setattr(torch.Tensor, name, refuse)
    for module in ("sasr_lite.model.shapes", "sasr_lite.model.encoders", "sasr_lite.losses"):
        monkeypatch.setattr(f"{module}.reads_values", lambda t: False)
    losses = sasr_losses(model(**x, question_len=lengths), answer, sources, model.config)
    losses["total"].backward()
    monkeypatch.undo()
    assert torch.isfinite(losses["total"]).item()


def test_config_picks_the_spatial_scoring():
    """spatial_norm="none" is the paper's raw dot product, divided by spatial_temperature."""
    model = make_model(spatial_norm="none", spatial_temperature=4.0)
    x = make_inputs(model.config, T=3, P=9)
    out = _run(model, x)
    with torch.no_grad():
        f_a_s, G_a, _ = model.slt(model.audio_proj(x["audio"]))
        query = ref.linear(model.spatial.query, model.sasr.audio(f_a_s, G_a)[0])  # D=32 -> 512 channels
    expected = ref.softmax(torch.einsum("btpc,btc->btp", x["visual_maps"], query) / 4.0)
    torch.testing.assert_close(out.spatial_attn, expected, atol=1e-5, rtol=0)


# ---- gradients ------------------------------------------------------------------------------


def test_every_parameter_gets_a_gradient_from_the_total_loss():
    model = make_model().train()
    c = model.config
    x = make_inputs(c, T=5, P=16)
    out = model(**x)
    losses = sasr_losses(out, torch.tensor([1, 3]), (torch.rand(2, c.num_tokens) > 0.5).float(), c)
    assert all(torch.isfinite(v) for v in losses.values())
    losses["total"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_bf16_autocast_gives_the_float32_losses_and_finite_gradients():
    """Training runs under bf16 autocast on CUDA; CPU autocast exercises the same dtype mixing
    (bf16 matmuls feeding float32 softmaxes and losses) where no GPU is present."""
    model = make_model().train()
    c = model.config
    x = make_inputs(c, T=5, P=16)
    answer, sources = torch.tensor([1, 3]), (torch.rand(2, c.num_tokens) > 0.5).float()
    reference = sasr_losses(model(**x), answer, sources, c)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(**x)
        losses = sasr_losses(out, answer, sources, c)
    assert out.answer_logits.dtype == torch.bfloat16  # autocast really ran the linear layers in bf16
    for name, value in losses.items():
        assert value.dtype == torch.float32, name
        assert value.item() == pytest.approx(reference[name].item(), rel=2e-2), name
    losses["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_answer_loss_alone_reaches_tokens_projections_and_question_encoder():
    model = make_model().train()
    out = model(**make_inputs(model.config, T=5, P=16))
    torch.nn.functional.cross_entropy(out.answer_logits, torch.tensor([0, 2])).backward()
    for name in ("slt.tokens", "audio_proj.fc1.weight", "visual_proj.fc.weight",
                 "question_encoder.embedding.weight", "question_encoder.lstm.weight_hh_l0"):
        grad = model.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name


# ---- ablation switches ----------------------------------------------------------------------


def test_no_slt_feeds_raw_features_and_shared_tokens_to_sasr():
    model = make_model()
    x = make_inputs(model.config, T=5, P=16)
    off = ablated(model, use_slt=False)
    out = _run(off, x)
    assert out.slt_attn_a is None and out.slt_attn_v is None
    B = 2
    G = model.slt.tokens.detach().expand(B, -1, -1)
    with torch.no_grad():
        f_a_g, tokens_a, token_w, _ = model.sasr.audio(model.audio_proj(x["audio"]), G)
        _, tokens_v, _, _ = model.sasr.visual(model.visual_proj(x["visual"]), G)
    torch.testing.assert_close(out.tokens_a, tokens_a)
    torch.testing.assert_close(out.tokens_v, tokens_v)
    torch.testing.assert_close(out.sasr_token_attn_a, token_w)
    assert not torch.allclose(out.answer_logits, _run(model, x).answer_logits)


def test_no_sasr_keeps_slt_output_and_tokens_unchanged():
    model = make_model()
    x = make_inputs(model.config, T=5, P=16)
    on, out = _run(model, x), _run(ablated(model, use_sasr=False), x)
    sasr_maps = ("sasr_token_attn_a", "sasr_token_attn_v", "sasr_segment_attn_a", "sasr_segment_attn_v")
    assert all(getattr(out, name) is None for name in sasr_maps)
    torch.testing.assert_close(out.slt_attn_a, on.slt_attn_a)
    torch.testing.assert_close(out.slt_attn_v, on.slt_attn_v)
    with torch.no_grad():
        f_a_s, G_a, _ = model.slt(model.audio_proj(x["audio"]))
        q = model.question_encoder(x["question"])
    # tokens leave as SLT made them; presence is read from those tokens
    torch.testing.assert_close(out.tokens_a, G_a)
    torch.testing.assert_close(out.presence_a, model.sasr.audio.presence_logits(G_a).detach())
    # f^g = f^s: the question attends over the SLT output directly
    w = ref.softmax(torch.einsum("bd,btd->bt", q, f_a_s) / math.sqrt(model.config.d_model))
    torch.testing.assert_close(out.temporal_attn_a, w, atol=1e-6, rtol=0)


def test_no_slt_no_sasr_is_avst_like():
    model = make_model()
    x = make_inputs(model.config, T=5, P=16)
    out = _run(ablated(model, use_slt=False, use_sasr=False), x)
    assert torch.equal(out.tokens_a, model.slt.tokens.detach().expand(2, -1, -1))
    assert torch.equal(out.tokens_v, out.tokens_a)
    assert not out.maps().keys() & {"slt_attn_a", "sasr_token_attn_a", "sasr_segment_attn_a"}
    with torch.no_grad():
        f_a_r = model.audio_proj(x["audio"])
        q = model.question_encoder(x["question"])
        f_v_sa, spatial = model.spatial(f_a_r, model.visual_proj(x["visual"]), x["visual_maps"])
    w = ref.softmax(torch.einsum("bd,btd->bt", q, f_a_r) / math.sqrt(model.config.d_model))
    torch.testing.assert_close(out.temporal_attn_a, w, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.spatial_attn, spatial)


def test_no_spatial_attention_is_exactly_uniform_and_touches_nothing_before_it():
    model = make_model()
    x = make_inputs(model.config, T=5, P=16)
    on, out = _run(model, x), _run(ablated(model, use_spatial=False), x)
    assert torch.equal(out.spatial_attn, torch.full((2, 5, 16), 1 / 16))
    assert torch.equal(out.spatial_attn_neg, torch.full((2, 5, 16), 1 / 16))
    for name in ("slt_attn_a", "slt_attn_v", "sasr_token_attn_v", "tokens_a", "presence_v", "temporal_attn_a"):
        torch.testing.assert_close(getattr(out, name), getattr(on, name), msg=name)
    assert not torch.allclose(out.match_logits, on.match_logits)
    assert not torch.allclose(out.temporal_attn_v, on.temporal_attn_v)


def test_no_temporal_attention_is_exactly_uniform_and_touches_only_the_answer():
    model = make_model()
    x = make_inputs(model.config, T=5, P=16)
    on, out = _run(model, x), _run(ablated(model, use_temporal=False), x)
    assert torch.equal(out.temporal_attn_a, torch.full((2, 5), 1 / 5))
    assert torch.equal(out.temporal_attn_v, torch.full((2, 5), 1 / 5))
    for name in ("spatial_attn", "match_logits", "match_logits_neg", "presence_a", "tokens_v", "slt_attn_a"):
        torch.testing.assert_close(getattr(out, name), getattr(on, name), msg=name)
    assert not torch.allclose(out.answer_logits, on.answer_logits)


# ---- several questions about one video ------------------------------------------------------


def test_video_of_shares_the_video_path_and_equals_repeated_rows():
    """Questions about the same video: one pass of the video path, the same answers as when each
    question carries its own copy of the video, and the same losses."""
    model = make_model()
    c = model.config
    videos = make_inputs(c, B=2, T=5, P=9)  # 2 videos
    video_of = torch.tensor([1, 0, 1, 1])  # 4 questions
    question = torch.randint(0, c.question_vocab_size, (4, 14), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        shared = model(**{**videos, "question": question}, video_of=video_of)
        repeated = model(**{k: (v[video_of] if k != "question" else question) for k, v in videos.items()})
    torch.testing.assert_close(shared.answer_logits, repeated.answer_logits)
    torch.testing.assert_close(shared.temporal_attn_a, repeated.temporal_attn_a)
    torch.testing.assert_close(shared.spatial_attn[video_of], repeated.spatial_attn)
    assert shared.spatial_attn.shape[0] == 2 and shared.presence_a.shape[0] == 2  # per video
    sources = (torch.rand(2, c.num_tokens, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    answer = torch.tensor([0, 3, -1, 2])
    for part, value in sasr_losses(shared, answer, sources, c).items():
        torch.testing.assert_close(value, sasr_losses(repeated, answer, sources[video_of], c)[part], msg=part)


@pytest.mark.parametrize(
    "video_of,message",
    [
        (torch.tensor([0, 2]), "video_of must index the 2 video rows, got values in [0, 2]"),
        (torch.tensor([0.0, 1.0]), "video_of must hold integer video rows, got dtype torch.float32"),
        (torch.tensor([0, 1, 1]), "video_of must be [B] (B=2), got (3,)"),
    ],
)
def test_bad_video_of_raises_value_error(video_of, message):
    model = make_model()
    with pytest.raises(ValueError) as err:
        model(**make_inputs(model.config, T=3, P=4), video_of=video_of)
    assert str(err.value) == message


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("visual_maps", torch.rand(2, 10, 512, 14, 14),
         "visual_maps must be [B, T, P, 512] (B=2, T=10), got (2, 10, 512, 14, 14)"),
        ("audio", torch.rand(2, 128), "audio must be [B, T, 128], got (2, 128)"),
        ("audio", torch.rand(2, 0, 128), "audio must be [B, T, 128], got (2, 0, 128)"),
        ("visual", torch.rand(2, 9, 512), "visual must be [B, T, 512] (B=2, T=10), got (2, 9, 512)"),
        ("visual", torch.rand(2, 10, 2048), "visual must be [B, T, 512] (B=2, T=10), got (2, 10, 2048)"),
        ("question", torch.zeros(3, 14, dtype=torch.long), "question must be [B, L] (B=2), got (3, 14)"),
        ("question", torch.zeros(2, 14), "question must hold integer word indices, got dtype torch.float32"),
        ("visual_maps_neg", torch.rand(2, 10, 49, 512),
         "visual_maps_neg must be [B, T, P, 512] (B=2, T=10, P=196), got (2, 10, 49, 512)"),
        ("audio", torch.zeros(2, 10, 128, dtype=torch.long),
         "audio must be a floating-point tensor, got dtype torch.int64"),
        ("visual_maps", None, "visual_maps must be a tensor shaped [B, T, P, 512], got NoneType"),
    ],
)
def test_bad_inputs_raise_value_error_naming_argument_and_shape(name, value, message):
    model = make_model()
    x = make_inputs(model.config)
    x[name] = value
    with pytest.raises(ValueError) as err:
        model(**x)
    assert str(err.value) == message


# ---- learning -------------------------------------------------------------------------------


def test_full_model_overfits_eight_random_samples():
    torch.manual_seed(0)
    config = SaSRConfig.tiny()
    model = SaSRNet(config)
    x = make_inputs(config, B=8, T=10, P=16, seed=1)
    answers = torch.randint(0, config.num_answers, (8,), generator=torch.Generator().manual_seed(2))
    sources = (torch.rand(8, config.num_tokens, generator=torch.Generator().manual_seed(3)) > 0.7).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    accuracy = 0.0
    for step in range(300):
        model.train()
        losses = sasr_losses(model(**x), answers, sources, config)
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
        if step % 10 == 9:
            model.eval()
            with torch.no_grad():
                accuracy = (model(**x).answer_logits.argmax(-1) == answers).float().mean().item()
            if accuracy == 1.0:
                break
    assert accuracy == 1.0, f"training accuracy {accuracy:.2f} after {step + 1} steps"


# ---- parameter summary ----------------------------------------------------------------------


def test_parameter_summary_agrees_with_plain_counting_and_torchinfo():
    model = SaSRNet(SaSRConfig())
    plain = sum(p.numel() for p in model.parameters())
    table = parameter_table(model)
    assert table.iloc[-1]["parameters"] == plain
    assert table.iloc[:-1]["parameters"].sum() == plain
    assert set(table["block"][:-1]) == {name for name, _ in model.named_children()}
    assert torchinfo_summary(model).total_params == plain
    comparison, text = paper_comparison(model)
    assert comparison.iloc[-1]["paper"] == PAPER_PARAMETERS and comparison.iloc[-1]["ours"] == plain
    assert comparison["ours"][:-1].sum() == plain
    assert f"{PAPER_PARAMETERS:,}" in text and f"{plain:,}" in text and "ResNet-18" in text
    assert "official layout and count (2,673,664)" in text  # paper sizes give the official encoder


def test_output_is_a_dataclass_with_the_contract_fields():
    names = {f for f in SaSROutput.__dataclass_fields__}
    assert {"answer_logits", "match_logits", "match_logits_neg", "presence_a", "presence_v", "token_logits",
            "spatial_attn", "temporal_attn_a", "temporal_attn_v"} <= names


@pytest.mark.parametrize("switches", [{}, dict(use_temporal=False), dict(use_slt=False, use_sasr=False)])
def test_reordering_the_segments_changes_no_answer(switches):
    """SaSR-Net has no positional encoding: every block treats the T segments alike and TA sums over
    them, so shuffling the segments shuffles the per-segment maps and leaves the answers unchanged.
    Temporal order is readable only when the features themselves say when a segment is
    (synth/cues.py, ``time_in_features``)."""
    model = make_model(**switches)
    x = make_inputs(model.config, B=3, negatives=False)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(5))
    shuffled = {k: (v[:, order] if k in ("audio", "visual", "visual_maps") else v) for k, v in x.items()}
    out, out_shuffled = _run(model, x), _run(model, shuffled)
    torch.testing.assert_close(out_shuffled.answer_logits, out.answer_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out_shuffled.temporal_attn_a, out.temporal_attn_a[:, order], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out_shuffled.spatial_attn, out.spatial_attn[:, order], atol=1e-6, rtol=1e-5)
    # and the answers do depend on the segments' content: replacing one segment moves them
    changed = dict(x, audio=x["audio"].clone())
    changed["audio"][:, 0] += 3.0
    assert (_run(model, changed).answer_logits - out.answer_logits).abs().max() > 1e-4
