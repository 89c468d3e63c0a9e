"""AVQA-Yang (Yang et al., ACM MM 2022): multiple-choice records, question types, split files.

The paper's second benchmark (its Table 4: SaSR-Net 89.9% on average). A record of the public
`train_qa.json` / `val_qa.json` looks like (docs/design.md section 2.6)::

    {"id": 183, "video_name": "--0PQM4-hqg_000030", "video_id": 341,
     "question_text": "What happened in the video?",
     "multi_choice": ["motorboat", "Yacht consignment", "Sailboat set sail", "Consignment car"],
     "answer": 1, "question_type": "Happening", "question_relation": "Both"}

``answer`` is the position of the right candidate; the kit reads it as a letter, "B" here (the
answer vocabulary is the four positions). Features are stored per ``video_name`` (the clip's file
name: a VGGSound YouTube id and start second), so that is the kit's ``video_id``; the
file's numeric ``video_id`` is kept as ``video_number``. Candidates are encoded by the question
encoder (`sasr_lite.model.answer.MultipleChoiceHead`), so they are tokenised here by the same
rule as questions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from sasr_lite.data.annotations import PAD, fill_question, question_tokens, read_records
from sasr_lite.data.datasets import AVG, OVERALL, Benchmark

NAME = "avqa-yang"
GROUP = "AVQA-Yang"  # the one column group of its table
# The eight question types, in the column order of AVQA-Yang's results table.
QUESTION_TYPES: tuple[str, ...] = ("Which", "Come From", "Happening", "Where", "Why", "Before Next", "When", "Used For")
NUM_CHOICES = 4
QUESTION_LEN = 20  # words per question after padding (AVQA's questions run longer than MUSIC-AVQA's 14)
CHOICE_LEN = 8  # words per candidate after padding
CHOICE_LETTERS = ("A", "B", "C", "D")  # the answer "vocabulary": positions, not words
SPLITS = ("train", "val", "test")  # the public release has train and val; the synthetic one adds test

_REQUIRED_KEYS = ("id", "video_name", "question_text", "multi_choice", "answer", "question_type")

# Sound sources for the weak L_source labels (AVQA-Yang ships none and the paper does not say what
# it used). 22 classes, as many as MUSIC-AVQA's instruments, so the C = 22 tokens are unchanged; a
# class is present in a video when one of its names is a word of a question or a right answer.
SOURCE_CLASSES: dict[str, tuple[str, ...]] = {
    "dog": ("dog", "dogs", "puppy"), "cat": ("cat", "cats", "kitten"), "bird": ("bird", "birds", "chicken", "rooster"),
    "horse": ("horse", "horses"), "cow": ("cow", "cows", "cattle"), "insect": ("insect", "bee", "cricket"),
    "man": ("man", "men", "boy"), "woman": ("woman", "women", "girl"), "baby": ("baby", "child", "kid"),
    "car": ("car", "cars", "truck"), "train": ("train",), "aircraft": ("airplane", "plane", "helicopter"),
    "engine": ("engine", "motorcycle", "motorboat"), "water": ("water", "rain", "waves"),
    "guitar": ("guitar", "ukulele", "banjo"), "piano": ("piano", "keyboard", "accordion"),
    "violin": ("violin", "cello", "erhu"), "flute": ("flute", "clarinet", "bagpipe"),
    "saxophone": ("saxophone", "trumpet", "tuba"), "drum": ("drum", "drums", "congas", "xylophone"),
    "bell": ("bell", "bells", "clock"), "siren": ("siren", "alarm", "horn"),
}
_SOURCE_OF_WORD = {word: k for k, words in enumerate(SOURCE_CLASSES.values()) for word in words}


@dataclass(frozen=True)
class MCRecord:
    """One multiple-choice question about one clip, parsed and tokenised."""

    dataset: ClassVar[str] = NAME
    video_id: str  # the file's video_name: features are stored under it
    question_id: int  # the file's id
    subtype: str  # question_type, one of QUESTION_TYPES
    subtype_index: int  # its position in QUESTION_TYPES
    relation: str  # question_relation as the file gives it ("" when absent)
    question: str  # question_text without its final question mark
    tokens: tuple[str, ...]  # exactly QUESTION_LEN words, padded with PAD
    choices: tuple[str | None, ...]  # NUM_CHOICES candidates; None where the file has null
    choice_tokens: tuple[tuple[str, ...], ...]  # NUM_CHOICES x CHOICE_LEN words (all PAD for None)
    answer_index: int  # position of the right candidate
    video_number: int | None = None  # the file's numeric video_id

    group: ClassVar[str] = GROUP

    @property
    def answer(self) -> str:
        """The right candidate's letter, "A"-"D": the answer vocabulary is the positions, so a
        prediction is a letter and the answer prior is a position prior."""
        return CHOICE_LETTERS[self.answer_index]

    @property
    def answer_text(self) -> str:
        return self.choices[self.answer_index]

    @property
    def template_key(self) -> str:
        """Finer than the type, for per-template tables: type and relation."""
        return f"{self.subtype}/{self.relation}" if self.relation else self.subtype

    @property
    def template_index(self) -> int:
        return -1  # AVQA-Yang has no templates


def choice_tokens(text: str | None, max_len: int = CHOICE_LEN) -> tuple[str, ...]:
    """A candidate's words by the question rule (whitespace split, case kept, padded); all PAD for None."""
    if text is None:
        return (PAD,) * max_len
    return tuple(question_tokens(text, [], max_len))


def parse_record(item: object, where: str = "record") -> MCRecord:
    """One raw AVQA-Yang record -> MCRecord; every error starts with ``where`` and the record's id."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(item).__name__}")
    missing = [k for k in _REQUIRED_KEYS if k not in item]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}")
    try:
        question_id = item["id"]
        # ASCII digits only ("²".isdigit() is true, int("²") fails), and small enough for an int64 tensor
        if (isinstance(question_id, bool) or not isinstance(question_id, (int, str))
                or not (str(question_id).isascii() and str(question_id).isdigit()) or int(question_id) >= 2**63):
            raise ValueError(f"'id' must be a non-negative integer below 2**63, got {question_id!r}")
        video_name = item["video_name"]
        if not isinstance(video_name, str) or not video_name.strip():
            raise ValueError(f"'video_name' must be a non-empty string, got {video_name!r}")
        text = item["question_text"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"'question_text' must be a non-empty string, got {text!r}")
        qtype = item["question_type"]
        if qtype not in QUESTION_TYPES:
            raise ValueError(f"unknown question_type {qtype!r}; AVQA-Yang's types are {', '.join(QUESTION_TYPES)}")
        choices = item["multi_choice"]
        if not isinstance(choices, list) or len(choices) != NUM_CHOICES:
            raise ValueError(f"'multi_choice' must be a list of {NUM_CHOICES} candidates, got {choices!r}")
        if not all(c is None or (isinstance(c, str) and c.strip()) for c in choices):
            raise ValueError(f"every candidate must be a non-empty string or null, got {choices!r}")
        given = [c for c in choices if c is not None]
        if len(set(given)) != len(given):
            twice = sorted(c for c, n in Counter(given).items() if n > 1)
            raise ValueError(f"candidates repeat {twice}: the answer would be ambiguous")
        answer = item["answer"]
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < NUM_CHOICES:
            raise ValueError(f"'answer' must be a candidate position 0-{NUM_CHOICES - 1}, got {answer!r}")
        if choices[answer] is None:
            raise ValueError(f"'answer' {answer} points at a null candidate")
        relation = item.get("question_relation", "")
        if relation is None:
            relation = ""
        if not isinstance(relation, str):
            raise ValueError(f"'question_relation' must be a string, got {relation!r}")
        number = item.get("video_id")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int) or abs(number) >= 2**63):
            raise ValueError(f"'video_id' must be an integer below 2**63, got {number!r}")
    except ValueError as err:
        raise ValueError(f"{where} (id {item.get('id')!r}): {err.args[0]}") from None
    return MCRecord(
        video_id=video_name,
        question_id=int(question_id),
        subtype=qtype,
        subtype_index=QUESTION_TYPES.index(qtype),
        relation=relation,
        question=fill_question(text, []),
        tokens=tuple(question_tokens(text, [], QUESTION_LEN)),
        choices=tuple(choices),
        choice_tokens=tuple(choice_tokens(c) for c in choices),
        answer_index=answer,
        video_number=number,
    )


def load_records(path: str | Path) -> list[MCRecord]:
    """Every record of an AVQA-Yang file (`{split}_qa.json`), in file order; errors name the file,
    the record's position and its id. Ids must be unique (predictions are joined by id)."""
    return read_records(Path(path), "AVQA-Yang annotation file", parse_record, "id")


def split_file(split: str) -> str:
    """The annotation file name of a split: `train_qa.json`, `val_qa.json`, `test_qa.json`."""
    return f"{split}_qa.json"


def named_sources(record: MCRecord) -> set[int]:
    """Source classes named by a record's question or right answer (module doc, SOURCE_CLASSES)."""
    words = {w.lower().strip(".,!?'\"") for w in (*record.tokens, *record.answer_text.split()) if w != PAD}
    return {_SOURCE_OF_WORD[w] for w in words if w in _SOURCE_OF_WORD}


def weak_source_labels(records) -> dict[str, np.ndarray]:
    """{video_id: float32 [22] multi-hot} of the source classes each clip's records name."""
    labels: dict[str, np.ndarray] = {}
    for record in records:
        vector = labels.setdefault(record.video_id, np.zeros(len(SOURCE_CLASSES), dtype=np.float32))
        vector[list(named_sources(record))] = 1.0
    return labels


def position_balance(records) -> dict[str, int]:
    """How often the right answer sits at each position (a biased file lets a model guess by position)."""
    counts = Counter(r.answer_index for r in records)
    return {letter: counts[k] for k, letter in enumerate(CHOICE_LETTERS)}


BENCHMARK = Benchmark(
    name=NAME,
    title="AVQA-Yang",
    answer_format="multiple_choice",
    question_len=QUESTION_LEN,
    table_columns=(*((GROUP, t) for t in QUESTION_TYPES), (OVERALL, AVG)),
    source_classes=tuple(SOURCE_CLASSES),
    split_file=split_file,
    load_records=load_records,
    weak_source_labels=weak_source_labels,
    answer_words=lambda train_records: list(CHOICE_LETTERS),  # positions: every file has all four
)
