"""Notebook 06 (temporal attention): the question picks segments; the TA ablation; why 1/sqrt(D)."""

from __future__ import annotations

import functools
import math

import torch

from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import generator, randn, tiny_forward
from sasr_lite.labs.predict import Predict
from sasr_lite.model import temporal

TEMPORAL_STUB = '''\
def temporal_attention(q: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Question-guided temporal attention (3.5): f^ta = softmax(q F^T / sqrt(D)) F.

    q [B, D] question vectors, f [B, T, D] segment features (f_a_g or f_v_sa)
    -> (f_ta [B, D], weights [B, T]): each question's weights over its video's T segments sum to 1.
    """
    raise NotImplementedError("exercise 06.temporal_attention: write this function")
'''

TEMPORAL_SOLUTION = '''\
weights = torch.softmax((f * q.unsqueeze(1)).sum(-1) / math.sqrt(q.shape[-1]), dim=-1)  # [B, T]
return (weights.unsqueeze(-1) * f).sum(1), weights
'''


def _temporal_case(g: torch.Generator, B: int, T: int, D: int) -> Case:
    q, f = randn(g, B, D), randn(g, B, T, D)
    scores = (f @ q.unsqueeze(-1)).squeeze(-1)  # [B, T]

    def summary(weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (weights.unsqueeze(1) @ f).squeeze(1), weights

    right = torch.softmax(scores / math.sqrt(D), dim=-1)
    mistakes = {
        "you left out the 1/sqrt(D) scaling of q . f_t.": summary(torch.softmax(scores, dim=-1)),
        "you averaged over T with equal weights: that is the TA ablation (use_temporal=False); the "
        "question should choose the segments.": summary(torch.full((B, T), 1 / T)),
        "your weights are transposed: return them as [B, T], one row per question.": (summary(right)[0], right.T),
    }
    if B > 1:
        mistakes["your softmax runs over the wrong axis (the batch); it must run over the T segments of each "
                 "question's video (the last axis)."] = summary(torch.softmax(scores / math.sqrt(D), dim=0))
    return Case(label=f"q [{B}, {D}], f [{B}, {T}, {D}]", args=(q, f), expected=temporal.TemporalAttention()(q, f),
                mistakes=mistakes)


@functools.cache
def _temporal_cases(seed: int = 601) -> list[Case]:
    g = generator(seed)
    # T = 10 kept segments; all 60 seconds; a short clip
    return [_temporal_case(g, 2, 10, 32), _temporal_case(g, 4, 10, 8), _temporal_case(g, 3, 60, 8),
            _temporal_case(g, 1, 5, 8)]


def _ablated_weight() -> float:
    return tiny_forward(use_temporal=False).temporal_attn_a[0, 0].item()


def _unscaled_factor() -> float:
    """How much larger the logits' spread is without the scaling, for unit-variance q and f at D = 512."""
    return math.sqrt(512)


EXERCISES = [
    Exercise(
        "06.temporal_attention", "Write question-guided temporal attention over the T segments.", 10,
        Implement(TEMPORAL_STUB, (Target(temporal.TemporalAttention, "forward"),), _temporal_cases,
                  ("f_ta", "weights")),
        solution=TEMPORAL_SOLUTION,
    ),
    Exercise(
        "06.ablated_weights", "Predict each temporal weight of a model built with use_temporal=False (T = 10).", 5,
        Predict(_ablated_weight,
                why="Switching TA off sets every weight to exactly 1/T, so f^ta becomes the plain time average "
                    "and the question no longer picks segments (paper Table 3).",
                clue="Without the block, every one of the T = 10 segments gets the same weight, and the weights "
                     "still sum to 1.",
                wrong=lambda: {"that is 1/196, the spatial ablation's weight over P = 196 cells; here the "
                               "weights run over T = 10 segments.": 1 / 196,
                               "the weights are a distribution over T, so they sum to 1: not 1 each.": 1.0},
                rel_tol=1e-6),
        solution="return 1 / 10  # uniform over T = 10 segments",
    ),
    Exercise(
        "06.unscaled_logits", "Predict by what factor dropping 1/sqrt(D) widens the spread of q . f_t at D = 512.", 5,
        Predict(_unscaled_factor,
                why="q . f_t sums D products of unit-variance entries, so its standard deviation is sqrt(D) = "
                    "22.6 at D = 512; dividing by sqrt(D) brings it back to 1, and the softmax over T stays soft "
                    "instead of picking one segment.",
                clue="For q and f_t with independent unit-variance entries, q . f_t is a sum of D independent "
                     "products: what is the standard deviation of such a sum?",
                wrong=lambda: {"512 is the variance's factor; the spread (standard deviation) grows as "
                               "sqrt(D).": 512.0,
                               "that is the scaling itself, 1/sqrt(D); the question asks how much larger the "
                               "unscaled logits are.": 1 / math.sqrt(512)},
                abs_tol=0.1, rel_tol=0.0),
        solution="return math.sqrt(512)  # the dot product of D unit-variance terms has std sqrt(D)",
    ),
]
