"""Baselines that never look or listen: what the question alone gives away.

- `AnswerPrior`: the most frequent train answer of each question template.
- `QuestionOnly`: SaSR-Net's question encoder (embedding + LSTM) and a linear classifier,
  trained briefly on the same train split; it can use the filled-in words (which instrument,
  which side), which the prior cannot. On a multiple-choice benchmark (AVQA-Yang) it reads the
  question and the candidates and scores each candidate: the question-and-candidates-only
  baseline, and `AnswerPrior` becomes the per-type prior over answer positions.
A model that sees and hears must beat both by a margin before its accuracy means anything.
Both expose ``fit(train_records)`` and ``predict(records) -> {question_id: answer}``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from sasr_lite.data.annotations import QARecord
from sasr_lite.data.datasets import benchmark_of
from sasr_lite.data.vocab import Vocabulary, build_vocabularies
from sasr_lite.device import cpu_threads, pick_device
from sasr_lite.model.answer import candidate_logits, encode_candidates
from sasr_lite.model.encoders import QuestionEncoder


class AnswerPrior:
    """Predicts each template's most frequent train answer (ties: the alphabetically first)."""

    def __init__(self) -> None:
        self.by_template: dict[str, str] = {}
        self.fallback: str | None = None

    @staticmethod
    def _most_common(answers: Sequence[str]) -> str:
        counts = Counter(answers)
        return min(counts, key=lambda a: (-counts[a], a))

    def fit(self, train_records: Sequence[QARecord]) -> "AnswerPrior":
        if not train_records:
            raise ValueError("AnswerPrior.fit needs at least one train record")
        answers: dict[str, list[str]] = {}
        for r in train_records:
            answers.setdefault(r.template_key, []).append(r.answer)
        self.by_template = {key: self._most_common(a) for key, a in answers.items()}
        # a template unseen in train falls back to the most frequent answer overall
        self.fallback = self._most_common([r.answer for r in train_records])
        return self

    def predict(self, records: Sequence[QARecord]) -> dict[int, str]:
        if self.fallback is None:
            raise RuntimeError("AnswerPrior.predict called before fit")
        return {r.question_id: self.by_template.get(r.template_key, self.fallback) for r in records}


class QuestionOnlyNet(nn.Module):
    """question [B, L] -> answer logits [B, A] through the question encoder and one FC; with
    ``multiple_choice``, the question and its candidates -> a score per candidate, read as
    `MultipleChoiceHead` reads them (same encoder for both, logit_k = FC(tanh q) . tanh(c_k))."""

    def __init__(self, vocab_size: int, num_answers: int, word_dim: int = 128, d_model: int = 128,
                 multiple_choice: bool = False) -> None:
        super().__init__()
        self.encoder = QuestionEncoder(vocab_size, word_dim, d_model)
        self.multiple_choice = multiple_choice
        self.classifier = nn.Linear(d_model, d_model if multiple_choice else num_answers)

    def forward(self, question: torch.Tensor, choices: torch.Tensor | None = None) -> torch.Tensor:
        """question [B, L] long (choices [B, K, L_c] long when multiple choice) -> logits [B, A] or [B, K]."""
        h = self.classifier(torch.tanh(self.encoder(question)))  # [B, A] or [B, D]
        if not self.multiple_choice:
            return h
        return candidate_logits(h, *encode_candidates(self.encoder, choices))


class QuestionOnly:
    """Train `QuestionOnlyNet` for a few epochs with Adam; vocabularies come from the train split
    unless given (pass SaSR-Net's so both models read the same words)."""

    def __init__(
        self,
        question_vocab: Vocabulary | None = None,
        answer_vocab: Vocabulary | None = None,
        *,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        d_model: int = 128,
        seed: int = 0,
        device: str | torch.device | None = None,
        num_threads: int | None = 1,
    ) -> None:
        self.question_vocab, self.answer_vocab = question_vocab, answer_vocab
        self.epochs, self.batch_size, self.lr, self.d_model, self.seed = epochs, batch_size, lr, d_model, seed
        self.device = pick_device(str(device) if device is not None else None)
        self.num_threads = num_threads  # CPU threads while fitting / predicting (one suits this small net)
        self.net: QuestionOnlyNet | None = None
        self.multiple_choice = False  # set by fit from the records' benchmark
        self.losses: list[float] = []  # mean training loss per epoch

    def _inputs(self, records: Sequence[QARecord]) -> tuple[torch.Tensor, ...]:
        """(questions [N, L],) or, for multiple choice, (questions, choices [N, K, L_c])."""
        questions = torch.tensor([self.question_vocab.encode(r.tokens) for r in records], dtype=torch.long)
        if not self.multiple_choice:
            return (questions,)
        choices = [[self.question_vocab.encode(c) for c in r.choice_tokens] for r in records]
        return questions, torch.tensor(choices, dtype=torch.long)

    def fit(self, train_records: Sequence[QARecord]) -> "QuestionOnly":
        with cpu_threads(self.num_threads):
            return self._fit(train_records)

    def _fit(self, train_records: Sequence[QARecord]) -> "QuestionOnly":
        if self.question_vocab is None or self.answer_vocab is None:
            self.question_vocab, self.answer_vocab = build_vocabularies(train_records)
        self.multiple_choice = benchmark_of(train_records).answer_format == "multiple_choice"
        generator = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):  # a seeded initialisation that leaves the global RNG alone
            torch.manual_seed(self.seed)
            self.net = QuestionOnlyNet(len(self.question_vocab), len(self.answer_vocab), self.d_model, self.d_model,
                                       self.multiple_choice)
        self.net.to(self.device).train()
        inputs = [x.to(self.device) for x in self._inputs(train_records)]
        answers = torch.tensor([self.answer_vocab.index(r.answer) for r in train_records]).to(self.device)
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        loss_fn = nn.CrossEntropyLoss(ignore_index=-1)  # answers outside the vocabulary carry no signal
        for _ in range(self.epochs):
            order = torch.randperm(len(inputs[0]), generator=generator).to(self.device)
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                loss = loss_fn(self.net(*(x[idx] for x in inputs)), answers[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            self.losses.append(total / len(order))
        return self

    @torch.no_grad()
    def predict(self, records: Sequence[QARecord]) -> dict[int, str]:
        if self.net is None:
            raise RuntimeError("QuestionOnly.predict called before fit")
        self.net.eval()
        inputs = [x.to(self.device) for x in self._inputs(records)]
        with cpu_threads(self.num_threads):
            best = np.concatenate([self.net(*(x[s : s + 1024] for x in inputs)).argmax(-1).cpu().numpy()
                                   for s in range(0, len(inputs[0]), 1024)])
        return {r.question_id: self.answer_vocab.tokens[i] for r, i in zip(records, best)}
