"""Question and answer vocabularies, built from the train split only and saved with checkpoints.

Question words: "<pad>" = 0, "<unk>" = 1, then the train words in sorted order (sorted, not
first-seen, so the same train file always gives the same ids). A word never seen in train maps
to "<unk>" (the official loader raises KeyError on it). Answers: the train answers in sorted
order, no "<unk>": an answer outside the vocabulary encodes to -1, which evaluation counts as
wrong and reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from sasr_lite.data.annotations import PAD, QARecord
from sasr_lite.data.datasets import benchmark_of
from sasr_lite.data.files import read_json, write_json_atomic

UNK = "<unk>"
PAD_INDEX = 0  # "<pad>" comes first in every question vocabulary (the encoder skips it)
UNKNOWN_INDEX = -1  # index of a word outside a vocabulary that has no "<unk>" (answers)


def question_lengths(question: torch.Tensor) -> torch.Tensor:
    """question [B, L] word indices -> [B] position of the last word that is not ``<pad>`` (>= 1)."""
    positions = torch.arange(1, question.shape[-1] + 1, device=question.device)
    return ((question != PAD_INDEX) * positions).amax(dim=-1).clamp_min(1)


class Vocabulary:
    """An ordered list of words; ``index(word)`` is its position, or ``unk``'s, or -1."""

    def __init__(self, tokens: Sequence[str], unk: str | None = None):
        self.tokens: list[str] = list(tokens)
        self._index = {word: i for i, word in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            duplicates = sorted({w for w in self.tokens if self.tokens.count(w) > 1})
            raise ValueError(f"vocabulary has duplicate words: {duplicates}")
        if unk is not None and unk not in self._index:
            raise ValueError(f"unknown-word token {unk!r} is not in the vocabulary")
        self.unk = unk

    def index(self, word: str) -> int:
        """Position of ``word``; the "<unk>" position when absent, or -1 without "<unk>"."""
        found = self._index.get(word)
        if found is not None:
            return found
        return self._index[self.unk] if self.unk is not None else UNKNOWN_INDEX

    def encode(self, words: Iterable[str]) -> list[int]:
        return [self.index(w) for w in words]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and (self.tokens, self.unk) == (other.tokens, other.unk)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, unk={self.unk!r})"

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "unk": self.unk}

    @classmethod
    def from_dict(cls, values: dict, where: str = "vocabulary") -> "Vocabulary":
        if not isinstance(values, dict) or not isinstance(values.get("tokens"), list):
            raise ValueError(f"{where}: expected {{'tokens': [...], 'unk': ...}}")
        return cls(values["tokens"], values.get("unk"))

    def save(self, path: str | Path) -> Path:
        """Write as JSON (atomically)."""
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        values = read_json(path, "vocabulary file")
        return cls.from_dict(values, where=str(path))


def build_vocabularies(train_records: Sequence[QARecord]) -> tuple[Vocabulary, Vocabulary]:
    """(question vocabulary, answer vocabulary) from the train split's records.

    The question vocabulary also holds the words of multiple-choice candidates (the question
    encoder reads them too); the answer vocabulary is the benchmark's (`Benchmark.answer_words`):
    MUSIC-AVQA's train answers, or AVQA-Yang's four candidate positions."""
    if not train_records:
        raise ValueError("cannot build vocabularies from an empty list of records")
    words = {w for r in train_records for w in r.tokens}
    words |= {w for r in train_records for choice in getattr(r, "choice_tokens", ()) for w in choice}
    question_vocab = Vocabulary([PAD, UNK, *sorted(words - {PAD, UNK})], unk=UNK)
    answer_vocab = Vocabulary(benchmark_of(train_records).answer_words(train_records))
    return question_vocab, answer_vocab
