"""MUSIC-AVQA-R (Ma et al., "Look, Listen, and Answer", NeurIPS 2024): MUSIC-AVQA's test questions
rephrased, split into frequent (head) and rare (tail) answers. An evaluation set only: models train
on MUSIC-AVQA's train split and answer the three -R files (`annotations.R_SPLITS`):

- ``avqa-test-headtail.json``: every rephrased question (the "overall" column);
- ``avqa-test-head.json`` and ``avqa-test-tail.json``: its head and tail subsets.

Scoring, as the authors' code does it: each file is evaluated on its own and its accuracy is the
share of its questions answered right (reml-group/MUSIC-AVQA-R, ``engine.py``, ``Engine.test``:
one loop per test file, ``correct / total``, per-type accuracies beside). QA-TIGER does the same
(AIM-SKKU/QA-TIGER, ``src/test.py`` loops over ``cfg.data.test_annots`` and ``src/trainutils.py``,
``test``, returns ``correct / total * 100``). `sasr_lite.evaluate.head_tail_table` prints the three
with bootstrap intervals.

Head and tail, by the authors' README (section "Dataset"): within each question type, an answer
given more than ``HEAD_FACTOR`` = 1.2 times mu(a), the mean count of that type's answers, is head;
the others are tail. The published files are used as they are; `head_tail_labels` applies the rule
to other records (the synthetic -R split of `sasr_lite.synth.rephrase`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sasr_lite.data.annotations import R_SPLITS
from sasr_lite.paper import benchmark_number

HEAD_FACTOR = benchmark_number("r_head_factor").value  # 1.2
OVERALL_SPLIT, HEAD_SPLIT, TAIL_SPLIT = R_SPLITS  # "test-headtail", "test-head", "test-tail"
SUBSET_NAMES = {HEAD_SPLIT: "Head", TAIL_SPLIT: "Tail", OVERALL_SPLIT: "Overall"}  # table column order


def head_answers(records: Sequence) -> dict[tuple[str, str], set[str]]:
    """(group, type) -> its head answers: those given more than HEAD_FACTOR times the mean count
    of the answers given for that type in ``records``."""
    counts: dict[tuple[str, str], Counter] = {}
    for r in records:
        counts.setdefault((r.group, r.subtype), Counter())[r.answer] += 1
    heads = {}
    for qtype, answers in counts.items():
        mean = sum(answers.values()) / len(answers)
        heads[qtype] = {a for a, n in answers.items() if n > HEAD_FACTOR * mean}
    return heads


def head_tail_labels(records: Sequence) -> list[str]:
    """"head" or "tail" for each record, in order (`head_answers` of these records)."""
    heads = head_answers(records)
    return ["head" if r.answer in heads[(r.group, r.subtype)] else "tail" for r in records]
