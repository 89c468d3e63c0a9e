"""Evaluation: predictions matched by question id, the paper's Table 1, attention grading.

Every prediction carries the ``question_id`` of its batch row and is joined to its record by
that id (the official test loops pair predictions with records by position, which is only
right at batch size 1). Accuracy is reported in the layout of the paper's Table 1: Audio
{Counting, Comparative, Avg}, Visual {Counting, Location, Avg}, Audio-Visual {Existential,
Location, Counting, Comparative, Temporal, Avg}, then the overall Avg. A group's Avg is over all
of its questions (weighted by count, as AVST's test code computes it), not a mean of subtypes.

Also the `sasr-lite eval` subcommand: a checkpoint and a split -> tables written with the
annotation release recorded.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sasr_lite.data.annotations import QARecord
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.data.taxonomy import GROUPS, SUBTYPES, TEMPLATES
from sasr_lite.device import autocast

AVG = "Avg"
OVERALL = "Overall"
# Table 1 columns: each group's subtypes then its Avg, then the overall Avg
TABLE_COLUMNS = pd.MultiIndex.from_tuples(
    [c for g in GROUPS for c in [*((g, s) for gg, s in SUBTYPES if gg == g), (g, AVG)]] + [(OVERALL, AVG)],
    names=["group", "type"],
)

# Published MUSIC-AVQA test accuracies (DESIGN.md section 4), in percent.
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
    # SaSR-Net paper: only the overall and audio averages are known here; release not stated
    "SaSR-Net (paper; release not stated)": {("Audio", AVG): 73.56, (OVERALL, AVG): 74.21},
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
            "template": [r.template.key for r in records],
            "answer": [r.answer for r in records],
            "prediction": [by_id[i] for i in ids],
        }
    )
    rows["correct"] = rows["answer"] == rows["prediction"]
    return rows


# --- Table 1 ------------------------------------------------------------------------------------
def _table_row(rows: pd.DataFrame, value) -> dict:
    """``value(frame)`` for each Table 1 column's subset of ``rows``; NaN for an empty subset."""
    def cell(subset: pd.DataFrame) -> float:
        return value(subset) if len(subset) else float("nan")

    out = {}
    for group, subtype in TABLE_COLUMNS:
        if group == OVERALL:
            subset = rows
        elif subtype == AVG:
            subset = rows[rows["group"] == group]
        else:
            subset = rows[(rows["group"] == group) & (rows["subtype"] == subtype)]
        out[(group, subtype)] = cell(subset)
    return out


def accuracy_table(
    records: Sequence[QARecord],
    predictions: Mapping[int, str] | pd.DataFrame,
    name: str = "model",
    answer_vocab=None,
) -> pd.DataFrame:
    """Accuracy (%) in the paper's Table 1 layout: one row named ``name``, MultiIndex columns.

    ``predictions`` maps question_id -> predicted answer word (or is a frame with columns
    question_id, prediction). A record whose answer is outside ``answer_vocab`` (when given)
    can never be predicted and counts as wrong; ``table.attrs`` reports how many there were
    (``unknown_answers``) and the question count (``questions``).
    """
    rows = correctness(records, predictions)
    table = pd.DataFrame([_table_row(rows, lambda s: 100.0 * s["correct"].mean())], index=[name])
    table.columns = TABLE_COLUMNS
    table.attrs["questions"] = len(rows)
    if answer_vocab is not None:
        table.attrs["unknown_answers"] = int(sum(a not in answer_vocab for a in rows["answer"]))
    return table


def question_counts(records: Sequence[QARecord], name: str = "questions") -> pd.DataFrame:
    """How many questions fall in each Table 1 column (same layout, integer counts)."""
    rows = pd.DataFrame({"group": [r.group for r in records], "subtype": [r.subtype for r in records]})
    table = pd.DataFrame([_table_row(rows, len)], index=[name]).fillna(0).astype(int)
    table.columns = TABLE_COLUMNS
    return table


def published_table() -> pd.DataFrame:
    """The published MUSIC-AVQA numbers we know (DESIGN.md section 4), rows named with their release."""
    table = pd.DataFrame([{c: values.get(c, np.nan) for c in TABLE_COLUMNS} for values in PUBLISHED.values()])
    table.index = list(PUBLISHED)
    table.columns = TABLE_COLUMNS
    return table


def template_table(records: Sequence[QARecord], predictions: Mapping[int, str] | pd.DataFrame) -> pd.DataFrame:
    """Accuracy (%) per question template, in taxonomy order; templates absent from the split are left out."""
    rows = correctness(records, predictions)
    stats = rows.groupby("template")["correct"].agg(["size", "sum"])
    out = []
    for t in TEMPLATES:
        if t.key in stats.index:
            n, right = stats.loc[t.key]
            out.append(dict(template=t.key, group=t.group, type=t.subtype, question=t.text,
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
                           video_of=batch["video_of"])
        best = output.answer_logits.argmax(-1).cpu().numpy()
        qids = batch["question_id"].cpu().numpy()
        video_rows = batch["video_index"].cpu().numpy()  # [V]
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
    grade = data.release == "synthetic" if grade is None else grade
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
    parser.add_argument("data", type=Path, help="folder with avqa-{split}.json")
    parser.add_argument("--store", type=Path, default=None, help="folder with the {split}/ feature stores (default DATA/store)")
    parser.add_argument("--split", default="test", help="split to evaluate (default test)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: next to the checkpoint, eval/)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA when present, else CPU)")
    parser.add_argument("--name", default="SaSR-Net", help="row name in the tables")


def load_model(checkpoint: str | Path, device: str | torch.device | None = None):
    """(model in eval mode, Checkpoint) from a checkpoint file."""
    from sasr_lite.checkpoint import load_checkpoint
    from sasr_lite.device import pick_device
    from sasr_lite.model import SaSRNet

    ckpt = load_checkpoint(checkpoint)
    model = SaSRNet(ckpt.model_config)
    model.load_state_dict(ckpt.model_state)
    return model.to(pick_device(str(device) if device is not None else None)).eval(), ckpt


def run(args: argparse.Namespace) -> int:
    from sasr_lite.train import load_data

    model, ckpt = load_model(args.checkpoint, args.device)
    data = load_data(args.data, args.store, splits=(args.split,), vocabularies=ckpt.vocabularies)
    report = evaluate_split(model, data, args.split, args.name, args.batch_size)
    described = data.annotations[args.split]
    out = args.out or args.checkpoint.parent / "eval"
    table = report.table
    if described["release"] in ("json_update", "original"):  # MUSIC-AVQA: the published numbers beside ours
        table = pd.concat([table.rename(index={args.name: f"{args.name} (ours; {described['release']} release)"}),
                           published_table()])
    print(f"{args.split} split: {described['records']} questions, release {report.release} "
          f"(model trained on the {ckpt.release} release); checkpoint {args.checkpoint} (epoch {ckpt.epoch + 1})")
    print(format_table(table))
    if report.table.attrs.get("unknown_answers"):
        print(f"{report.table.attrs['unknown_answers']} questions have answers outside the train vocabulary "
              "(counted wrong)")
    if report.attention:
        print(format_table(attention_table([report])))
    write_text_atomic(out / f"{args.split}_table.csv", table.to_csv())
    write_text_atomic(out / f"{args.split}_templates.csv", report.templates.to_csv())
    write_text_atomic(out / f"{args.split}_predictions.csv", report.predictions.frame.to_csv(index=False))
    write_json_atomic(out / f"{args.split}_results.json", {
        **report.summary(), "checkpoint": str(args.checkpoint), "epoch": ckpt.epoch,
        "train_release": ckpt.release, "annotations": described,
    })
    print(f"wrote {out}")
    return 0

