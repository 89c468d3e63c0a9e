"""The four training losses and their weighted total, against direct re-computation."""

from __future__ import annotations

import math

import pytest
import torch

from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.config import SaSRConfig
from sasr_lite.losses import sasr_losses
from sasr_lite.model import SaSRNet, SaSROutput


def fake_output(B=4, T=3, C=5, A=7, negatives=True, seed=0) -> SaSROutput:
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    return SaSROutput(
        answer_logits=r(B, A), match_logits=r(B, T, 2), match_logits_neg=r(B, T, 2) if negatives else None,
        presence_a=r(B, C), presence_v=r(B, C), token_logits=r(C, C),
        spatial_attn=torch.full((B, T, 4), 0.25), temporal_attn_a=torch.full((B, T), 1 / T),
        temporal_attn_v=torch.full((B, T), 1 / T),
    )


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return x - torch.log(torch.exp(x).sum(-1, keepdim=True))


def bce(logits: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    s = 1 / (1 + torch.exp(-logits))
    return -(p * torch.log(s) + (1 - p) * torch.log(1 - s)).mean()


CONFIG = SaSRConfig.tiny(lambda_source=0.3, lambda_reg=0.7, lambda_match=1.1)


def test_each_part_matches_its_definition_and_total_uses_the_lambdas():
    out = fake_output()
    answer = torch.tensor([2, -1, 6, 0])
    sources = torch.tensor([[1, 0, 0, 1, 0], [0, 0, 0, 0, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=torch.float)
    losses = sasr_losses(out, answer, sources, CONFIG)

    known = [0, 2, 3]  # the -1 answer is ignored, not counted in the mean
    avqa = -sum(log_softmax(out.answer_logits[i])[answer[i]] for i in known) / len(known)
    source = bce(out.presence_a, sources) + bce(out.presence_v, sources)
    reg = -torch.stack([log_softmax(out.token_logits[i])[i] for i in range(5)]).mean()
    match = -log_softmax(out.match_logits)[..., 1].mean() - log_softmax(out.match_logits_neg)[..., 0].mean()

    expected = dict(avqa=avqa, source=source, reg=reg, match=match,
                    total=avqa + 0.3 * source + 0.7 * reg + 1.1 * match)
    assert set(losses) == set(expected)
    for name, value in expected.items():
        torch.testing.assert_close(losses[name], value, atol=1e-5, rtol=0, msg=name)
        assert losses[name].dim() == 0


def test_match_is_zero_without_negatives():
    losses = sasr_losses(fake_output(negatives=False), torch.tensor([0, 1, 2, 3]), torch.zeros(4, 5), CONFIG)
    assert losses["match"].item() == 0.0
    torch.testing.assert_close(
        losses["total"], losses["avqa"] + 0.3 * losses["source"] + 0.7 * losses["reg"]
    )


def test_a_batch_of_only_unknown_answers_gives_zero_avqa_not_nan():
    out = fake_output()
    out.answer_logits.requires_grad_(True)
    losses = sasr_losses(out, torch.full((4,), -1), torch.zeros(4, 5), CONFIG)
    assert losses["avqa"].item() == 0.0 and torch.isfinite(losses["total"])
    losses["total"].backward()
    assert torch.equal(out.answer_logits.grad, torch.zeros(4, 7))


def test_every_loss_of_a_real_forward_is_finite_and_near_chance_at_start():
    torch.manual_seed(0)
    config = SaSRConfig.tiny()
    model = SaSRNet(config)
    B, T, P = 3, 10, 16
    maps = torch.rand(B, T, P, 512)
    out = model(torch.randn(B, T, 128), maps.mean(2), maps, torch.randint(0, 40, (B, 14)), torch.rand(B, T, P, 512))
    losses = sasr_losses(out, torch.tensor([0, 5, -1]), (torch.rand(B, 22) > 0.5).float(), config)
    assert all(torch.isfinite(v) for v in losses.values())
    # freshly initialised heads are close to uniform guesses
    assert abs(losses["reg"].item() - math.log(22)) < 0.5
    assert abs(losses["match"].item() - 2 * math.log(2)) < 0.5


@pytest.mark.parametrize(
    "answer,sources,message",
    [
        (torch.tensor([0, 1, 2]), torch.zeros(4, 5), r"answer must be \[B\] \(B=4\), got \(3,\)"),
        (torch.tensor([0, 1, 2, 3]), torch.zeros(4, 22), r"sources must be \[B, 5\] \(B=4\), got \(4, 22\)"),
        (torch.tensor([0, 1, 2, 7]), torch.zeros(4, 5), r"answer indices must lie in \[-1, 7\)"),
        (torch.tensor([0.0, 1, 2, 3]), torch.zeros(4, 5), r"answer must hold integer answer indices"),
    ],
)
def test_bad_targets_raise_value_error(answer, sources, message):
    with pytest.raises(ValueError, match=message):
        sasr_losses(fake_output(), answer, sources, CONFIG)
