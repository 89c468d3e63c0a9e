"""Ablation results as numbers: per-type differences with intervals, and `results/<scale>/ablations.json`.

Notebook 10 trains each variant with several seeds; `ablation_deltas` turns their test predictions
into ``{variant: {"Group/Type": [delta, low, high]}}``: the variant's accuracy minus the full
model's (percentage points, each question counted as the share of seeds that got it right) with
a 95% bootstrap interval that resamples each variant's seeds and then the test questions, paired
(`evaluate.paired_bootstrap_runs` with ``resample_runs``): runs of the same variant and seeds,
retrained on another CPU, differ by more than the question-only interval allows.
`write_ablations` checks and writes the file the README and the notebooks quote (atomically).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from sasr_lite.data.files import write_json_atomic
from sasr_lite.evaluate import paired_bootstrap_runs

ABLATIONS_FORMAT = "sasr-lite-ablations"
REQUIRED_VARIANTS = ("no_slt", "no_sasr", "no_sa", "no_ta")


def column_name(column) -> str:
    """A Table 1 column (group, type) as "Group/Type", e.g. "Audio-Visual/Location", "Overall/Avg"."""
    group, subtype = column
    return f"{group}/{subtype}"


def ablation_deltas(records, runs: Mapping[str, Sequence], reference: str = "full", n_boot: int = 1000,
                    seed: int = 0, level: float = 0.95) -> dict[str, dict[str, list[float]]]:
    """``{variant: {"Group/Type": [delta, low, high]}}`` for every variant of ``runs`` but ``reference``.

    ``runs``: variant -> its runs' test predictions (one per seed, each a {question_id: answer} or
    a predictions frame); delta = variant - reference in percentage points; the interval resamples
    seeds and questions (module docstring)."""
    if reference not in runs:
        raise ValueError(f"ablation_deltas: no runs of the reference variant {reference!r} (have {sorted(runs)})")
    out = {}
    for variant, predictions in runs.items():
        if variant == reference:
            continue
        table = paired_bootstrap_runs(records, list(predictions), list(runs[reference]), n_boot, seed, level,
                                      resample_runs=True)
        out[variant] = {column_name(c): [round(float(table.loc[c, k]), 3) for k in ("delta", "low", "high")]
                        for c in table.index}
    return out


# What each ablation should do on the lesson benchmark (synth/cues.py LESSON_CUES), from the equations:
# variant -> (SaSRConfig switches, the question types that should drop, why).
PREDICTIONS: dict[str, tuple[dict, tuple[str, ...], str]] = {
    "no_sa": (dict(use_spatial=False), ("Audio-Visual/Location",),
              "w_t,p = 1/P makes f_v,t^attn the pooled map; with position_in_pooled off the pooled map holds the "
              "classes but not their places, so 'where is the loudest', 'is the first sound on the left' lose "
              "their only source of position"),
    "no_ta": (dict(use_temporal=False), ("Audio-Visual/Temporal",),
              "a_t = 1/T makes the answer read the time average; the lesson cues write when a segment is into its "
              "features (time_in_features), but the average mixes early and late segments, and with "
              "order_in_time_average off it does not say who came in first, second, before or after"),
    "no_slt": (dict(use_slt=False), (),
               "f^s = f^r: the segments are no longer re-read against the class tokens; nothing on this benchmark "
               "is answerable only through them, so no type is predicted to drop"),
    "no_sasr": (dict(use_sasr=False), (),
                "f^g = f^s: no source-aware summary; L_source still trains the presence heads on the tokens, and "
                "no cue here needs the summary, so no type is predicted to drop"),
}


# SLT's self-attention (3.2) runs over the T segments and the tokens together, so every f^s_t is a
# weighted mix of all segments: the same SA and TA ablations on the model without SLT, measured
# against it (notebook 10's "SLT reads over time"). variant -> (switches, types that should drop, why).
WITHOUT_SLT_REFERENCE = "no_slt"
WITHOUT_SLT_PREDICTIONS: dict[str, tuple[dict, tuple[str, ...], str]] = {
    "no_sa": (dict(use_slt=False, use_spatial=False), ("Audio-Visual/Location",),
              "without SLT the audio query of SA at segment t is that segment's own sound, so w_t,p can peak on "
              "the instrument playing at t and f_v,t^attn carries its place; switching SA off leaves the pooled "
              "map, which holds no place"),
    "no_ta": (dict(use_slt=False, use_temporal=False), ("Audio-Visual/Temporal",),
              "without SLT no block mixes the segments before TA, so the question can pick the early or late "
              "ones it asks about; switching TA off leaves the time average, which mixes them"),
}


def prediction_check(deltas: Mapping[str, Mapping[str, Sequence[float]]],
                     predictions: Mapping = PREDICTIONS) -> list[dict]:
    """One row per predicted drop: variant, type, delta, low, high and ``shown`` (the whole interval
    below 0), for the notebook's verdict and the json file."""
    rows = []
    for variant, (_, types, _) in predictions.items():
        for name in types:
            delta, low, high = deltas[variant][name]
            rows.append(dict(variant=variant, type=name, delta=delta, low=low, high=high, shown=bool(high < 0)))
    return rows


def _check_deltas(deltas, where: str) -> list[str]:
    problems = []
    if not isinstance(deltas, dict):
        return [f"{where} must be a dict of variants"]
    for variant, cells in deltas.items():
        if not isinstance(cells, dict) or not cells:
            problems.append(f"{where}[{variant!r}] must be a non-empty dict of \"Group/Type\" cells")
            continue
        for name, cell in cells.items():
            if "/" not in name:
                problems.append(f"{where}[{variant!r}] key {name!r} is not spelled \"Group/Type\"")
            elif not (isinstance(cell, list) and len(cell) == 3 and all(isinstance(v, (int, float)) for v in cell)):
                problems.append(f"{where}[{variant!r}][{name!r}] must be [delta, low, high], got {cell!r}")
            elif all(math.isfinite(v) for v in cell) and not cell[1] <= cell[0] <= cell[2]:
                problems.append(f"{where}[{variant!r}][{name!r}] = {cell} does not satisfy low <= delta <= high")
    return problems


def write_ablations(path: str | Path, *, scale: str, cues: Mapping[str, bool], deltas: Mapping,
                    converged: Mapping[str, bool], cue_experiment: Mapping, slt_experiment: Mapping | None = None,
                    **extra) -> Path:
    """Check and write ``path`` (JSON, atomically): format, scale, cues (the benchmark's knobs),
    deltas (`ablation_deltas`, with every variant of REQUIRED_VARIANTS), converged ({run: bool}),
    cue_experiment (its own cues and deltas), slt_experiment (optional: its reference variant and
    deltas of no_sa and no_ta against it), and any ``extra`` keys. ValueError names the file and
    every problem; nothing is written then."""
    path = Path(path)
    problems = _check_deltas(dict(deltas), "deltas")
    missing = [v for v in REQUIRED_VARIANTS if v not in deltas]
    if missing:
        problems.append(f"deltas lacks the variants {missing}")
    if not cues or not all(isinstance(v, bool) for v in cues.values()):
        problems.append("cues must be a non-empty dict of knob -> bool")
    if not converged or not all(isinstance(v, bool) for v in converged.values()):
        problems.append("converged must be a non-empty dict of run -> bool")
    if not isinstance(cue_experiment, Mapping) or "deltas" not in cue_experiment:
        problems.append("cue_experiment must be a dict with its own deltas")
    else:
        for setting, cells in cue_experiment["deltas"].items():
            problems += _check_deltas(cells, f"cue_experiment.deltas[{setting!r}]")
    if slt_experiment is not None:
        if not isinstance(slt_experiment, Mapping) or not {"reference", "deltas"} <= set(slt_experiment):
            problems.append("slt_experiment must be a dict with its reference and deltas")
        else:
            problems += _check_deltas(slt_experiment["deltas"], "slt_experiment.deltas")
            lacking = [v for v in WITHOUT_SLT_PREDICTIONS if v not in slt_experiment["deltas"]]
            if lacking:
                problems.append(f"slt_experiment.deltas lacks the variants {lacking}")
    if problems:
        raise ValueError(f"{path}: not written: " + "; ".join(problems))
    document = {"format": ABLATIONS_FORMAT, "scale": scale, "cues": dict(cues), "deltas": dict(deltas),
                "converged": dict(converged), "cue_experiment": dict(cue_experiment), **extra}
    if slt_experiment is not None:
        document["slt_experiment"] = dict(slt_experiment)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(path, document)
