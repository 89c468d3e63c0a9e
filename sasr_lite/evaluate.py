"""Evaluation: predictions matched by question id, the paper's Table 1, attention grading.

Every prediction carries the ``question_id`` of its batch row and is joined to its record by
that id (the official test loops pair predictions with records by position, which is only
right at batch size 1). Accuracy is reported in the layout of the paper's Table 1: Audio
{Counting, Comparative, Avg}, Visual {Counting, Location, Avg}, Audio-Visual {Existential,
Location, Counting, Comparative, Temporal, Avg}, then the overall Avg. A group's Avg is over all
of its questions (weighted by count, as AVST's test code computes it), not a mean of subtypes.
On AVQA-Yang the columns are its eight question types and the average (the paper's Table 4
reports only the average); `table_columns` picks the layout from the records' benchmark.

Also seeded bootstrap intervals (`bootstrap_table`, and `paired_bootstrap` for two runs on the
same questions), the per-template answer-prior floor (`prior_accuracy`, `prior_warning`), and the
`sasr-lite eval` subcommand: a checkpoint and a split -> tables written with the annotation
release recorded (``--ci`` adds the intervals). ``--release r`` evaluates MUSIC-AVQA-R's three
files instead (`head_tail_table`: head, tail and overall with bootstrap intervals).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sasr_lite.baselines import AnswerPrior
from sasr_lite.cli import at_least
from sasr_lite.data.annotations import QARecord
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.data.datasets import AVG, OVERALL, Benchmark, benchmark_of
from sasr_lite.data.music_avqa import BENCHMARK as MUSIC_AVQA
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.device import autocast
from sasr_lite.paper import paper_number
from sasr_lite.errors import NonFiniteError

def columns_of(benchmark: Benchmark) -> pd.MultiIndex:
    """A benchmark's results-table columns (`Benchmark.table_columns`) as a (group, type) MultiIndex."""
    return pd.MultiIndex.from_tuples(benchmark.table_columns, names=["group", "type"])


# Table 1 columns: each group's subtypes then its Avg, then the overall Avg
TABLE_COLUMNS = columns_of(MUSIC_AVQA)

# Published MUSIC-AVQA test accuracies (docs/design.md section 4.4), in percent.
_SASR_OVERALL = paper_number("full_model_table2")  # Table 2's baseline + its both-blocks gain
PUBLISHED = {
    # AVST (Li et al., CVPR 2022), the project's own numbers on the updated release
    "AVST (published; json_update release)": {
        ("Audio", "Counting"): 77.78, ("Audio", "Comparative"): 67.17, ("Audio", AVG): 73.87,
        ("Visual", "Counting"): 73.52, ("Visual", "Location"): 75.27, ("Visual", AVG): 74.40,
        ("Audio-Visual", "Existential"): 82.49, ("Audio-Visual", "Location"): 64.24,
        ("Audio-Visual", "Counting"): 69.88, ("Audio-Visual", "Comparative"): 64.67,
        ("Audio-Visual", "Temporal"): 65.82, ("Audio-Visual", AVG): 69.53,
        (OVERALL, AVG): 71.59,
    },
    # SaSR-Net paper (sasr_lite.paper): its text states the audio average; the overall is inferred
    f"SaSR-Net (paper; overall inferred {_SASR_OVERALL.formula}; release not stated)": {
        ("Audio", AVG): paper_number("audio_avg").value, (OVERALL, AVG): _SASR_OVERALL.value,
    },
}


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


# Published AVQA-Yang averages (the paper's Table 4: only the average is reported), in percent.
PUBLISHED_AVQA_YANG = {
    f"{method} (published, Table 4)": {(OVERALL, AVG): paper_number(key).value}
    for method, key in (("SaSR-Net", "avqa_yang_avg"), ("HCRN+HAVF", "avqa_yang_hcrn"), ("HGA+HAVF", "avqa_yang_hga"),
                        ("PSAC+HAVF", "avqa_yang_psac"), ("HME+HAVF", "avqa_yang_hme"),
                        ("LADNet+HAVF", "avqa_yang_ladnet"))
}


def published_table(benchmark: Benchmark = MUSIC_AVQA) -> pd.DataFrame:
    """The published numbers we know for ``benchmark`` (docs/design.md section 4.4) in its table layout;
    MUSIC-AVQA's rows are named with their release."""
    published = PUBLISHED_AVQA_YANG if benchmark.name == "avqa-yang" else PUBLISHED
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


# --- uncertainty: bootstrap intervals and the answer-prior floor --------------------------------
def bootstrap_indices(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """[n_boot, n] int32 positions of n questions drawn with replacement, from
    ``np.random.default_rng(seed)``.

    The single resampling scheme of `bootstrap_table` and `paired_bootstrap`, public so that an
    interval can be recomputed by hand from the same draws.
    """
    if n < 1 or n_boot < 1:
        raise ValueError(f"bootstrap needs n >= 1 questions and n_boot >= 1 resamples, got {n} and {n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n), dtype=np.int32)


def _draw_counts(indices: np.ndarray) -> np.ndarray:
    """[R, N] float32: how often each of the N questions is drawn in each of the R resamples."""
    r, n = indices.shape
    offsets = (indices + n * np.arange(r, dtype=np.int64)[:, None]).ravel()  # one bincount for all rows
    return np.bincount(offsets, minlength=r * n).reshape(r, n).astype(np.float32)  # small integers: exact


def _column_accuracy(correct: np.ndarray, masks: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Accuracy (%) of each Table 1 column in each resample: [R, C].

    ``correct`` [N] bool, or the share of runs that got each question right (`paired_bootstrap_runs`),
    ``masks`` [C, N] bool (`_column_masks`), ``draws`` [R, N] counts (`_draw_counts`; a row of ones
    is the sample itself). A column's accuracy is the mean over the drawn questions that fall in
    it; NaN where a resample draws none of them.
    """
    right = draws @ (masks * correct).T.astype(np.float32)  # [R, C]
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
) -> pd.DataFrame:
    """`paired_bootstrap` for two *groups* of runs (e.g. one model variant trained with several
    seeds against another): each question's correctness is the share of a group's runs that got
    it right, so A and B are the groups' mean accuracies and the interval resamples questions
    (the seeds' own spread is what the mean ± std over seeds shows). Same columns as `paired_bootstrap`."""
    if not runs_a or not runs_b:
        raise ValueError("paired_bootstrap_runs needs at least one run on each side")
    for run in [*runs_a[1:], *runs_b]:
        _same_questions(runs_a[0], run)
    masks = None
    shares = []
    for runs in (runs_a, runs_b):
        rows = [correctness(records, run) for run in runs]  # each in record order
        masks = _column_masks(rows[0], table_columns(records)) if masks is None else masks
        shares.append(np.mean([r["correct"].to_numpy() for r in rows], axis=0))
    a, b = shares
    everyone = np.ones((1, len(a)), np.float32)
    draws = _draw_counts(bootstrap_indices(len(a), n_boot, seed))
    low, high = _percentile_interval(_column_accuracy(a, masks, draws) - _column_accuracy(b, masks, draws), level)
    out = pd.DataFrame({
        "questions": masks.sum(axis=1),
        "a": _column_accuracy(a, masks, everyone)[0],
        "b": _column_accuracy(b, masks, everyone)[0],
        "low": low,
        "high": high,
    }, index=table_columns(records))
    out.insert(3, "delta", out["a"] - out["b"])
    out["excludes_zero"] = (out["low"] > 0) | (out["high"] < 0)
    out.attrs.update(n_boot=n_boot, seed=seed, level=level, runs=(len(runs_a), len(runs_b)))
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


# --- running a model ----------------------------------------------------------------------------
@dataclass
class ModelPredictions:
    """A model's answers on a split, keyed by question id, and (optionally) its attention maps."""

    frame: pd.DataFrame  # question_id, video_index, answer_index, prediction (answer word)
    spatial: dict[int, np.ndarray] = field(default_factory=dict)  # store row -> [T, P]
    temporal_a: dict[int, np.ndarray] = field(default_factory=dict)  # question_id -> [T]
    temporal_v: dict[int, np.ndarray] = field(default_factory=dict)  # question_id -> [T]


@torch.no_grad()
def predict(model: torch.nn.Module, batches, answer_vocab, keep_attention: bool = False) -> ModelPredictions:
    """Run ``model`` over ``batches`` (a BatchLoader, any order) and key every answer by the
    ``question_id`` its batch row carries. ``keep_attention`` also keeps the spatial attention
    of each video (it depends on the audio only, not on the question) and each question's
    temporal attention, on the CPU as float32."""
    model.eval()
    device = next(model.parameters()).device
    frames, out = [], ModelPredictions(frame=pd.DataFrame())
    for batch in batches:
        with autocast(device):
            output = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"],
                           video_of=batch["video_of"], question_len=batch["question_len"],
                           choices=batch.get("choices"), choice_len=batch.get("choice_len"))
        qids = batch["question_id"].cpu().numpy()
        video_rows = batch["video_index"].cpu().numpy()  # [V]
        broken = (~torch.isfinite(output.answer_logits)).any(-1).cpu().numpy()  # [B]
        if broken.any():  # an argmax over NaN would silently answer with index 0
            store_ids = batches.dataset.store.ids
            videos = sorted({store_ids[r] for r in video_rows[batch["video_of"].cpu().numpy()[broken]]})
            raise NonFiniteError(f"{int(broken.sum())} questions (ids {qids[broken][:5].tolist()}) got NaN or infinite "
                                 f"answer logits; their videos {videos[:5]} in {batches.dataset.store.path} hold "
                                 "non-finite features, or the checkpoint does")
        best = output.answer_logits.argmax(-1).cpu().numpy()
        videos = video_rows[batch["video_of"].cpu().numpy()]  # [B] store row of each question
        frames.append(pd.DataFrame({"question_id": qids, "video_index": videos, "answer_index": best}))
        if keep_attention:
            spatial = output.spatial_attn.float().cpu().numpy()  # [V, T, P]
            out.spatial.update(zip(video_rows.tolist(), spatial))
            t_a, t_v = output.temporal_attn_a.float().cpu().numpy(), output.temporal_attn_v.float().cpu().numpy()
            for k, q in enumerate(qids.tolist()):
                out.temporal_a[q], out.temporal_v[q] = t_a[k], t_v[k]
    frame = pd.concat(frames, ignore_index=True)
    frame["prediction"] = [answer_vocab.tokens[i] for i in frame["answer_index"]]
    out.frame = frame
    return out


# --- attention against the synthetic ground truth ----------------------------------------------
def grade_attention(records: Sequence[QARecord], predictions: ModelPredictions, store, scenes: Mapping) -> dict:
    """Spatial pointing and temporal focus against the synthetic scenes' ground truth.

    - pointing accuracy: over every (video, kept segment) with a sounding visible instrument,
      the share whose spatial-attention argmax lies in a sounding instrument's box; chance is
      the boxes' share of the P positions (what a uniformly random peak would score).
    - temporal mass: over questions about some but not all segments, the attention mass on
      those segments (audio and visual branches); uniform attention would put |segments| / T.
    ``scenes`` maps video_id -> Scene; ``store`` is the split's FeatureStore (ids, stride).
    """
    from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask
    from sasr_lite.synth.scenes import kept_segments

    if not predictions.spatial:
        raise ValueError("grade_attention needs predictions made with keep_attention=True")
    segments = kept_segments(store.stride or 6)
    hits, chance = [], []
    for row, attn in predictions.spatial.items():
        mask = sounding_box_mask(scenes[store.ids[row]], segments)  # [T, P] bool
        for t in np.flatnonzero(mask.any(axis=1)):
            hits.append(bool(mask[t, attn[t].argmax()]))
            chance.append(mask[t].mean())
    mass_a, mass_v, uniform = [], [], []
    for r in records:
        if r.question_id not in predictions.temporal_a:
            continue
        asked = question_segments(scenes[r.video_id], r, segments)  # [T] bool
        if not asked.any() or asked.all():
            continue  # a question about every segment (or none) says nothing about focus
        mass_a.append(predictions.temporal_a[r.question_id][asked].sum())
        mass_v.append(predictions.temporal_v[r.question_id][asked].sum())
        uniform.append(asked.mean())
    return {
        "pointing_accuracy": 100.0 * float(np.mean(hits)) if hits else float("nan"),
        "pointing_chance": 100.0 * float(np.mean(chance)) if chance else float("nan"),
        "pointing_segments": len(hits),
        "temporal_mass_audio": 100.0 * float(np.mean(mass_a)) if mass_a else float("nan"),
        "temporal_mass_visual": 100.0 * float(np.mean(mass_v)) if mass_v else float("nan"),
        "temporal_mass_uniform": 100.0 * float(np.mean(uniform)) if uniform else float("nan"),
        "temporal_questions": len(uniform),
    }


# --- one call: a trained model on one split -------------------------------------------------------
@dataclass
class EvalReport:
    """Everything `evaluate_split` computes for one model on one split."""

    name: str
    split: str
    release: str
    table: pd.DataFrame  # Table 1 layout, one row
    templates: pd.DataFrame  # per-template accuracy
    predictions: ModelPredictions
    attention: dict | None = None  # grade_attention(...) on the synthetic benchmark

    def summary(self) -> dict:
        return {
            "name": self.name, "split": self.split, "release": self.release,
            "accuracy": {f"{g}/{t}": v for (g, t), v in self.table.iloc[0].items()},
            "questions": self.table.attrs.get("questions"),
            "unknown_answers": self.table.attrs.get("unknown_answers"),
            "attention": self.attention,
        }


def evaluate_split(model: torch.nn.Module, data, split: str = "test", name: str = "SaSR-Net",
                   batch_size: int = 64, grade: bool | None = None) -> EvalReport:
    """Predict ``split`` of a `train.TrainData` with ``model`` and build the tables.

    On the synthetic benchmark (``data.release == "synthetic"``) the attention is also graded
    against ``data.root/scenes/{split}.json`` unless ``grade=False``.
    """
    from sasr_lite.data.dataset import BatchLoader

    device = next(model.parameters()).device
    # the attention is graded against the scenes of the synthetic MUSIC-AVQA questions
    grade = data.release == "synthetic" and data.benchmark.name == "music-avqa" if grade is None else grade
    records = data.records[split]
    loader = BatchLoader(data.dataset(split), batch_size, shuffle=False, device=device)
    predictions = predict(model, loader, data.answer_vocab, keep_attention=grade)
    table = accuracy_table(records, predictions.frame, name=name, answer_vocab=data.answer_vocab)
    attention = None
    if grade:
        from sasr_lite.synth.scenes import load_scenes, scene_index

        scenes = scene_index(load_scenes(data.root / "scenes" / f"{split}.json"))
        attention = grade_attention(records, predictions, data.stores[split], scenes)
    return EvalReport(name, split, data.release, table, template_table(records, predictions.frame), predictions, attention)


def attention_table(reports: Sequence[EvalReport]) -> pd.DataFrame:
    """Pointing accuracy and temporal mass of several models beside their chance rates (%)."""
    rows = {}
    for r in reports:
        if r.attention:
            a = r.attention
            rows[r.name] = {
                "pointing accuracy": a["pointing_accuracy"], "pointing chance": a["pointing_chance"],
                "temporal mass (audio)": a["temporal_mass_audio"], "temporal mass (visual)": a["temporal_mass_visual"],
                "temporal mass (uniform)": a["temporal_mass_uniform"],
            }
    return pd.DataFrame.from_dict(rows, orient="index")


# --- `sasr-lite eval` -----------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="a checkpoint.pt / best.pt written by `sasr-lite train`")
    parser.add_argument("data", type=Path, help="folder with the annotation files (MUSIC-AVQA avqa-{split}.json "
                        "or AVQA-Yang {split}_qa.json)")
    parser.add_argument("--store", type=Path, default=None, help="folder with the {split}/ feature stores (default DATA/store)")
    parser.add_argument("--split", default="test", help="split to evaluate (default test)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: next to the checkpoint, eval/)")
    parser.add_argument("--batch-size", type=at_least(1), default=64)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA when present, else CPU)")
    parser.add_argument("--name", default="SaSR-Net", help="row name in the tables")
    parser.add_argument("--ci", action="store_true",
                        help="also bootstrap intervals per Table 1 column (printed and written to {split}_ci.csv)")
    parser.add_argument("--n-boot", type=at_least(1), default=1000, help="bootstrap resamples for --ci (default 1000)")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files eval did not write (or changed since): move it aside to OUT.old-N")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed for --ci (default 0)")
    parser.add_argument("--release", choices=["r"], default=None,
                        help="r: MUSIC-AVQA-R: evaluate DATA's avqa-test-{headtail,head,tail}.json on the STORE/test "
                        "store and print head, tail and overall accuracy with bootstrap intervals "
                        "(--split is not used)")


def load_model(checkpoint: str | Path, device: str | torch.device | None = None):
    """(model in eval mode, Checkpoint) from a checkpoint file."""
    from sasr_lite.checkpoint import load_checkpoint
    from sasr_lite.device import pick_device
    from sasr_lite.model import build_model

    ckpt = load_checkpoint(checkpoint)
    model = build_model(ckpt.model_config)
    model.load_state_dict(ckpt.model_state)
    return model.to(pick_device(str(device) if device is not None else None)).eval(), ckpt


def _check_answer_head(ckpt, data, checkpoint: Path, folder: Path) -> None:
    head = data.benchmark.answer_format  # the answer head this benchmark needs
    if ckpt.model_config.answer_head != head:  # e.g. an AVQA-Yang model asked MUSIC-AVQA's questions
        raise ValueError(f"{checkpoint} has a {ckpt.model_config.answer_head!r} answer head, but {folder} holds "
                         f"{data.benchmark.title}, whose answers need a {head!r} one: evaluate it on the benchmark "
                         "it was trained on")


def run_r(args: argparse.Namespace, model, ckpt) -> int:
    """`sasr-lite eval --release r`: the three MUSIC-AVQA-R files, one test store, one table."""
    from sasr_lite.data.annotations import R_SPLITS
    from sasr_lite.data.loading import load_data

    data = load_data(args.data, args.store, splits=R_SPLITS, vocabularies=ckpt.vocabularies, required=R_SPLITS,
                     dataset="music-avqa", store_splits={split: "test" for split in R_SPLITS})
    _check_answer_head(ckpt, data, args.checkpoint, args.data)
    out = args.out or args.checkpoint.parent / "eval"
    reports = {split: evaluate_split(model, data, split, args.name, args.batch_size, grade=False) for split in R_SPLITS}
    table = head_tail_table(data.records, {s: r.predictions.frame for s, r in reports.items()}, args.name,
                            args.n_boot, args.seed)
    sizes = ", ".join(f"{label.lower()} {n:,}" for label, n in table.attrs["questions"].items())
    releases = ([data.release] if data.release == "synthetic"
                else sorted({data.annotations[s]["release"] for s in R_SPLITS}))
    print(f"MUSIC-AVQA-R ({sizes} questions; release {', '.join(releases)}; model trained on the {ckpt.release} "
          f"release); checkpoint {args.checkpoint} (epoch {ckpt.epoch + 1})")
    print(f"accuracy with percentile bootstrap intervals, {args.n_boot} resamples of each file's questions, "
          f"seed {args.seed}:")
    print(format_table(table))
    for split, report in reports.items():
        write_text_atomic(out / f"{split}_table.csv", report.table.to_csv())
        write_text_atomic(out / f"{split}_predictions.csv", report.predictions.frame.to_csv(index=False))
    write_text_atomic(out / "r_table.csv", table.to_csv())
    write_json_atomic(out / "r_results.json", {
        "name": args.name, "release": releases[0] if len(releases) == 1 else releases,
        "accuracy": {label: {stat: float(table.loc[(args.name, stat), label]) for stat in ("accuracy", "low", "high")}
                     for label in table.columns},
        "questions": table.attrs["questions"], "n_boot": args.n_boot, "seed": args.seed,
        "per_split": {split: report.summary() for split, report in reports.items()},
        "checkpoint": str(args.checkpoint), "epoch": ckpt.epoch, "train_release": ckpt.release,
        "annotations": data.annotations,
    })
    print(f"wrote {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    from sasr_lite.outputs import writing

    if not args.checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint not found: {args.checkpoint}")
    out = args.out or args.checkpoint.parent / "eval"
    with writing(out, "eval", overwrite=args.overwrite, clear=False):  # other splits' results stay
        return _evaluate(args, out)


def _check_store_matches_data(args: argparse.Namespace, data) -> None:
    """``--store`` must hold the same features as the store beside the annotations, where there is
    one (a synthetic benchmark's): another seed's store has the same ids but other rows."""
    from sasr_lite.data.store import MANIFEST, FeatureStore

    used = data.stores[args.split]
    beside = args.data / "store" / args.split
    if args.store is None or not (beside / MANIFEST).is_file() or beside.resolve() == used.path.resolve():
        return
    own = FeatureStore.open(beside)
    if own.digest != used.digest:
        raise ValueError(f"--store {used.path} holds other features than {beside}, the {args.split} store of "
                         f"{args.data} (store checksums {str(used.digest)[:12]} and {str(own.digest)[:12]}); "
                         f"evaluate with the store built with these annotations")


def _evaluate(args: argparse.Namespace, out: Path) -> int:
    from sasr_lite.data.loading import load_data

    model, ckpt = load_model(args.checkpoint, args.device)
    if args.release == "r":
        return run_r(args, model, ckpt)
    data = load_data(args.data, args.store, splits=(args.split,), vocabularies=ckpt.vocabularies, required=(args.split,))
    _check_store_matches_data(args, data)
    _check_answer_head(ckpt, data, args.checkpoint, args.data)
    report = evaluate_split(model, data, args.split, args.name, args.batch_size)
    described = data.annotations[args.split]
    table = report.table
    if described["release"] in ("json_update", "original"):  # MUSIC-AVQA: the published numbers beside ours
        table = pd.concat([table.rename(index={args.name: f"{args.name} (ours; {described['release']} release)"}),
                           published_table()])
    elif data.benchmark.name == "avqa-yang" and report.release != "synthetic":
        table = pd.concat([table.rename(index={args.name: f"{args.name} (ours; {args.split} split)"}),
                           published_table(data.benchmark)])
    print(f"{args.split} split: {described['records']} questions, release {report.release} "
          f"(model trained on the {ckpt.release} release); checkpoint {args.checkpoint} (epoch {ckpt.epoch + 1})")
    print(format_table(table))
    if report.table.attrs.get("unknown_answers"):
        print(f"{report.table.attrs['unknown_answers']} questions have answers outside the train vocabulary "
              "(counted wrong)")
    if report.attention:
        print(format_table(attention_table([report])))
    records = data.records[args.split]
    if args.ci:
        ci = bootstrap_table(records, report.predictions.frame, args.name, args.n_boot, args.seed)
        print(f"percentile bootstrap, {args.n_boot} resamples of the {len(records)} questions, seed {args.seed}:")
        print(format_table(ci))
        write_text_atomic(out / f"{args.split}_ci.csv", ci.to_csv())
    # the answer prior needs the train split, which this run does not load
    train_file = data.benchmark.split_path(args.data, "train")
    prior = prior_accuracy(data.benchmark.load_records(train_file), records) if train_file.is_file() else None
    warning = prior_warning(float(report.table[(OVERALL, AVG)].iloc[0]), prior, args.name)
    if warning:
        print(warning)
    write_text_atomic(out / f"{args.split}_table.csv", table.to_csv())
    write_text_atomic(out / f"{args.split}_templates.csv", report.templates.to_csv())
    write_text_atomic(out / f"{args.split}_predictions.csv", report.predictions.frame.to_csv(index=False))
    write_json_atomic(out / f"{args.split}_results.json", {
        **report.summary(), "checkpoint": str(args.checkpoint), "epoch": ckpt.epoch,
        "train_release": ckpt.release, "annotations": described, "store": data.stores[args.split].describe(),
        "prior_accuracy": prior, "warning": warning,
    })
    print(f"wrote {out}")
    return 0

