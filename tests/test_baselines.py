"""Baselines: the per-template answer prior (hand counts) and the question-only model."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sasr_lite.baselines import AnswerPrior, QuestionOnly
from sasr_lite.data.annotations import parse_record
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.evaluate import accuracy_table

_TYPES = {"Is there a <Object> sound?": ("Audio", "Counting"),
          "Where is the performance?": ("Visual", "Location"),
          "Is there a voiceover?": ("Audio-Visual", "Existential")}


def _record(qid: int, content: str, values: list[str], answer: str):
    return parse_record({"video_id": f"{qid:08d}", "question_id": qid, "type": json.dumps(_TYPES[content]),
                         "question_content": content, "templ_values": json.dumps(values), "anser": answer})


def test_answer_prior_is_each_templates_most_frequent_train_answer():
    train = [
        _record(1, "Is there a <Object> sound?", ["violin"], "yes"),
        _record(2, "Is there a <Object> sound?", ["piano"], "yes"),
        _record(3, "Is there a <Object> sound?", ["tuba"], "no"),
        _record(4, "Where is the performance?", [], "outdoor"),
        _record(5, "Where is the performance?", [], "indoor"),  # a tie: the alphabetically first wins
    ]
    prior = AnswerPrior().fit(train)
    assert prior.by_template == {"a_count_is_there": "yes", "v_loc_where_perf": "indoor"}
    test = [
        _record(10, "Is there a <Object> sound?", ["flute"], "no"),
        _record(11, "Where is the performance?", [], "indoor"),
        _record(12, "Is there a voiceover?", [], "yes"),  # template unseen in train: overall most frequent
    ]
    assert prior.predict(test) == {10: "yes", 11: "indoor", 12: "yes"}
    with pytest.raises(RuntimeError, match="before fit"):
        AnswerPrior().predict(test)


def test_question_only_model_reads_the_filled_in_words():
    """Answers that depend on which instrument is named: the prior cannot know, the question can."""
    strings = {"violin", "cello", "erhu", "guzheng", "pipa", "ukulele", "banjo", "acoustic_guitar", "electric_bass"}
    records = [_record(100 * k + i, "Is there a <Object> sound?", [name], "yes" if name in strings else "no")
               for k in range(4) for i, name in enumerate(INSTRUMENTS)]
    prior = accuracy_table(records, AnswerPrior().fit(records).predict(records))[("Overall", "Avg")].iloc[0]
    assert prior == pytest.approx(100 * Counter(r.answer for r in records).most_common(1)[0][1] / len(records))
    model = QuestionOnly(epochs=40, batch_size=16, lr=1e-2, d_model=16, seed=0, device="cpu").fit(records)
    assert model.losses[-1] < 0.5 * model.losses[0]
    ours = accuracy_table(records, model.predict(records))[("Overall", "Avg")].iloc[0]
    assert ours >= 95 > prior + 30
    again = QuestionOnly(epochs=40, batch_size=16, lr=1e-2, d_model=16, seed=0, device="cpu").fit(records)
    assert again.losses == model.losses, "a seed fixes the whole run"
