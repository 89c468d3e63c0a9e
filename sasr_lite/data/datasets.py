"""The seam between the kit and a benchmark: one `Benchmark` per dataset, one module each.

Everything that differs between MUSIC-AVQA and AVQA-Yang sits behind these few fields, so the
loader, training, evaluation and `sasr-lite inspect` never ask which dataset they hold:

- ``split_file(split)``: the annotation file of a split (`avqa-val.json`, `val_qa.json`);
- ``load_records(path)``: that file, parsed into records (errors name file and record);
- ``table_columns``: the results table's (group, type) columns, Avg columns included, in order;
- ``answer_format``: "closed" (one classifier over the train answers) or "multiple_choice"
  (score the record's candidates), and ``answer_words(train_records)``, the answer vocabulary;
- ``source_classes`` and ``weak_source_labels(records)``: the L_source targets.

Records of every benchmark share ``video_id``, ``question_id``, ``group``, ``subtype``,
``subtype_index``, ``tokens``, ``answer``, ``template_key`` and ``template_index``, and name their
benchmark in the class attribute ``dataset``. A third benchmark is one new module with a
``BENCHMARK`` and one line in `_modules`.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sasr_lite.config import ANSWER_HEADS
from sasr_lite.data.files import read_json

AVG, OVERALL = "Avg", "Overall"
# a benchmark's answer format is the name of the answer head that answers it (SaSRConfig.answer_head)
ANSWER_FORMATS = ANSWER_HEADS


@dataclass(frozen=True)
class Benchmark:
    """What the kit needs to know about one dataset (module doc)."""

    name: str  # "music-avqa", "avqa-yang": the value of --dataset and of synth.json's "dataset"
    title: str
    answer_format: str  # one of ANSWER_FORMATS
    question_len: int  # L: words per question after padding
    table_columns: tuple[tuple[str, str], ...]  # (group, type) in table order; (g, Avg), (Overall, Avg)
    source_classes: tuple[str, ...]  # one per source token (C)
    split_file: Callable[[str], str]
    load_records: Callable[[str | Path], list]
    weak_source_labels: Callable[[Sequence], dict]
    answer_words: Callable[[Sequence], list[str]]

    def __post_init__(self) -> None:
        if self.answer_format not in ANSWER_FORMATS:
            raise ValueError(f"{self.name}: answer_format must be one of {ANSWER_FORMATS}, got {self.answer_format!r}")

    def split_path(self, folder: str | Path, split: str) -> Path:
        return Path(folder) / self.split_file(split)

    @property
    def question_types(self) -> tuple[tuple[str, str], ...]:
        """(group, type) of every question type, without the Avg columns."""
        return tuple(c for c in self.table_columns if c[1] != AVG)


# name -> module holding its BENCHMARK (imported when first asked for)
_modules = {"music-avqa": "sasr_lite.data.music_avqa", "avqa-yang": "sasr_lite.data.avqa_yang"}
NAMES = tuple(_modules)


def get_benchmark(name: str) -> Benchmark:
    """The `Benchmark` called ``name``; ValueError listing the known names otherwise."""
    if name not in _modules:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(_modules[name]).BENCHMARK


def benchmark_of(records: Sequence) -> Benchmark:
    """The benchmark the records come from (their ``dataset``); all must agree."""
    names = {type(r).dataset for r in records}
    if len(names) != 1:
        raise ValueError(f"records must all come from one dataset, got {sorted(names) or 'no records'}")
    return get_benchmark(names.pop())


def benchmark_for_file(path: str | Path) -> Benchmark:
    """The benchmark an annotation file belongs to, by its name's pattern (`avqa-*.json` is
    MUSIC-AVQA's, `*_qa.json` AVQA-Yang's); MUSIC-AVQA for a name neither matches."""
    name = Path(path).name
    for benchmark_name in NAMES:
        benchmark = get_benchmark(benchmark_name)
        if fnmatch.fnmatchcase(name, benchmark.split_file("*")):
            return benchmark
    return get_benchmark("music-avqa")


def detect_benchmark(folder: str | Path) -> Benchmark:
    """The benchmark whose annotation files lie in ``folder``: synth.json's ``dataset`` when a
    synthetic benchmark says it, else the one whose split files are there (MUSIC-AVQA when none)."""
    folder = Path(folder)
    manifest = folder / "synth.json"
    if manifest.is_file():
        return get_benchmark(read_json(manifest, "synthetic benchmark manifest").get("dataset", "music-avqa"))
    for name in NAMES:
        benchmark = get_benchmark(name)
        if any(benchmark.split_path(folder, s).is_file() for s in ("train", "val", "test")):
            return benchmark
    return get_benchmark("music-avqa")
