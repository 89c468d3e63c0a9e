"""One benchmark's annotations, feature stores, vocabularies and weak source labels, opened together.

Layout: the benchmark's annotation file per split (MUSIC-AVQA ``DATA/avqa-{train,val,test}.json``,
AVQA-Yang ``DATA/{train,val,test}_qa.json``; `sasr_lite.data.datasets` tells them apart) and a
feature store per split at ``STORE/{split}``
(default ``STORE = DATA/store``, the synthetic benchmark's layout; for MUSIC-AVQA, the folder
`sasr-lite build-store` wrote the splits into). Training, evaluation, the demo and the notebooks
all open data through `load_data`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sasr_lite.config import SaSRConfig
from sasr_lite.data.annotations import QARecord, describe_annotations
from sasr_lite.data.datasets import NAMES, Benchmark, detect_benchmark, get_benchmark
from sasr_lite.data.dataset import AVQADataset
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.vocab import Vocabulary, build_vocabularies


@dataclass
class TrainData:
    """Annotations, feature stores and train-split vocabularies/labels of one benchmark."""

    root: Path
    records: dict[str, list[QARecord]]  # split -> records
    stores: dict[str, FeatureStore]  # split -> store
    question_vocab: Vocabulary
    answer_vocab: Vocabulary
    source_labels: dict[str, np.ndarray]  # weak labels from the train split only
    annotations: dict[str, dict]  # split -> describe_annotations(...) (release, sha256, counts)
    release: str  # "json_update", "original", "synthetic" or "custom"
    benchmark: Benchmark = field(default_factory=lambda: get_benchmark("music-avqa"))

    def dataset(self, split: str, seed: int = 0) -> AVQADataset:
        if split not in self.records:
            raise KeyError(f"split {split!r} was not loaded from {self.root} (loaded: {sorted(self.records)})")
        labels = self.source_labels if split == "train" else None
        return AVQADataset(self.records[split], self.stores[split], self.question_vocab, self.answer_vocab,
                           source_labels=labels, seed=seed)

    @property
    def vocabularies(self) -> dict[str, list[str]]:
        return {"question": self.question_vocab.tokens, "answer": self.answer_vocab.tokens}



# the SaSRConfig fields the data decide (`sized_for`); `sasr-lite train` refuses a flag that disagrees
DATA_SIZED = ("question_vocab_size", "num_answers", "answer_head", "question_len")


def sized_for(model_config: SaSRConfig, data: TrainData) -> SaSRConfig:
    """``model_config`` with what the data decide (DATA_SIZED): the vocabulary and answer sizes of
    the train split, the question length and the answer head (AVQA-Yang's is multiple choice)."""
    return model_config.replace(
        question_vocab_size=len(data.question_vocab), num_answers=len(data.answer_vocab),
        answer_head=data.benchmark.answer_format,
        question_len=data.benchmark.question_len)

def _one_benchmark(root: Path) -> None:
    """Refuse a folder holding the annotation files of more than one benchmark (which one to train
    on would be a silent guess); a synthetic benchmark's synth.json says which it is."""
    if (root / "synth.json").is_file():
        return
    found = {}
    for name in NAMES:
        benchmark = get_benchmark(name)
        files = [p.name for s in ("train", "val", "test") if (p := benchmark.split_path(root, s)).is_file()]
        if files:
            found[benchmark.title] = files
    if len(found) > 1:
        raise ValueError(f"{root} holds the annotation files of {len(found)} benchmarks ("
                         + "; ".join(f"{title}: {', '.join(files)}" for title, files in found.items())
                         + "); put each benchmark in its own folder")


def load_data(
    annotation_dir: str | Path,
    store_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "val"),
    vocabularies: dict[str, list[str]] | None = None,
    required: tuple[str, ...] = (),
    dataset: str | None = None,
    store_splits: dict[str, str] | None = None,
) -> TrainData:
    """Read each split's annotation file in ``annotation_dir`` and open ``store_dir/{split}``.

    ``dataset`` ("music-avqa", "avqa-yang") names the benchmark; None detects it from the files
    (`datasets.detect_benchmark`). ``store_splits`` maps a split to the store folder it reads
    (default: its own name); MUSIC-AVQA-R's three test files all read ``STORE/test``.

    Vocabularies and weak source labels come from the train split (or ``vocabularies`` from a
    checkpoint, when train is not loaded). A missing optional split ("val", "test") is skipped
    with a warning unless it is in ``required``; a missing train split is an error unless
    vocabularies are given.
    """
    root = Path(annotation_dir)
    store_root = Path(store_dir) if store_dir is not None else root / "store"
    if not root.is_dir():
        raise FileNotFoundError(f"annotation folder not found: {root}")
    if dataset is None:
        _one_benchmark(root)
    benchmark = detect_benchmark(root) if dataset is None else get_benchmark(dataset)
    records, stores, described = {}, {}, {}
    for split in splits:
        path = benchmark.split_path(root, split)
        if not path.is_file():
            if split == "train" and vocabularies is None:
                raise FileNotFoundError(f"training needs {path}")
            if split in required:
                found = sorted(p.name for p in root.glob(benchmark.split_file("*"))) or "none"
                raise FileNotFoundError(f"no {path.name} in {root} for the {split!r} split (annotation files there: {found})")
            warnings.warn(f"{path} not found; the {split} split is skipped")
            continue
        records[split] = benchmark.load_records(path)
        described[split] = describe_annotations(path, records[split])
        stores[split] = FeatureStore.open(store_root / (store_splits or {}).get(split, split))
    if vocabularies is not None:
        question_vocab = Vocabulary(vocabularies["question"], unk="<unk>")
        answer_vocab = Vocabulary(vocabularies["answer"])
    else:
        question_vocab, answer_vocab = build_vocabularies(records["train"])
    labels = benchmark.weak_source_labels(records["train"]) if "train" in records else {}
    release = "synthetic" if (root / "synth.json").is_file() else next(
        (d["release"] for d in described.values()), "custom")
    return TrainData(root, records, stores, question_vocab, answer_vocab, labels, described, release, benchmark)
