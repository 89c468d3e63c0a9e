"""Bootstrap intervals and the answer-prior floor, checked against direct loops on the tiny
synthetic benchmark's test split (60 questions over all nine question types)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sasr_lite.baselines import AnswerPrior
from sasr_lite.evaluate import (
    TABLE_COLUMNS,
    accuracy_table,
    bootstrap_indices,
    bootstrap_run_picks,
    bootstrap_table,
    paired_bootstrap,
    paired_bootstrap_runs,
    prior_accuracy,
    prior_warning,
    question_counts,
)


def _predictions(records, accuracy: float, seed: int) -> dict[int, str]:
    """Each record answered right with probability ``accuracy``, else with a word no record has."""
    rng = np.random.default_rng(seed)
    return {r.question_id: r.answer if rng.random() < accuracy else "<wrong>" for r in records}


def _right(records, predictions) -> np.ndarray:
    """[N] bool, in record order: is each prediction the answer."""
    return np.array([predictions[r.question_id] == r.answer for r in records])


def _in_column(records, column) -> np.ndarray:
    """[N] bool: which records a Table 1 column counts, straight from the definition."""
    group, subtype = column
    if group == "Overall":
        return np.ones(len(records), dtype=bool)
    return np.array([r.group == group and (subtype == "Avg" or r.subtype == subtype) for r in records])


def _loop_accuracy(right, in_column, idx) -> float:
    """Accuracy (%) of one column in one resample ``idx``, NaN when the resample misses the column."""
    drawn = in_column[idx]
    return 100.0 * right[idx][drawn].mean() if drawn.any() else np.nan


@pytest.fixture(scope="module")
def records(tiny):
    return tiny.records["test"]


def test_bootstrap_point_is_the_table_accuracy_and_lies_in_its_interval(records):
    predictions = _predictions(records, 0.6, seed=1)
    ci = bootstrap_table(records, predictions, name="m", n_boot=300, seed=0)
    assert list(ci.index) == [("m", "accuracy"), ("m", "low"), ("m", "high")]
    assert list(ci.columns) == list(TABLE_COLUMNS)
    assert ci.attrs == {"questions": len(records), "n_boot": 300, "seed": 0, "level": 0.95}
    point, low, high = (ci.loc[("m", stat)].to_numpy() for stat in ("accuracy", "low", "high"))
    assert point == pytest.approx(accuracy_table(records, predictions).iloc[0].to_numpy())
    assert np.all((low <= point) & (point <= high))
    # the overall interval, recomputed from the same draws with a plain mean per resample
    right = _right(records, predictions)
    draws = bootstrap_indices(len(records), 300, 0)
    overall = [100.0 * right[idx].mean() for idx in draws]
    assert [low[-1], high[-1]] == pytest.approx(np.percentile(overall, [2.5, 97.5]))
    assert low[-1] < point[-1] < high[-1]


def test_bootstrap_is_deterministic_for_a_seed_and_differs_across_seeds(records):
    predictions = _predictions(records, 0.5, seed=2)
    first = bootstrap_table(records, predictions, n_boot=200, seed=7)
    pd.testing.assert_frame_equal(first, bootstrap_table(records, predictions, n_boot=200, seed=7))
    other = bootstrap_table(records, predictions, n_boot=200, seed=8)
    assert not np.allclose(first.to_numpy()[1:], other.to_numpy()[1:], equal_nan=True)
    np.testing.assert_array_equal(first.to_numpy()[0], other.to_numpy()[0])  # the point estimate has no randomness


def test_paired_bootstrap_matches_a_loop_over_the_same_draws(records):
    a, b = _predictions(records, 0.7, seed=3), _predictions(records, 0.5, seed=4)
    result = paired_bootstrap(records, a, b, n_boot=200, seed=5, level=0.9)
    assert list(result.index) == list(TABLE_COLUMNS)
    direct = accuracy_table(records, a).iloc[0] - accuracy_table(records, b).iloc[0]
    assert result["delta"].to_numpy() == pytest.approx(direct.to_numpy())
    assert result["questions"].to_numpy().tolist() == question_counts(records).iloc[0].tolist()

    right_a, right_b = _right(records, a), _right(records, b)
    draws = bootstrap_indices(len(records), 200, 5)
    for column in TABLE_COLUMNS:
        in_column = _in_column(records, column)
        deltas = [_loop_accuracy(right_a, in_column, idx) - _loop_accuracy(right_b, in_column, idx) for idx in draws]
        low, high = np.nanpercentile(deltas, [5.0, 95.0])
        assert result.loc[column, ["low", "high"]].tolist() == pytest.approx([low, high]), column
        assert result.loc[column, "excludes_zero"] == (low > 0 or high < 0)


def test_paired_bootstrap_over_seeds_uses_each_questions_share_of_right_runs(records):
    seeds_a = [_predictions(records, 0.7, seed=s) for s in (10, 11, 12)]
    seeds_b = [_predictions(records, 0.5, seed=s) for s in (20, 21)]
    result = paired_bootstrap_runs(records, seeds_a, seeds_b, n_boot=150, seed=7)
    share_a = np.mean([_right(records, p) for p in seeds_a], axis=0)  # [N]: share of A's runs right
    share_b = np.mean([_right(records, p) for p in seeds_b], axis=0)
    # the point difference is the difference of the mean accuracies over seeds
    mean_a = np.mean([accuracy_table(records, p).iloc[0].to_numpy() for p in seeds_a], axis=0)
    mean_b = np.mean([accuracy_table(records, p).iloc[0].to_numpy() for p in seeds_b], axis=0)
    assert result["delta"].to_numpy() == pytest.approx(mean_a - mean_b, abs=1e-4)  # float32 sums of thirds
    draws = bootstrap_indices(len(records), 150, 7)
    column = ("Overall", "Avg")
    deltas = [100.0 * (share_a[idx].mean() - share_b[idx].mean()) for idx in draws]
    assert result.loc[column, ["low", "high"]].tolist() == pytest.approx(np.percentile(deltas, [2.5, 97.5]), abs=1e-4)
    # one run a side is exactly paired_bootstrap
    single = paired_bootstrap(records, seeds_a[0], seeds_b[0], n_boot=150, seed=7)
    pd.testing.assert_frame_equal(paired_bootstrap_runs(records, seeds_a[:1], seeds_b[:1], n_boot=150, seed=7), single)


def test_resampling_runs_draws_seeds_then_questions_and_widens_the_interval(records):
    # A's two seeds disagree wildly (95% and 45% right), B's three agree: the spread between A's runs
    # is the main uncertainty, which a question-only interval leaves out
    seeds_a = [_predictions(records, p, seed=s) for p, s in ((0.95, 30), (0.45, 31))]
    seeds_b = [_predictions(records, 0.6, seed=s) for s in (40, 41, 42)]
    result = paired_bootstrap_runs(records, seeds_a, seeds_b, n_boot=120, seed=3, resample_runs=True)
    right_a = np.stack([_right(records, p) for p in seeds_a])  # [runs, N]
    right_b = np.stack([_right(records, p) for p in seeds_b])
    questions = bootstrap_indices(len(records), 120, 3)
    picks_a, picks_b = bootstrap_run_picks(2, 120, 3, group=0), bootstrap_run_picks(3, 120, 3, group=1)
    deltas = [100.0 * (right_a[pa][:, idx].mean() - right_b[pb][:, idx].mean())
              for idx, pa, pb in zip(questions, picks_a, picks_b)]  # direct: drawn runs, then drawn questions
    column = ("Overall", "Avg")
    assert result.loc[column, ["low", "high"]].tolist() == pytest.approx(np.percentile(deltas, [2.5, 97.5]), abs=1e-3)
    assert result.attrs["resample_runs"] is True
    # the point difference does not depend on the resampling; the interval now spans A's two runs
    questions_only = paired_bootstrap_runs(records, seeds_a, seeds_b, n_boot=120, seed=3)
    assert result.loc[column, "delta"] == pytest.approx(questions_only.loc[column, "delta"])
    low, high = result.loc[column, ["low", "high"]]
    questions_low, questions_high = questions_only.loc[column, ["low", "high"]]
    assert high - low > 3 * (questions_high - questions_low)
    with pytest.raises(ValueError, match="k >= 1 runs"):
        bootstrap_run_picks(0, 10)


def test_identical_predictions_differ_by_exactly_zero(records):
    a = _predictions(records, 0.6, seed=6)
    result = paired_bootstrap(records, a, dict(a), n_boot=100)
    assert (result[["delta", "low", "high"]].to_numpy() == 0).all()
    assert not result["excludes_zero"].any()


def test_paired_bootstrap_rejects_different_question_sets(records):
    a = _predictions(records, 0.6, seed=6)
    first = records[0].question_id
    b = {q: p for q, p in a.items() if q != first}
    expected = rf"different questions: ids only in A: 1 \(e\.g\. \[{first}\]\); ids only in B: 0"
    with pytest.raises(ValueError, match=expected):
        paired_bootstrap(records, a, b)
    with pytest.raises(ValueError, match="ids only in A: 0 .* ids only in B: 1"):
        paired_bootstrap(records, b, a)


def test_prior_accuracy_and_the_warning_below_it(tiny, records):
    train = tiny.records["train"]
    prior = prior_accuracy(train, records)
    guesses = AnswerPrior().fit(train).predict(records)
    assert prior == pytest.approx(100.0 * _right(records, guesses).mean())
    # the prior's own answers do not beat the prior: warned, with both numbers and the name
    warning = prior_warning(prior, prior, name="SaSR-Net")
    assert warning.startswith(f"warning: SaSR-Net scores {prior:.1f}% overall") and f"prior ({prior:.1f}%)" in warning
    assert "\n" not in warning
    assert prior_warning(prior + 0.1, prior) is None
    assert prior_warning(prior - 5, None) is None  # no train split: nothing to compare against
