"""Notebook 10 (ablations): the paired bootstrap of a difference, the SA switch, one ablation."""

from __future__ import annotations

import functools

import numpy as np

from sasr_lite import evaluate
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.experiment import BOOL, Experiment
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import graded_questions, tiny_forward
from sasr_lite.labs.predict import Predict
from sasr_lite.labs.resampling import compare_pointing_at_draws, percentile_interval

PAIRED_STUB = '''\
def paired_bootstrap(correct_a: np.ndarray, correct_b: np.ndarray, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95):
    """The overall accuracy difference A - B of two runs on the same N questions, in percentage
    points, with a paired percentile-bootstrap interval.

    correct_a, correct_b [N] bool -> (delta, low, high). Draw the resamples with
    sasr_lite.evaluate.bootstrap_indices(N, n_boot, seed) and apply each one to *both* runs
    (paired: the questions' shared difficulty cancels); keep the central `level` share of the
    resampled differences.
    """
    raise NotImplementedError("exercise 10.paired_bootstrap: write this function")
'''

PAIRED_SOLUTION = '''\
draws = bootstrap_indices(len(correct_a), n_boot, seed)  # the same questions for both runs
differences = 100 * (correct_a[draws].mean(axis=1) - correct_b[draws].mean(axis=1))
tail = 50 * (1 - level)
low, high = np.percentile(differences, [tail, 100 - tail])
return 100 * (correct_a.mean() - correct_b.mean()), low, high
'''


def _paired_case(rng: np.random.Generator, n: int, n_boot: int, seed: int, level: float) -> Case:
    # two runs that share most of their right answers, as two variants of one model do
    base = rng.random(n) < 0.6
    correct_a, correct_b = base ^ (rng.random(n) < 0.1), base ^ (rng.random(n) < 0.15)
    recs, predictions_a = graded_questions(correct_a)
    _, predictions_b = graded_questions(correct_b)
    table = evaluate.paired_bootstrap(recs, predictions_a, predictions_b, n_boot=n_boot, seed=seed, level=level)
    expected = tuple(float(table.loc[(evaluate.OVERALL, evaluate.AVG), c]) for c in ("delta", "low", "high"))
    draws = evaluate.bootstrap_indices(n, n_boot, seed)
    acc_a, acc_b = (100.0 * c[draws].mean(axis=1) for c in (correct_a, correct_b))
    (low_a, high_a), (low_b, high_b) = percentile_interval(acc_a, level), percentile_interval(acc_b, level)
    other_draws = 100.0 * correct_b[evaluate.bootstrap_indices(n, n_boot, seed + 1)].mean(axis=1)
    delta = expected[0]
    return Case(
        label=f"N={n} questions, n_boot={n_boot}, seed={seed}, level={level:g}",
        args=(correct_a, correct_b, n_boot, seed, level),
        expected=expected,
        mistakes={
            "your difference has the wrong sign: report A - B.": (-delta, -expected[2], -expected[1]),
            "your numbers are fractions; report percentage points (x 100).": tuple(v / 100 for v in expected),
            "you combined the two runs' own intervals; a paired interval takes the percentiles of the "
            "per-resample differences A - B.": (delta, low_a - high_b, high_a - low_b),
            "you subtracted the two runs' own interval ends; a paired interval takes the percentiles of "
            "the per-resample differences A - B.": (delta, low_a - low_b, high_a - high_b),
            "you drew B's resamples separately; paired means the same drawn questions for both runs.":
                (delta, *percentile_interval(acc_a - other_draws, level)),
        },
    )


@functools.cache
def _paired_cases(seed: int = 1001) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [_paired_case(rng, 60, 200, 0, 0.95), _paired_case(rng, 400, 200, 2, 0.9),
            _paired_case(rng, 196, 100, 5, 0.95)]


def _ablated_spatial_weight() -> float:
    return tiny_forward(use_spatial=False).spatial_attn[0, 0, 0].item()


ABLATION_SOLUTION = '''\
from sasr_lite.notebook_utils import experiment_run, run_accuracies

def seeds_of(variant):  # the variant's runs, one per seed, as run_all trained them
    key, changes = VARIANTS[variant]
    return [experiment_run(SIZES, data, key, seed, changes) for seed in SEEDS]

full, ablated = seeds_of("full model"), seeds_of("no SaSR")
before, after = (float(np.mean(run_accuracies(runs, data))) for runs in (full, ablated))  # recorded per run
return dict(setting="use_sasr", value=False, before=before, after=after, explanation=(
    f"Switching SaSR off moved the mean over seeds from {before:.1f}% to {after:.1f}%. Without it the tokens "
    "never read the segments, so the features carry no source-aware summary and L_source only trains the "
    "presence heads; the paired interval in the table above says whether this test set can see the "
    "difference, and the paper's implied change is printed beside it."),
    baseline=[str(r.run_dir) for r in full], run=[str(r.run_dir) for r in ablated])
'''

EXERCISES = [
    Exercise(
        "10.paired_bootstrap", "Write the paired bootstrap of an accuracy difference between two runs.", 20,
        Implement(PAIRED_STUB, (Target(evaluate, "paired_bootstrap"), Target(evaluate, "paired_bootstrap_runs")),
                  _paired_cases, ("delta", "low", "high"), atol=1e-6, rtol=0.0,
                  compare=compare_pointing_at_draws(("delta", "low", "high"), 1e-6)),
        solution=PAIRED_SOLUTION,
    ),
    Exercise(
        "10.ablated_attention", "Predict each spatial weight of a model built with use_spatial=False (P = 196).", 5,
        Predict(_ablated_spatial_weight,
                why="Without SA every one of the 196 cells gets exactly 1/196 = 0.0051, so f^attn is the plain "
                    "average of the map: the pooled vector the visual branch already has.",
                clue="Switching SA off gives every map position the same weight, and the weights over the P "
                     "positions still sum to 1.",
                wrong=lambda: {"that is 1/T, the temporal ablation's weight; the spatial weights run over P = 196 "
                               "cells.": 0.1,
                               "that is 1/14, one row of the 14 x 14 grid; the weights run over all 196 "
                               "cells.": 1 / 14},
                rel_tol=1e-6),
        solution="return 1 / 196  # uniform over the 14 x 14 cells",
    ),
    Exercise(
        "10.ablation", "Experiment: switch one block off at lesson scale and explain the measured change.", 45,
        Experiment({"use_slt": BOOL, "use_sasr": BOOL, "use_spatial": BOOL, "use_temporal": BOOL},
                   measure="test accuracy (%)",
                   mention="what the switched-off block computes instead (no SLT: f^s = f^r; no SaSR: f^g = f^s; no "
                           "SA: uniform 1/196 weights, the pooled map; no TA: the time average); which question types "
                           "should suffer (e.g. location for SA, temporal for TA); the paired-bootstrap interval of "
                           "the difference and the spread over seeds, since a change inside them is not a result; "
                           "and how the paper's Tables 2-3 compare."),
        solution=ABLATION_SOLUTION,
    ),
]
