"""Notebook 02 (data and questions): the per-template answer prior, the floor of every table."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import numpy as np

from sasr_lite import baselines
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import records
from sasr_lite.labs.predict import Predict

TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}

ANSWER_PRIOR_STUB = '''\
def answer_prior(train_templates: list[str], train_answers: list[str], test_templates: list[str]) -> list[str]:
    """The per-template answer prior: one predicted answer per test question.

    train_templates[i] is the template key of train question i (e.g. "a_count_is_there") and
    train_answers[i] its answer. A test question gets its template's most frequent train
    answer, a tie going to the alphabetically first answer; a template never seen in train
    gets the most frequent train answer overall (same tie rule).
    """
    raise NotImplementedError("exercise 02.answer_prior: write this function")
'''

ANSWER_PRIOR_SOLUTION = '''\
def best(answers):
    counts = Counter(answers)
    return min(counts, key=lambda a: (-counts[a], a))  # most frequent, ties alphabetical

by_template = {}
for key, answer in zip(train_templates, train_answers):
    by_template.setdefault(key, []).append(answer)
fallback = best(train_answers)
return [best(by_template[k]) if k in by_template else fallback for k in test_templates]
'''


def _prior(train_templates: list[str], train_answers: list[str], test_templates: list[str]) -> list[str]:
    """The package's answers, through AnswerPrior on records built from the keys."""
    train = records([TEMPLATE_BY_KEY[k] for k in train_templates], train_answers)
    test = records([TEMPLATE_BY_KEY[k] for k in test_templates], ["?"] * len(test_templates))
    predicted = baselines.AnswerPrior().fit(train).predict(test)
    return [predicted[r.question_id] for r in test]


def _first_seen(train_templates: list[str], train_answers: list[str], test_templates: list[str]) -> list[str]:
    """The prior with Counter.most_common's ties (the answer seen first), a common slip."""
    by_template: dict[str, list[str]] = {}
    for key, answer in zip(train_templates, train_answers):
        by_template.setdefault(key, []).append(answer)
    best = {key: Counter(a).most_common(1)[0][0] for key, a in by_template.items()}
    overall = Counter(train_answers).most_common(1)[0][0]
    return [best.get(key, overall) for key in test_templates]


def _prior_case(label: str, train_templates: list[str], train_answers: list[str], test_templates: list[str]) -> Case:
    args = (train_templates, train_answers, test_templates)
    unseen = next(k for k in TEMPLATE_BY_KEY if k not in train_templates)
    overall = _prior(train_templates, train_answers, [unseen])[0]  # the fallback answer
    return Case(
        label=label,
        args=args,
        expected=_prior(*args),
        mistakes={
            "ties: you keep the answer seen first (Counter.most_common); the prior breaks a tie "
            "alphabetically, so its answer does not depend on the order of the train file.": _first_seen(*args),
            "you gave every question the most frequent answer overall; the prior is per template (the "
            "overall answer is only the fallback for templates never seen in train).": [overall] * len(test_templates),
        },
    )


def _random_case(rng: np.random.Generator, n_train: int, n_test: int) -> Case:
    keys = [t.key for t in TEMPLATES[:8]]
    answers = ["yes", "no", "two", "three", "left", "right", "violin", "piano"]
    train_templates = list(rng.choice(keys[:6], n_train))  # the last two templates stay unseen
    train_answers = list(rng.choice(answers, n_train, p=[0.3, 0.25, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]))
    test_templates = list(rng.choice(keys, n_test))
    return _prior_case(f"{n_train} train and {n_test} test questions", [str(k) for k in train_templates],
                       [str(a) for a in train_answers], [str(k) for k in test_templates])


@functools.cache
def _prior_cases(seed: int = 201) -> list[Case]:
    rng = np.random.default_rng(seed)
    # a tie inside a template (first seen "yes", alphabetically "no"), a tie overall, an unseen template
    tie = _prior_case("a tie within a template and an unseen template",
                      ["a_count_is_there"] * 4 + ["v_loc_side_of"] * 3,
                      ["yes", "no", "no", "yes", "left", "right", "right"],
                      ["a_count_is_there", "v_loc_side_of", "av_ext_voiceover"])
    return [tie, _random_case(rng, 60, 20), _random_case(rng, 400, 100)]


def _compare_answers(got: Any, case: Case) -> str | None:
    """None when ``got`` lists the prior's answers, else the first disagreement."""
    expected = case.expected
    if not isinstance(got, (list, tuple)):
        return f"return a list of answers, one per test question; got {type(got).__name__}"
    got = list(got)
    if len(got) != len(expected):
        return f"you returned {len(got)} answers for {len(expected)} test questions"
    if got == expected:
        return None
    for hint, wrong in case.mistakes.items():
        if got == wrong:
            return hint
    i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    template, train_templates = case.args[2][i], case.args[0]
    seen = "seen" if template in train_templates else "never seen"
    return (f"test question {i} (template {template!r}, {seen} in train): you answered {got[i]!r}, "
            f"the prior {expected[i]!r}")


def _balanced_prior() -> float:
    """The prior's accuracy (%) on a template whose answers are left, right and middle equally often."""
    answers = ["left", "right", "middle"] * 20
    template = [TEMPLATE_BY_KEY["av_loc_where_ll"].key] * len(answers)
    predicted = _prior(template, answers, template)
    return 100.0 * float(np.mean([p == a for p, a in zip(predicted, answers)]))


EXERCISES = [
    Exercise(
        "02.answer_prior", "Write the per-template answer prior (most frequent train answer, ties alphabetical).", 15,
        Implement(ANSWER_PRIOR_STUB, (Target(baselines.AnswerPrior, "fit"), Target(baselines.AnswerPrior, "predict")),
                  _prior_cases, ("answers",), compare=_compare_answers,
                  agreement="answer for answer"),
        solution=ANSWER_PRIOR_SOLUTION,
    ),
    Exercise(
        "02.prior_balanced",
        "Predict the prior's accuracy (%) on a template answered left, right, middle equally often.",
        5,
        Predict(_balanced_prior,
                why="The prior gives every question of a template the same answer, so it is right exactly as "
                    "often as that answer occurs: 1 in 3 here, 1 in 2 on a balanced yes/no template. On real "
                    "MUSIC-AVQA the answers are far from balanced, and the prior scores much higher.",
                clue="The prior answers every question of the template with one and the same word; how often is "
                     "that word the right answer when the three answers are equally frequent?",
                wrong=lambda: {"that is a yes/no template's accuracy (two equally frequent answers); this one "
                               "has three.": 50.0,
                               "answer in percent, not as a fraction.": _balanced_prior() / 100},
                abs_tol=0.5, rel_tol=0.0),
        solution="return 100 / 3  # the prior always answers one of the three: right a third of the time",
    ),
]
