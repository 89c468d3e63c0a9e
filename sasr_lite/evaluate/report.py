"""One call for a trained model on one split: its predictions, tables and (on the synthetic
benchmark) its attention grades, in an `EvalReport`; and several reports' attention side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from sasr_lite.evaluate.attention import grade_attention
from sasr_lite.evaluate.predict import ModelPredictions, predict
from sasr_lite.evaluate.tables import accuracy_table, template_table


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
    """Predict ``split`` of a `data.loading.TrainData` with ``model`` and build the tables.

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
