"""The results tables: predictions joined to their records by question id, accuracy in the
benchmark's layout, per template, and the published rows beside ours (their numbers live in
`sasr_lite.paper`).

Every prediction carries the ``question_id`` of its batch row and is joined to its record by
that id (the official test loops pair predictions with records by position, which is only
right at batch size 1). Accuracy is reported in the layout of the paper's Table 1: Audio
{Counting, Comparative, Avg}, Visual {Counting, Location, Avg}, Audio-Visual {Existential,
Location, Counting, Comparative, Temporal, Avg}, then the overall Avg. A group's Avg is over all
of its questions (weighted by count, as AVST's test code computes it), not a mean of subtypes.
On AVQA-Yang the columns are its eight question types and the average (the paper's Table 4
reports only the average); `table_columns` picks the layout from the records' benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sasr_lite.data.annotations import QARecord
from sasr_lite.data.datasets import AVG, OVERALL, Benchmark, benchmark_of
from sasr_lite.data.music_avqa import BENCHMARK as MUSIC_AVQA
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.paper import PUBLISHED_AVQA_YANG, PUBLISHED_MUSIC_AVQA


def columns_of(benchmark: Benchmark) -> pd.MultiIndex:
    """A benchmark's results-table columns (`Benchmark.table_columns`) as a (group, type) MultiIndex."""
    return pd.MultiIndex.from_tuples(benchmark.table_columns, names=["group", "type"])


# Table 1 columns: each group's subtypes then its Avg, then the overall Avg
TABLE_COLUMNS = columns_of(MUSIC_AVQA)


# --- matching predictions to records ------------------------------------------------------------
def _prediction_map(predictions: Mapping[int, str] | pd.DataFrame) -> dict[int, str]:
    """question_id -> predicted answer word, from a mapping or a frame with those two columns."""
    if isinstance(predictions, pd.DataFrame):
        missing = {"question_id", "prediction"} - set(predictions.columns)
        if missing:
            raise ValueError(f"predictions frame lacks columns {sorted(missing)}")
        if predictions["question_id"].duplicated().any():
            dup = predictions.loc[predictions["question_id"].duplicated(), "question_id"].tolist()[:5]
            raise ValueError(f"predictions hold duplicate question ids, e.g. {dup}")
        return dict(zip(predictions["question_id"].astype(int), predictions["prediction"].astype(str)))
    return {int(k): str(v) for k, v in predictions.items()}


def correctness(records: Sequence[QARecord], predictions: Mapping[int, str] | pd.DataFrame) -> pd.DataFrame:
    """One row per record, joined to its prediction by question id.

    Columns: question_id, video_id, group, subtype, template, answer, prediction, correct.
    Raises ValueError when a record has no prediction or a prediction names no record (both
    mean the predictions came from another split or a broken loop).
    """
    by_id = _prediction_map(predictions)
    ids = [r.question_id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("records hold duplicate question ids; cannot match predictions by id")
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise ValueError(f"{len(missing)} of {len(ids)} records have no prediction, e.g. question ids {missing[:5]}")
    extra = sorted(set(by_id) - set(ids))
    if extra:
        raise ValueError(f"{len(extra)} predictions match no record, e.g. question ids {extra[:5]}")
    rows = pd.DataFrame(
        {
            "question_id": ids,
            "video_id": [r.video_id for r in records],
            "group": [r.group for r in records],
            "subtype": [r.subtype for r in records],
            "template": [r.template_key for r in records],
            "answer": [r.answer for r in records],
            "prediction": [by_id[i] for i in ids],
        }
    )
    rows["correct"] = rows["answer"] == rows["prediction"]
    return rows


# --- Table 1 ------------------------------------------------------------------------------------
def _column_masks(rows: pd.DataFrame, columns: pd.MultiIndex = TABLE_COLUMNS) -> np.ndarray:
    """[C, N] bool: which of the N ``rows`` (with group and subtype columns) fall in each of the
    C table ``columns``, in order (a group's Avg holds its rows, the overall Avg every row)."""
    group, subtype = rows["group"].to_numpy(), rows["subtype"].to_numpy()
    masks = []
    for g, s in columns:
        if g == OVERALL:
            masks.append(np.ones(len(rows), dtype=bool))
        elif s == AVG:
            masks.append(group == g)
        else:
            masks.append((group == g) & (subtype == s))
    return np.stack(masks)


def _table_row(rows: pd.DataFrame, value, columns: pd.MultiIndex = TABLE_COLUMNS) -> dict:
    """``value(frame)`` for each table column's subset of ``rows``; NaN for an empty subset."""
    return {column: value(rows[mask]) if mask.any() else float("nan")
            for column, mask in zip(columns, _column_masks(rows, columns))}


def table_columns(records: Sequence[QARecord]) -> pd.MultiIndex:
    """The results-table columns of the benchmark the records come from: MUSIC-AVQA's Table 1, or
    AVQA-Yang's eight question types and the average."""
    return columns_of(benchmark_of(records))


def accuracy_table(
    records: Sequence[QARecord],
    predictions: Mapping[int, str] | pd.DataFrame,
    name: str = "model",
    answer_vocab=None,
) -> pd.DataFrame:
    """Accuracy (%) in the benchmark's table layout (`table_columns`: the paper's Table 1 on
    MUSIC-AVQA): one row named ``name``, MultiIndex columns.

    ``predictions`` maps question_id -> predicted answer word (or is a frame with columns
    question_id, prediction). A record whose answer is outside ``answer_vocab`` (when given)
    can never be predicted and counts as wrong; ``table.attrs`` reports how many there were
    (``unknown_answers``) and the question count (``questions``).
    """
    rows, columns = correctness(records, predictions), table_columns(records)
    table = pd.DataFrame([_table_row(rows, lambda s: 100.0 * s["correct"].mean(), columns)], index=[name])
    table.columns = columns
    table.attrs["questions"] = len(rows)
    if answer_vocab is not None:
        table.attrs["unknown_answers"] = int(sum(a not in answer_vocab for a in rows["answer"]))
    return table


def question_counts(records: Sequence[QARecord], name: str = "questions") -> pd.DataFrame:
    """How many questions fall in each Table 1 column (same layout, integer counts)."""
    rows = pd.DataFrame({"group": [r.group for r in records], "subtype": [r.subtype for r in records]})
    columns = table_columns(records)
    table = pd.DataFrame([_table_row(rows, len, columns)], index=[name]).fillna(0).astype(int)
    table.columns = columns
    return table


def published_table(benchmark: Benchmark = MUSIC_AVQA) -> pd.DataFrame:
    """The published numbers we know for ``benchmark`` (docs/design.md section 4.4) in its table layout;
    MUSIC-AVQA's rows are named with their release."""
    published = PUBLISHED_AVQA_YANG if benchmark.name == "avqa-yang" else PUBLISHED_MUSIC_AVQA
    columns = columns_of(benchmark)
    table = pd.DataFrame([{c: values.get(c, np.nan) for c in columns} for values in published.values()])
    table.index = list(published)
    table.columns = columns
    return table


def template_table(records: Sequence[QARecord], predictions: Mapping[int, str] | pd.DataFrame) -> pd.DataFrame:
    """Accuracy (%) per question template (MUSIC-AVQA's 33, in taxonomy order; AVQA-Yang's type and
    relation pairs); templates absent from the split are left out."""
    rows = correctness(records, predictions)
    stats = rows.groupby("template")["correct"].agg(["size", "sum"])
    first: dict[str, QARecord] = {}
    for r in records:
        first.setdefault(r.template_key, r)
    text = {t.key: t.text for t in TEMPLATES}
    out = []
    for key in sorted(first, key=lambda k: (first[k].template_index, first[k].subtype_index, k)):
        n, right = stats.loc[key]
        out.append(dict(template=key, group=first[key].group, type=first[key].subtype, question=text.get(key, key),
                        questions=int(n), correct=int(right), accuracy=100.0 * right / n))
    return pd.DataFrame(out).set_index("template")


def fit_table(train_records: Sequence[QARecord], train_runs: Sequence, test_records: Sequence[QARecord],
              test_runs: Sequence) -> pd.DataFrame:
    """Per template: accuracy (%) on the questions a model was trained on beside unseen ones.

    ``train_runs`` and ``test_runs``: one prediction set per run (seed), in the same order, each as
    `template_table` takes it; columns ``train`` and ``test`` are means over the runs, ``gap`` is
    train minus test. A template fitted on its training videos but not answered on new ones has a
    large gap: its answers were learned per video, not read from the features."""
    if len(train_runs) != len(test_runs) or not train_runs:
        raise ValueError(f"fit_table: {len(train_runs)} training and {len(test_runs)} test prediction sets; "
                         "give one of each per run")

    def mean_accuracy(records, runs) -> pd.Series:
        return pd.concat([template_table(records, p)["accuracy"] for p in runs], axis=1).mean(axis=1)

    table = template_table(test_records, test_runs[0])[["group", "type"]]  # the test split's templates
    table["train"], table["test"] = mean_accuracy(train_records, train_runs), mean_accuracy(test_records, test_runs)
    table["gap"] = table["train"] - table["test"]
    return table


def format_table(table: pd.DataFrame, digits: int = 2) -> str:
    """A plain-text rendering of a Table 1 frame (two header lines, '-' for unknown cells)."""
    return table.to_string(float_format=lambda v: f"{v:.{digits}f}", na_rep="-")


def markdown_table(table: pd.DataFrame, digits: int = 1) -> str:
    """A GitHub-markdown rendering (MultiIndex columns joined as "Audio<br>Counting"; NaN as "-")."""
    def head(c) -> str:
        return "<br>".join(str(x) for x in c) if isinstance(c, tuple) else str(c)

    def cell(v) -> str:
        if isinstance(v, (float, np.floating)):
            return "-" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    lines = ["| | " + " | ".join(head(c) for c in table.columns) + " |",
             "|---|" + "---:|" * len(table.columns)]
    lines += ["| " + str(name) + " | " + " | ".join(cell(v) for v in row) + " |" for name, row in table.iterrows()]
    return "\n".join(lines)
