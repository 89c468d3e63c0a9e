"""Uncertainty: seeded bootstrap intervals per table column (`bootstrap_table`; `head_tail_table`
for MUSIC-AVQA-R's three files), the paired interval of two runs or two groups of runs on the same
questions (`paired_bootstrap`, `paired_bootstrap_runs`), and the per-template answer-prior floor
(`prior_accuracy`, `prior_warning`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sasr_lite.baselines import AnswerPrior
from sasr_lite.data.annotations import QARecord
from sasr_lite.data.datasets import AVG, OVERALL
from sasr_lite.evaluate.tables import _column_masks, _prediction_map, accuracy_table, correctness, table_columns


RUN_STREAM = 0x5EED  # the random stream of `bootstrap_run_picks`, apart from the question draws


def bootstrap_indices(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """[n_boot, n] int32 positions of n questions drawn with replacement, from
    ``np.random.default_rng(seed)``.

    The single resampling scheme of `bootstrap_table` and `paired_bootstrap`, public so that an
    interval can be recomputed by hand from the same draws.
    """
    if n < 1 or n_boot < 1:
        raise ValueError(f"bootstrap needs n >= 1 questions and n_boot >= 1 resamples, got {n} and {n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n), dtype=np.int32)


def bootstrap_run_picks(k: int, n_boot: int = 1000, seed: int = 0, group: int = 0) -> np.ndarray:
    """[n_boot, k] int32 positions of k runs (seeds) drawn with replacement: the run level of
    `paired_bootstrap_runs` with ``resample_runs`` (``group`` 0 draws for A, 1 for B). Streams of
    their own, so the question draws (`bootstrap_indices` with the same seed) do not change."""
    if k < 1 or n_boot < 1:
        raise ValueError(f"bootstrap needs k >= 1 runs and n_boot >= 1 resamples, got {k} and {n_boot}")
    return np.random.default_rng([seed, RUN_STREAM, group]).integers(0, k, size=(n_boot, k), dtype=np.int32)


def _draw_counts(indices: np.ndarray) -> np.ndarray:
    """[R, N] float32: how often each of the N questions is drawn in each of the R resamples."""
    r, n = indices.shape
    offsets = (indices + n * np.arange(r, dtype=np.int64)[:, None]).ravel()  # one bincount for all rows
    return np.bincount(offsets, minlength=r * n).reshape(r, n).astype(np.float32)  # small integers: exact


def _column_accuracy(correct: np.ndarray, masks: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Accuracy (%) of each Table 1 column in each resample: [R, C].

    ``correct`` [N] bool, or the share of runs that got each question right (`paired_bootstrap_runs`),
    or [R, N]: a share per resample (its own drawn runs, ``resample_runs``); ``masks`` [C, N] bool
    (`_column_masks`), ``draws`` [R, N] counts (`_draw_counts`; a row of ones is the sample
    itself). A column's accuracy is the mean over the drawn questions that fall in it; NaN where a
    resample draws none of them.
    """
    if correct.ndim == 1:
        right = draws @ (masks * correct).T.astype(np.float32)  # [R, C]
    else:
        right = (draws * correct) @ masks.T.astype(np.float32)
    total = draws @ masks.T.astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * right.astype(np.float64) / total


def _percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` percentile interval per column of ``samples`` [R, C], ignoring NaN
    resamples; NaN for a column with none."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    tail = 50.0 * (1 - level)
    bounds = np.full((2, samples.shape[1]), np.nan)
    seen = ~np.isnan(samples).all(axis=0)
    if seen.any():
        bounds[:, seen] = np.nanpercentile(samples[:, seen], [tail, 100.0 - tail], axis=0)
    return bounds[0], bounds[1]


def bootstrap_table(
    records: Sequence[QARecord],
    predictions: Mapping[int, str] | pd.DataFrame,
    name: str = "model",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Accuracy (%) per Table 1 column with a seeded percentile-bootstrap interval.

    Plain, unstratified resampling: each of ``n_boot`` resamples draws all N questions' positions
    with replacement (`bootstrap_indices`), and a column's accuracy is the mean over the drawn
    questions that fall in it, so a column's size varies between resamples as it would between
    test sets. A resample that draws none of a column's questions is left out of that column.
    Returns three rows with MultiIndex (name, stat), stat "accuracy" (the point estimate, equal
    to `accuracy_table`), "low" and "high" (the central ``level`` interval); columns are
    TABLE_COLUMNS; ``attrs`` hold questions, n_boot, seed and level.
    """
    rows, columns = correctness(records, predictions), table_columns(records)
    correct, masks = rows["correct"].to_numpy(), _column_masks(rows, columns)
    point = _column_accuracy(correct, masks, np.ones((1, len(rows)), np.float32))[0]
    draws = _draw_counts(bootstrap_indices(len(rows), n_boot, seed))
    low, high = _percentile_interval(_column_accuracy(correct, masks, draws), level)
    index = pd.MultiIndex.from_product([[name], ["accuracy", "low", "high"]], names=["model", "stat"])
    table = pd.DataFrame([point, low, high], index=index, columns=columns)
    table.attrs.update(questions=len(rows), n_boot=n_boot, seed=seed, level=level)
    return table


def head_tail_table(
    records: Mapping[str, Sequence[QARecord]],
    predictions: Mapping[str, Mapping[int, str] | pd.DataFrame],
    name: str = "model",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """MUSIC-AVQA-R's table: accuracy (%) on its head, tail and overall files, each with a seeded
    percentile-bootstrap interval.

    ``records`` and ``predictions`` map an -R split (`music_avqa_r.SUBSET_NAMES`) to its records and
    predictions. Each file is scored on its own, plain accuracy over its questions, as the
    authors' and QA-TIGER's code do (`sasr_lite.data.music_avqa_r`); its interval is
    `bootstrap_table`'s overall column on that file. Rows (name, stat) with stat accuracy, low,
    high; columns Head, Tail, Overall (those given); ``attrs["questions"]`` per column.
    """
    from sasr_lite.data.music_avqa_r import SUBSET_NAMES

    columns, questions = {}, {}
    for split, label in SUBSET_NAMES.items():
        if split in records:
            ci = bootstrap_table(records[split], predictions[split], name, n_boot, seed, level)
            columns[label] = ci[(OVERALL, AVG)].to_numpy()
            questions[label] = ci.attrs["questions"]
    if not columns:
        raise ValueError(f"no MUSIC-AVQA-R split among {sorted(records)}; expected {list(SUBSET_NAMES)}")
    index = pd.MultiIndex.from_product([[name], ["accuracy", "low", "high"]], names=["model", "stat"])
    table = pd.DataFrame(columns, index=index)
    table.attrs.update(questions=questions, n_boot=n_boot, seed=seed, level=level)
    return table


def _same_questions(predictions_a, predictions_b) -> None:
    """Raise ValueError unless both prediction sets hold the same question ids."""
    ids_a, ids_b = set(_prediction_map(predictions_a)), set(_prediction_map(predictions_b))
    if ids_a != ids_b:
        only_a, only_b = sorted(ids_a - ids_b), sorted(ids_b - ids_a)
        raise ValueError(f"the two prediction sets cover different questions: ids only in A: {len(only_a)} "
                         f"(e.g. {only_a[:5]}); ids only in B: {len(only_b)} (e.g. {only_b[:5]})")


def paired_bootstrap(
    records: Sequence[QARecord],
    predictions_a: Mapping[int, str] | pd.DataFrame,
    predictions_b: Mapping[int, str] | pd.DataFrame,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Accuracy difference A - B (percentage points) per Table 1 column, with a paired interval.

    Paired: every resample (`bootstrap_indices`, as in `bootstrap_table`) applies the same drawn
    questions to both runs' per-question correctness, so the variation the two runs share cancels.
    Returns one row per Table 1 column (TABLE_COLUMNS as the row index) with columns questions,
    a, b (accuracies, %), delta (a - b), low, high (the central ``level`` interval of the
    resampled differences) and excludes_zero. Raises ValueError when A and B cover different
    question ids, or either does not cover ``records`` exactly.
    """
    return paired_bootstrap_runs(records, [predictions_a], [predictions_b], n_boot, seed, level)


def paired_bootstrap_runs(
    records: Sequence[QARecord],
    runs_a: Sequence[Mapping[int, str] | pd.DataFrame],
    runs_b: Sequence[Mapping[int, str] | pd.DataFrame],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    resample_runs: bool = False,
) -> pd.DataFrame:
    """`paired_bootstrap` for two *groups* of runs (e.g. one model variant trained with several
    seeds against another): each question's correctness is the share of a group's runs that got
    it right, so A and B are the groups' mean accuracies, and the interval resamples questions.

    ``resample_runs``: each resample also draws each group's runs with replacement
    (`bootstrap_run_picks`, independently for A and B: seed k of one variant is no pair of seed k
    of another) before the questions, so the interval holds the spread between training runs as
    well as between questions. Without it a difference can exclude 0 on one set of runs and flip
    sign on the next (another CPU, the same seeds). Same columns as `paired_bootstrap`."""
    if not runs_a or not runs_b:
        raise ValueError("paired_bootstrap_runs needs at least one run on each side")
    for run in [*runs_a[1:], *runs_b]:
        _same_questions(runs_a[0], run)
    masks = None
    right = []  # per group: [runs, N] 0/1
    for runs in (runs_a, runs_b):
        rows = [correctness(records, run) for run in runs]  # each in record order
        masks = _column_masks(rows[0], table_columns(records)) if masks is None else masks
        right.append(np.stack([r["correct"].to_numpy(np.float32) for r in rows]))
    a, b = (r.mean(axis=0) for r in right)
    everyone = np.ones((1, len(a)), np.float32)
    draws = _draw_counts(bootstrap_indices(len(a), n_boot, seed))
    if resample_runs:
        def drawn_runs_accuracy(side: int) -> np.ndarray:
            """[R, C] accuracy of group ``side`` with each resample's own drawn runs."""
            runs = right[side]  # [runs, N]
            weights = _draw_counts(bootstrap_run_picks(len(runs), n_boot, seed, side)) / len(runs)  # [R, runs]
            return _column_accuracy(weights @ runs, masks, draws)

        diff = drawn_runs_accuracy(0) - drawn_runs_accuracy(1)
    else:
        diff = _column_accuracy(a, masks, draws) - _column_accuracy(b, masks, draws)
    low, high = _percentile_interval(diff, level)
    out = pd.DataFrame({
        "questions": masks.sum(axis=1),
        "a": _column_accuracy(a, masks, everyone)[0],
        "b": _column_accuracy(b, masks, everyone)[0],
        "low": low,
        "high": high,
    }, index=table_columns(records))
    out.insert(3, "delta", out["a"] - out["b"])
    out["excludes_zero"] = (out["low"] > 0) | (out["high"] < 0)
    out.attrs.update(n_boot=n_boot, seed=seed, level=level, runs=(len(runs_a), len(runs_b)),
                     resample_runs=resample_runs)
    return out


def prior_accuracy(train_records: Sequence[QARecord], records: Sequence[QARecord]) -> float:
    """Overall accuracy (%) on ``records`` of `baselines.AnswerPrior` fit on ``train_records``:
    what the question templates' train answer frequencies alone score."""
    predictions = AnswerPrior().fit(train_records).predict(records)
    return float(accuracy_table(records, predictions)[(OVERALL, AVG)].iloc[0])


def prior_warning(accuracy: float, prior: float | None, name: str = "model") -> str | None:
    """A one-line warning when a model's overall ``accuracy`` (%) does not beat the answer prior's
    (`prior_accuracy`, %); None when it does, or when ``prior`` is None (no train split at hand)."""
    if prior is None or accuracy > prior:
        return None
    return (f"warning: {name} scores {accuracy:.1f}% overall, not above the per-template answer prior "
            f"({prior:.1f}%): it has learned nothing beyond the question templates' answer frequencies")
