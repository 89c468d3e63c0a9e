"""`sasr-lite compare`: two evaluated runs on the same questions, A - B per Table 1 column.

Each run is a folder written by `sasr-lite eval` (its ``{split}_predictions.csv`` is read) or
such a predictions file itself (columns question_id, prediction). The ground truth comes from
the split's annotation file in ``DATA`` (MUSIC-AVQA ``avqa-{split}.json``, AVQA-Yang
``{split}_qa.json``), the one source of answers and question types;
the predictions files hold only what the models said. The intervals are `paired_bootstrap`'s::

    sasr-lite compare runs/full/eval runs/no-slt/eval --data data/synth_small --split test
    sasr-lite compare a/test_predictions.csv b/test_predictions.csv --data annotations/ --n-boot 2000
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd

from sasr_lite.cli import at_least
from sasr_lite.data.annotations import QARecord
from sasr_lite.data.datasets import detect_benchmark
from sasr_lite.evaluate import correctness, format_table, paired_bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", type=Path, help="run A: an eval output folder or a {split}_predictions.csv")
    parser.add_argument("run_b", type=Path, help="run B: likewise, on the same questions")
    parser.add_argument("--data", type=Path, required=True,
                        help="folder with the split's annotation file (the ground truth): avqa-{split}.json or {split}_qa.json")
    parser.add_argument("--split", default="test", help="split both runs were evaluated on (default test)")
    parser.add_argument("--n-boot", type=at_least(1), default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--level", type=float, default=0.95, help="interval coverage (default 0.95)")


def predictions_file(run: Path, split: str) -> Path:
    """The predictions CSV of ``run``: ``run/{split}_predictions.csv`` for a folder, else ``run``."""
    return run / f"{split}_predictions.csv" if run.is_dir() else run


def load_predictions(path: Path, records: list[QARecord]) -> pd.DataFrame:
    """The predictions CSV at ``path``, checked to answer exactly ``records``; errors name the file."""
    if not path.is_file():
        raise FileNotFoundError(f"predictions file not found: {path}")
    try:
        frame = pd.read_csv(path)
        correctness(records, frame)
    except (ValueError, pd.errors.ParserError) as err:  # EmptyDataError is a ValueError
        raise ValueError(f"{path}: {err}") from None
    return frame


def check_evaluated_on(predictions: Path, split: str, annotations: Path) -> None:
    """When ``predictions`` has its ``{split}_results.json`` beside it (as `sasr-lite eval` writes),
    the annotation file it records must be ``annotations`` byte for byte (SHA-256): ground truth
    from other files with the same question ids would grade the run against the wrong answers."""
    from sasr_lite.data.files import read_json

    results = predictions.parent / f"{split}_results.json"
    if not results.is_file():
        return
    info = read_json(results, "results file")
    recorded = info.get("annotations") if isinstance(info, dict) else None
    if not isinstance(recorded, dict) or not recorded.get("sha256"):
        return
    now = hashlib.sha256(annotations.read_bytes()).hexdigest()
    if recorded["sha256"] != now:
        raise ValueError(f"{results} records that {predictions.name} was evaluated on {recorded.get('path')} (sha256 "
                         f"{recorded['sha256'][:12]}), but {annotations} has sha256 {now[:12]}: compare with --data "
                         "holding the annotations the runs were evaluated on")


def comparison_text(result: pd.DataFrame, name_a: str, name_b: str) -> str:
    """`paired_bootstrap`'s frame as printed: the Table 1 columns as rows, then a verdict line."""
    level = round(100 * result.attrs["level"])
    shown = result.drop(columns="excludes_zero").rename(columns={
        "a": "A (%)", "b": "B (%)", "delta": "A-B", "low": f"{level}% low", "high": f"{level}% high"})
    shown.index = [f"{g} {t}" for g, t in result.index]
    shown["excludes 0"] = ["yes" if x else "" for x in result["excludes_zero"]]
    clear = [f"{g} {t} ({d:+.2f})" for (g, t), d in result.loc[result["excludes_zero"], "delta"].items()]
    verdict = (f"intervals excluding 0: {', '.join(clear)}" if clear
               else "no interval excludes 0: these questions do not tell the runs apart")
    return "\n".join([f"A = {name_a}", f"B = {name_b}",
                      f"paired percentile bootstrap, {result.attrs['n_boot']} resamples, seed {result.attrs['seed']}",
                      format_table(shown), verdict])


def run(args: argparse.Namespace) -> int:
    try:
        benchmark = detect_benchmark(args.data)
        annotations = benchmark.split_path(args.data, args.split)
        records = benchmark.load_records(annotations)
        files = [predictions_file(r, args.split) for r in (args.run_a, args.run_b)]
        for file in files:
            check_evaluated_on(file, args.split, annotations)
        runs = [load_predictions(f, records) for f in files]
        result = paired_bootstrap(records, *runs, n_boot=args.n_boot, seed=args.seed, level=args.level)
    except (FileNotFoundError, ValueError) as err:
        print(f"sasr-lite compare: error: {err}", file=sys.stderr)
        return 1
    print(comparison_text(result, str(files[0]), str(files[1])))
    return 0
