"""Random inputs for the checks, all drawn from one seeded generator per exercise: tensors,
the weights of a package block, and minimal annotation records."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from sasr_lite.config import SaSRConfig
from sasr_lite.data.annotations import QARecord
from sasr_lite.data.taxonomy import TEMPLATES, Template
from sasr_lite.model import SaSROutput, build_model


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=g)


def randomised(module: nn.Module, g: torch.Generator) -> nn.Module:
    """``module`` in eval mode, without gradients, each parameter redrawn as N(0, 1 / fan_in).

    Drawn from ``g``, so every run checks the same weights; LayerNorm's too (they start at
    exactly 1 and 0, where a solution that leaves them out would go unnoticed).
    """
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(randn(g, *p.shape) / math.sqrt(p.shape[-1]))
    return module.requires_grad_(False).eval()


def records(templates: Sequence[Template], answers: Sequence[str]) -> list[QARecord]:
    """One QARecord per (template, answer) pair, question ids 0, 1, ...: the fields the answer
    prior and the Table 1 code read (group, subtype, template, answer), the rest left empty."""
    return [
        QARecord(video_id=f"{i:08d}", question_id=i, group=t.group, subtype=t.subtype, subtype_index=t.subtype_index,
                 template=t, templ_values=[], question=t.text, tokens=(), answer=a)
        for i, (t, a) in enumerate(zip(templates, answers))
    ]


def graded_questions(correct: Sequence[bool], templates: Sequence[Template] | None = None
                     ) -> tuple[list[QARecord], dict[int, str]]:
    """Records answered "yes" (of ``templates``, default the first template throughout) and
    predictions {question_id: answer} that are right exactly where ``correct`` says."""
    templates = templates if templates is not None else [TEMPLATES[0]] * len(correct)
    if len(templates) != len(correct):
        raise ValueError(f"graded_questions: {len(correct)} answers marked right or wrong but {len(templates)} templates")
    recs = records(templates, ["yes"] * len(correct))
    return recs, {r.question_id: "yes" if right else "no" for r, right in zip(recs, correct)}


@torch.no_grad()
def tiny_forward(**switches: bool) -> SaSROutput:
    """One forward pass of a tiny SaSR-Net built with ``switches`` (e.g. use_spatial=False) on
    random inputs of MUSIC-AVQA's shapes: T = 10 segments, P = 196 map cells, L = 14 words."""
    config, g = SaSRConfig.tiny(**switches), generator(0)
    with torch.random.fork_rng(devices=[]):  # the weights' initialisation leaves the global RNG alone
        model = build_model(config).eval()
    B, T, P, L = 2, 10, 196, 14
    maps = torch.rand(B, T, P, config.visual_dim, generator=g)
    question = torch.randint(1, config.question_vocab_size, (B, L), generator=g)
    return model(randn(g, B, T, config.audio_dim), maps.mean(dim=2), maps, question)
