"""Notebook 09 (evaluation): a bootstrap interval, Table 1's group average, the question-only floor."""

from __future__ import annotations

import functools

import numpy as np

from sasr_lite import evaluate
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.experiment import COUNT, POSITIVE, Experiment
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import graded_questions
from sasr_lite.labs.predict import Predict
from sasr_lite.labs.resampling import compare_pointing_at_draws, percentile_interval

OVERALL = (evaluate.OVERALL, evaluate.AVG)

INTERVAL_STUB = '''\
def bootstrap_interval(correct: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95):
    """One run's overall accuracy with a percentile-bootstrap interval, all in percent.

    correct [N] bool (question n answered right) -> (accuracy, low, high). Draw the resamples
    with sasr_lite.evaluate.bootstrap_indices(len(correct), n_boot, seed) ([n_boot, N] positions
    drawn with replacement, so your draws are the package's), take each resample's accuracy,
    and keep the central `level` share: the 100 (1 - level) / 2 and 100 (1 + level) / 2 percentiles.
    """
    raise NotImplementedError("exercise 09.bootstrap_interval: write this function")
'''

INTERVAL_SOLUTION = '''\
resampled = 100 * correct[bootstrap_indices(len(correct), n_boot, seed)].mean(axis=1)
tail = 50 * (1 - level)
low, high = np.percentile(resampled, [tail, 100 - tail])
return 100 * correct.mean(), low, high
'''


def _interval_case(rng: np.random.Generator, n: int, share: float, n_boot: int, seed: int, level: float) -> Case:
    correct = rng.random(n) < share
    recs, predictions = graded_questions(correct)
    table = evaluate.bootstrap_table(recs, predictions, n_boot=n_boot, seed=seed, level=level)
    expected = tuple(float(table.loc[("model", stat), OVERALL]) for stat in ("accuracy", "low", "high"))
    resampled = 100.0 * correct[evaluate.bootstrap_indices(n, n_boot, seed)].mean(axis=1)
    accuracy = 100.0 * correct.mean()
    return Case(
        label=f"N={n} questions, n_boot={n_boot}, seed={seed}, level={level:g}",
        args=(correct, n_boot, seed, level),
        expected=expected,
        mistakes={
            "your numbers are fractions; report percent (x 100).": tuple(v / 100 for v in expected),
            "your interval is too narrow: each tail holds (1 - level) / 2, so the percentiles are "
            "100 (1 - level) / 2 and 100 (1 + level) / 2.":
                (accuracy, *percentile_interval(resampled, level, tail=100 * (1 - level))),
        },
    )


@functools.cache
def _interval_cases(seed: int = 901) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [_interval_case(rng, 50, 0.7, 200, 0, 0.95), _interval_case(rng, 300, 0.55, 200, 3, 0.9),
            _interval_case(rng, 196, 0.4, 100, 1, 0.95)]


def _group_average() -> float:
    """Table 1's Audio Avg for 1,000 Counting questions at 80% and 400 Comparative ones at 55%."""
    counting = next(t for t in TEMPLATES if (t.group, t.subtype) == ("Audio", "Counting"))
    comparative = next(t for t in TEMPLATES if (t.group, t.subtype) == ("Audio", "Comparative"))
    right = [i < 800 for i in range(1000)] + [i < 220 for i in range(400)]
    recs, predictions = graded_questions(right, [counting] * 1000 + [comparative] * 400)
    return float(evaluate.accuracy_table(recs, predictions)[("Audio", evaluate.AVG)].iloc[0])


QUESTION_ONLY_SOLUTION = '''\
longer = QuestionOnly(data.question_vocab, data.answer_vocab, epochs=2 * SIZES.baseline_epochs,
                      device=DEVICE).fit(data.records["train"])
before = overall["question only"]
after = accuracy_table(test, longer.predict(test), name="question only, longer")[("Overall", "Avg")].iloc[0]
return dict(setting="epochs", value=2 * SIZES.baseline_epochs, before=before, after=after, explanation=(
    f"Twice the epochs moved the question-only baseline from {before:.1f}% to {after:.1f}%. It reads the "
    "filled-in words (which instrument, which side), which the answer prior cannot, so it sits at or above "
    "the prior; longer training fits each question's answer statistics more tightly, which can help or "
    "overfit. The gap between it and SaSR-Net is what the video adds."))
'''

EXERCISES = [
    Exercise(
        "09.bootstrap_interval", "Write one run's overall accuracy with its percentile-bootstrap interval.", 15,
        Implement(INTERVAL_STUB, (Target(evaluate, "bootstrap_table"), Target(evaluate, "paired_bootstrap"),
                                  Target(evaluate, "paired_bootstrap_runs")), _interval_cases,
                  ("accuracy", "low", "high"), atol=1e-6, rtol=0.0,
                  compare=compare_pointing_at_draws(("accuracy", "low", "high"), 1e-6)),
        solution=INTERVAL_SOLUTION,
    ),
    Exercise(
        "09.group_average", "Predict Table 1's Audio Avg: 1,000 Counting questions at 80%, 400 Comparative at 55%.", 5,
        Predict(_group_average,
                why="A group's Avg pools its questions, as AVST's test code computes it: (800 + 220) / 1,400 = "
                    "72.86%, not the mean of the two subtype accuracies (67.5%); the larger subtype weighs more.",
                clue="Table 1's group Avg is over all of the group's questions: count the right answers in both "
                     "subtypes and divide by all questions.",
                wrong=lambda: {"67.5 is the mean of the two subtype accuracies; Table 1's Avg pools the questions, so "
                               "the 1,000 Counting ones weigh more.": 67.5,
                               "answer in percent, not as a fraction.": _group_average() / 100},
                abs_tol=0.05, rel_tol=0.0),
        solution="return 100 * (800 + 220) / 1400  # Table 1's Avg pools the questions",
    ),
    Exercise(
        "09.question_only", "Experiment: change one setting of the question-only baseline and explain the change.", 30,
        Experiment({"epochs": COUNT, "d_model": COUNT, "lr": POSITIVE},
                   measure="the baseline's test accuracy (%)",
                   mention="that the baseline reads the filled-in words (which instrument, which side), which the "
                           "answer prior cannot, so it sits at or above the prior; that more training lets it "
                           "memorise the train answer statistics of each question more tightly, which can help or "
                           "overfit; and what the gap to SaSR-Net then says about how much the model really uses "
                           "the video.",
                   unchecked="the question-only baseline is fitted in the notebook's memory and keeps no "
                             "checkpoint, config or recorded result, so there is no run folder to check the "
                             "numbers against."),
        solution=QUESTION_ONLY_SOLUTION,
    ),
]
