"""MUSIC-AVQA (Li et al., CVPR 2022) behind the `Benchmark` seam: the kit's first dataset.

Its parsing lives in `annotations` (records, templates, releases), its taxonomy in `taxonomy`, its
weak source labels in `sources`; this module only names them for `sasr_lite.data.datasets`.
"""

from __future__ import annotations

from sasr_lite.data.annotations import QUESTION_LEN, load_annotations
from sasr_lite.data.datasets import AVG, OVERALL, Benchmark
from sasr_lite.data.sources import weak_source_labels
from sasr_lite.data.taxonomy import GROUPS, INSTRUMENTS, SUBTYPES

NAME = "music-avqa"
# The paper's Table 1: each group's types then its Avg, then the overall Avg.
TABLE_COLUMNS = tuple(
    [c for g in GROUPS for c in [*((gg, s) for gg, s in SUBTYPES if gg == g), (g, AVG)]] + [(OVERALL, AVG)]
)


def split_file(split: str) -> str:
    return f"avqa-{split}.json"


def answer_words(train_records) -> list[str]:
    """The train split's answers, sorted: the closed vocabulary the classifier chooses from."""
    return sorted({r.answer for r in train_records})


BENCHMARK = Benchmark(
    name=NAME,
    title="MUSIC-AVQA",
    answer_format="closed",
    question_len=QUESTION_LEN,
    table_columns=TABLE_COLUMNS,
    source_classes=INSTRUMENTS,
    split_file=split_file,
    load_records=load_annotations,
    weak_source_labels=weak_source_labels,
    answer_words=answer_words,
)
