"""The official SaSR-Net in the kit's code: parameter counts, outputs, fixed sizes, weight names.

Its answers were checked against the authors' code itself (same weights, same inputs) outside
the test suite, which does not depend on that code; here the official network is known by facts
about it: its parameter counts and the names and shapes of its state dict.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.config import SaSRConfig
from sasr_lite.model.official import (
    OFFICIAL_PARAMETERS,
    OFFICIAL_SEGMENTS,
    OfficialSaSRNet,
    load_official_state_dict,
    official_to_ours,
    ours_to_official,
)

# (name, shape) of every entry of the official SaSR_Net().state_dict(), dumped once from the
# authors' code (sasr_net/models.py, commit af28c7c)
OFFICIAL_KEYS = [(name, tuple(shape)) for name, shape in json.loads(
    (Path(__file__).parent / "data" / "official_state_dict_keys.json").read_text()
)]
TINY = SaSRConfig.tiny(visual_dim=32, audio_dim=16, num_tokens=6)  # visual_dim must equal d_model


@pytest.fixture(scope="module")
def model() -> OfficialSaSRNet:
    torch.manual_seed(0)
    return OfficialSaSRNet(SaSRConfig()).eval()


def make_inputs(config: SaSRConfig, V=2, B=None, P=196, L=14, negatives=True, seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    T = OFFICIAL_SEGMENTS
    maps = torch.rand(V, T, P, config.visual_dim, generator=g)
    question = torch.randint(1, config.question_vocab_size, (B or V, L), generator=g)
    question[:, L // 2:] = 0  # <pad>
    return dict(
        audio=torch.randn(V, T, config.audio_dim, generator=g),
        visual=maps.mean(2),
        visual_maps=maps,
        question=question,
        visual_maps_neg=torch.rand(V, T, P, config.visual_dim, generator=g) if negatives else None,
    )


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _run(model, **inputs):
    with torch.no_grad():
        return model(**inputs)


# ---- parameter counts -----------------------------------------------------------------------


def test_parameter_counts_match_the_official_model(model):
    assert count(model) == OFFICIAL_PARAMETERS["total"] == 65_117_283
    assert count(model) - count(model.visual_net) == OFFICIAL_PARAMETERS["without_resnet"]
    parts = {name: n for name, n in OFFICIAL_PARAMETERS.items() if name not in ("total", "without_resnet")}
    assert {name: count(model.get_submodule(name)) for name in parts} == parts


def test_without_the_resnet_it_holds_53_million():
    small = OfficialSaSRNet(SaSRConfig(), with_resnet=False)
    assert small.visual_net is None
    assert count(small) == OFFICIAL_PARAMETERS["without_resnet"] == 53_424_635


# ---- outputs --------------------------------------------------------------------------------


def test_output_shapes_and_sums(model):
    c = model.config
    V, T, P, C, D = 2, OFFICIAL_SEGMENTS, 196, c.num_tokens, c.d_model
    out = _run(model, **make_inputs(c, V=V, P=P))
    expected = {
        "answer_logits": (V, c.num_answers), "match_logits": (V, T, 2), "match_logits_neg": (V, T, 2),
        "presence_a": (V, C), "presence_v": (V, C), "token_logits": (C, C),
        "spatial_attn": (V, T, P), "spatial_attn_neg": (V, T, P),
        "temporal_attn_a": (V, T), "temporal_attn_v": (V, T),
        "sasr_token_attn_a": (V, C, T), "sasr_token_attn_v": (V, C, T),
        "sasr_segment_attn_a": (V, T, C), "sasr_segment_attn_v": (V, T, C),
        "tokens_a": (V, C, D), "tokens_v": (V, C, D), "q": (V, D),
    }
    assert {name: tuple(getattr(out, name).shape) for name in expected} == expected
    assert out.slt_attn_a is None and out.slt_attn_v is None and out.video_of is None
    for name in ("spatial_attn", "spatial_attn_neg", "temporal_attn_a", "temporal_attn_v",
                 "sasr_segment_attn_a", "sasr_segment_attn_v"):
        sums = getattr(out, name).sum(-1)
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5), name


def test_eval_grouping_gives_every_segment_to_one_token(model):
    out = _run(model, **make_inputs(model.config))
    for weights in (out.sasr_token_attn_a, out.sasr_token_attn_v):  # [V, C, T]
        taken = weights > 0
        assert (taken.sum(dim=1) == 1).all()  # one token per segment
        # a token averages its n segments with weight 1 / (n + 1) each (the official eps of 1)
        n = taken.sum(dim=-1).float()
        assert torch.allclose(weights.sum(-1), n / (n + 1), atol=1e-6)


def test_video_of_equals_each_question_on_its_own_video(model):
    c = model.config
    x = make_inputs(c, V=2, B=3, seed=1)
    video_of = torch.tensor([1, 0, 1])
    out = _run(model, **x, video_of=video_of)
    assert out.answer_logits.shape == (3, c.num_answers)
    assert out.match_logits.shape == (2, OFFICIAL_SEGMENTS, 2)  # the video path runs once per video
    for b, v in enumerate(video_of.tolist()):
        alone = _run(
            model, audio=x["audio"][[v]], visual=x["visual"][[v]], visual_maps=x["visual_maps"][[v]],
            question=x["question"][[b]], visual_maps_neg=x["visual_maps_neg"][[v]],
        )
        torch.testing.assert_close(out.answer_logits[b], alone.answer_logits[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out.temporal_attn_a[b], alone.temporal_attn_a[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out.match_logits_neg[v], alone.match_logits_neg[0], atol=1e-5, rtol=1e-5)


def test_answers_do_not_use_the_negatives_and_pooling_defaults_to_the_maps(model):
    x = make_inputs(model.config, seed=2)
    with_neg = _run(model, **x)
    pooled = _run(model, **x, visual_neg=x["visual_maps_neg"].mean(2))
    without = _run(model, **{**x, "visual_maps_neg": None})
    assert without.match_logits_neg is None and without.spatial_attn_neg is None
    torch.testing.assert_close(with_neg.answer_logits, without.answer_logits)
    torch.testing.assert_close(with_neg.match_logits_neg, pooled.match_logits_neg)


def test_the_question_lstm_reads_through_the_padding(model):
    question = make_inputs(model.config, L=14)["question"]  # words, then <pad> from position 7
    with torch.no_grad():
        q_padded = model.question_encoder(question)
        q_words = model.question_encoder(question[:, :7])
    assert not torch.allclose(q_padded, q_words, atol=1e-4)


# ---- sizes ----------------------------------------------------------------------------------


def test_smaller_widths_run_and_train():
    torch.manual_seed(0)
    tiny = OfficialSaSRNet(TINY, with_resnet=False).train()
    out = tiny(**make_inputs(TINY, V=2, P=49))
    assert out.answer_logits.shape == (2, TINY.num_answers)
    assert out.tokens_v.shape == (2, TINY.num_tokens, TINY.d_model)
    (out.answer_logits.sum() + out.match_logits.sum() + out.presence_a.sum()).backward()
    assert tiny.sasr.tokens.grad is not None and tiny.sasr.tokens.grad.abs().sum() > 0


def test_the_sizes_the_official_code_fixes_are_checked():
    with pytest.raises(ValueError, match="visual_dim == d_model"):
        OfficialSaSRNet(SaSRConfig.tiny(), with_resnet=False)
    tiny = OfficialSaSRNet(TINY, with_resnet=False).eval()
    x = make_inputs(TINY)
    x["audio"] = x["audio"][:, :7]
    with pytest.raises(ValueError, match=r"audio must be \[B, 10, 16\]"):
        tiny(**x)


# ---- official weights -----------------------------------------------------------------------


def test_key_map_pairs_every_official_name_with_one_of_ours(model):
    ours = model.state_dict()
    mapped = {official_to_ours(name): shape for name, shape in OFFICIAL_KEYS}
    assert len(mapped) == len(OFFICIAL_KEYS) == len(ours)
    assert {name: tuple(t.shape) for name, t in ours.items()} == mapped
    assert all(ours_to_official(official_to_ours(name)) == name for name, _ in OFFICIAL_KEYS)


def test_an_official_state_dict_lands_in_every_tensor():
    model = OfficialSaSRNet(SaSRConfig())
    g = torch.Generator().manual_seed(1)
    state = {
        name: torch.randint(0, 100, shape, generator=g) if name.endswith("num_batches_tracked")
        else torch.randn(shape, generator=g)
        for name, shape in OFFICIAL_KEYS
    }
    load_official_state_dict(model, state)
    ours = model.state_dict()
    for name, _ in OFFICIAL_KEYS:
        assert torch.equal(ours[official_to_ours(name)], state[name]), name


def _official_state(model: OfficialSaSRNet) -> dict[str, torch.Tensor]:
    return {ours_to_official(name): t.clone() for name, t in model.state_dict().items()}


def test_loaded_weights_give_the_same_answers_with_or_without_data_parallel_names():
    torch.manual_seed(0)
    source = OfficialSaSRNet(TINY, with_resnet=False).eval()
    torch.manual_seed(1)
    target = OfficialSaSRNet(TINY, with_resnet=False).eval()
    x = make_inputs(TINY, P=49)
    load_official_state_dict(target, {"module." + name: t for name, t in _official_state(source).items()})
    torch.testing.assert_close(_run(target, **x).answer_logits, _run(source, **x).answer_logits)


def test_missing_unexpected_and_misshapen_weights_are_one_error():
    tiny = OfficialSaSRNet(TINY, with_resnet=False)
    state = _official_state(tiny)
    del state["fc_ans.weight"]
    state["extra.weight"] = torch.zeros(3)
    state["fc_a1.bias"] = torch.zeros(5)
    with pytest.raises(ValueError) as error:
        load_official_state_dict(tiny, state)
    message = str(error.value)
    assert "1 missing: fc_ans.weight" in message
    assert "1 unexpected: extra.weight" in message
    assert "fc_a1.bias (5,) (expected (32,))" in message


def test_a_file_is_named_in_the_error_and_the_resnet_is_skipped_without_one(tmp_path):
    tiny = OfficialSaSRNet(TINY, with_resnet=False)
    state = _official_state(tiny)
    state["visual_net.conv1.weight"] = torch.zeros(64, 3, 7, 7)  # skipped: this model holds no ResNet
    path = tmp_path / "sasr_net.pt"
    torch.save(state, path)
    load_official_state_dict(tiny, path)
    del state["sasr.av_token"]
    torch.save(state, path)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: .*1 missing: sasr.av_token"):
        load_official_state_dict(tiny, path)
    torch.save({"model": state}, path)
    with pytest.raises(ValueError, match="expected a state dict"):
        load_official_state_dict(tiny, path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: cannot be read"):
        load_official_state_dict(tiny, path)


def test_build_model_gives_the_official_network_with_the_papers_count():
    from sasr_lite.model import build_model

    model = build_model(SaSRConfig(arch="official"))
    assert isinstance(model, OfficialSaSRNet)
    assert sum(p.numel() for p in model.parameters()) == 65_117_283


def test_the_official_match_loss_is_one_cross_entropy_over_both_rows():
    """The official script's loss_match: one CE over the positive and negative rows stacked, i.e.
    half the kit's L_match (which sums the two CEs); the network says so, not the loss code."""
    import torch.nn.functional as F

    from sasr_lite.losses import sasr_losses

    torch.manual_seed(0)
    net = OfficialSaSRNet(TINY, with_resnet=False).eval()
    out = net(**make_inputs(TINY, V=3, P=4))
    sources = torch.randint(0, 2, (3, TINY.num_tokens)).float()
    losses = sasr_losses(out, torch.zeros(3, dtype=torch.long), sources, TINY)
    logits = torch.cat([out.match_logits, out.match_logits_neg]).reshape(-1, 2)
    targets = torch.cat([torch.ones(out.match_logits.shape[:2]), torch.zeros(out.match_logits.shape[:2])]).long()
    torch.testing.assert_close(losses["match"], F.cross_entropy(logits, targets.reshape(-1)))
    assert net.has_unused_parameters
