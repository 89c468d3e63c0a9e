"""`sasr-lite demo` (what `make demo` runs): the whole loop on the synthetic benchmark, on a CPU.

1. Generate the small synthetic benchmark into ``data/synth_small`` unless it is there (1,000
   videos, 20 questions each: features cost per video, questions almost nothing; scenes drawn
   from 8 of the 22 instrument classes, so that a few CPU minutes can teach which word names
   which sound).
2. Fit the baselines that never look or listen: the per-template answer prior and a
   question-only model.
3. Train SaSR-Net and its ablation without SLT and SaSR (paper Table 2's first row).
4. Evaluate all four on the test split in the paper's Table 1 layout, and grade the attention
   against the scenes' ground truth (pointing accuracy vs chance, temporal mass vs uniform).
5. Write ``runs/demo/``: report.md, metrics.csv, table.csv, templates.csv, results.json and
   PNG figures (training curves, accuracy per type, spatial and temporal attention).

To finish in minutes on two CPU cores the demo uses the lesson preset (`sasr_lite.presets`): a
reduced model width (d_model = word_dim = 128 instead of 512; every block and loss is the
paper's) and a short, faster schedule instead of the paper's 80 epochs at lr 1e-4, whose batches
keep up to 8 questions of a video together so the video path runs once for them. At the test scale
(SASR_LITE_SCALE=test, as `make test` sets) it runs the test preset: the tiny benchmark with the
tiny model (a smoke test).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import torch

from sasr_lite.cli import at_least
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.files import read_json, write_json_atomic, write_text_atomic
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.scale import resolve_scale
from sasr_lite.data.loading import TrainData, load_data
from sasr_lite.outputs import writing
from sasr_lite.presets import preset
from sasr_lite.synth.cache import ensure_benchmark
from sasr_lite.train import train

ABLATION = "SaSR-Net w/o SLT & SaSR"


def _baselines(data: TrainData, seed: int, smoke: bool) -> dict[str, dict[int, str]]:
    from sasr_lite.baselines import AnswerPrior, QuestionOnly

    train_records, test_records = data.records["train"], data.records["test"]
    prior = AnswerPrior().fit(train_records)
    question_only = QuestionOnly(data.question_vocab, data.answer_vocab, epochs=1 if smoke else 4,
                                 batch_size=64, lr=2e-3, d_model=64, seed=seed).fit(train_records)
    return {"answer prior": prior.predict(test_records), "question only": question_only.predict(test_records)}


def _figures(out: Path, histories: dict[str, pd.DataFrame], table: pd.DataFrame, report, data: TrainData) -> list[str]:
    """Write the four PNGs; return their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sasr_lite import plots
    from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask
    from sasr_lite.synth.scenes import kept_segments, load_scenes, scene_index

    names = []

    def save(fig, name: str) -> None:
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        names.append(name)

    for model_name, history in sorted(histories.items(), key=lambda item: item[0] != "SaSR-Net"):
        save(plots.training_curves(history, title=model_name),
             "curves.png" if model_name == "SaSR-Net" else "curves_ablation.png")
    save(plots.accuracy_by_type(table, title="synthetic test accuracy per question type"), "accuracy_by_type.png")

    # attention of SaSR-Net on the first test video (file order) with a sounding visible instrument
    store = data.stores["test"]
    scenes = scene_index(load_scenes(data.root / "scenes" / "test.json"))
    segments = kept_segments(store.stride or 6)
    row = next(r for r in sorted(report.predictions.spatial)
               if sounding_box_mask(scenes[store.ids[r]], segments).any())
    mask = sounding_box_mask(scenes[store.ids[row]], segments)
    save(plots.spatial_attention(report.predictions.spatial[row], mask,
                                 title=f"SaSR-Net spatial attention, test video {store.ids[row]}"), "spatial_attention.png")
    # temporal attention on the first test question (file order) about part of the video
    for record in data.records["test"]:
        asked = question_segments(scenes[record.video_id], record, segments)
        if 0 < asked.sum() < len(asked):
            weights = {"audio": report.predictions.temporal_a[record.question_id],
                       "visual": report.predictions.temporal_v[record.question_id]}
            save(plots.temporal_attention(weights, asked, title=f"\"{record.question}?\""), "temporal_attention.png")
            break
    return names


def _train_and_evaluate(name: str, model_config: SaSRConfig, config: TrainConfig, data_dir: Path, out: Path):
    """One model, in its own process: train it, then evaluate it on the test split."""
    from sasr_lite.evaluate import evaluate_split

    data = load_data(data_dir, splits=("train", "val", "test"))
    result = train(data, model_config, config, out_dir=out, name=name)
    return result.history, evaluate_split(result.model, data, "test", name)


def run_demo(data_dir: Path, out: Path, seed: int = 0, epochs: int | None = None, smoke: bool | None = None,
             overwrite: bool = False) -> dict:
    """The whole demo; returns the results dict also written to ``out/results.json``. ``out`` and
    ``data_dir`` follow the output rule (`sasr_lite.outputs`): the demo's own earlier output is
    replaced, anything else refused unless ``overwrite`` (which moves it aside)."""
    smoke = resolve_scale() == "test" if smoke is None else smoke
    scale = preset("test" if smoke else "lesson")
    model_config, config = scale.model, scale.demo
    # one thread per process: the two models train side by side, one per core (on a busy
    # machine two threads per process were up to 6x slower than one, from OpenMP contention)
    config = config.replace(seed=seed, epochs=config.epochs if epochs is None else epochs, num_threads=1,
                            progress=False)
    with writing(out, "demo", overwrite=overwrite):
        return _run_demo(data_dir, out, seed, smoke, model_config, config, overwrite)


def _run_demo(data_dir: Path, out: Path, seed: int, smoke: bool, model_config: SaSRConfig, config: TrainConfig,
              overwrite: bool) -> dict:
    from sasr_lite.evaluate import accuracy_table, attention_table, format_table, markdown_table

    start = time.perf_counter()
    ensure_benchmark(data_dir, preset("test" if smoke else "lesson").synth_size, seed=0, overwrite=overwrite)
    instruments = read_json(data_dir / "synth.json", "synth.json")["instruments"]
    data = load_data(data_dir, splits=("train", "val", "test"))
    counts = {s: len(r) for s, r in data.records.items()}
    print(f"benchmark {data_dir} ({data.release}): " + ", ".join(f"{s} {n} questions" for s, n in counts.items())
          + f"; scenes drawn from {len(instruments)} of the {len(INSTRUMENTS)} instrument classes")
    print(f"model: d_model={model_config.d_model}, word_dim={model_config.word_dim} (paper: 512); "
          f"{config.epochs} epochs, batch {config.batch_size} (up to {config.group} questions per video), "
          f"Adam lr {config.lr:g} x{config.gamma} every {config.step_size} epochs, seed {seed}; "
          "SaSR-Net and the ablation train in parallel", flush=True)

    models = {ABLATION: (model_config.replace(use_slt=False, use_sasr=False), "no-slt-sasr"),
              "SaSR-Net": (model_config, "sasr-net")}
    with ProcessPoolExecutor(max_workers=len(models), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(_train_and_evaluate, name, mc, config, data_dir, out / folder)
                   for name, (mc, folder) in models.items()}
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the baselines share the cores with the two trainings
        try:
            baselines = _baselines(data, seed, smoke)
        finally:
            torch.set_num_threads(threads)
        rows = [accuracy_table(data.records["test"], preds, name) for name, preds in baselines.items()]
        histories, reports = {}, {}
        for name, future in futures.items():
            histories[name], reports[name] = future.result()
            rows.append(reports[name].table)
    table = pd.concat(rows)
    attention = attention_table(list(reports.values()))
    seconds = time.perf_counter() - start

    prior_acc = table.loc["answer prior", ("Overall", "Avg")]
    ours_acc = table.loc["SaSR-Net", ("Overall", "Avg")]
    print("\nsynthetic test accuracy (%), paper Table 1 layout:")
    print(format_table(table, 1))
    print("\nattention vs ground truth (%):")
    print(format_table(attention, 1))
    print(f"\nSaSR-Net {ours_acc:.1f}% vs answer prior {prior_acc:.1f}% ({ours_acc - prior_acc:+.1f} points); "
          f"demo took {seconds:.0f} s")

    out.mkdir(parents=True, exist_ok=True)
    metrics = pd.concat([h.assign(model=name) for name, h in histories.items()], ignore_index=True)
    write_text_atomic(out / "metrics.csv", metrics.to_csv(index=False))
    write_text_atomic(out / "table.csv", table.to_csv())
    templates = reports["SaSR-Net"].templates.join(
        reports[ABLATION].templates[["accuracy"]].rename(columns={"accuracy": "accuracy w/o SLT & SaSR"}))
    write_text_atomic(out / "templates.csv", templates.to_csv())
    figures = _figures(out, histories, table, reports["SaSR-Net"], data)
    results = {
        "benchmark": str(data_dir), "release": data.release, "questions": counts, "instruments": instruments,
        "seed": seed,
        "model": model_config.to_dict(), "train": config.to_dict(), "seconds": seconds,
        "accuracy": {name: {f"{g}/{t}": v for (g, t), v in row.items()} for name, row in table.iterrows()},
        "attention": {name: r.attention for name, r in reports.items()},
        "figures": figures,
    }
    write_json_atomic(out / "results.json", json.loads(pd.Series(results).to_json()))
    write_text_atomic(out / "report.md", _report(results, table, attention, templates, figures, markdown_table))
    print(f"wrote {out}/report.md, metrics.csv, table.csv, templates.csv, results.json, {', '.join(figures)}")
    return results


def _palette_note(instruments: list[str]) -> str:
    """One sentence on the classes the scenes were drawn from, and why the demo uses fewer."""
    if len(instruments) == len(INSTRUMENTS):
        return f"Scenes are drawn from all {len(INSTRUMENTS)} instrument classes."
    return (f"Scenes are drawn from {len(instruments)} of the {len(INSTRUMENTS)} instrument classes "
            f"({', '.join(instruments)}): in a few CPU minutes a model learns which word names which sound "
            f"for these, but for few of all {len(INSTRUMENTS)}.")


def _report(results: dict, table: pd.DataFrame, attention: pd.DataFrame, templates: pd.DataFrame,
            figures: list[str], markdown_table) -> str:
    m, t = results["model"], results["train"]
    prior_acc = table.loc["answer prior", ("Overall", "Avg")]
    ours_acc = table.loc["SaSR-Net", ("Overall", "Avg")]
    lines = [
        "# sasr-lite demo report",
        "",
        f"Synthetic benchmark `{results['benchmark']}` (release: {results['release']}): "
        + ", ".join(f"{s} {n} questions" for s, n in results["questions"].items()) + ". "
        + _palette_note(results["instruments"]),
        f"Model width d_model = {m['d_model']}, word_dim = {m['word_dim']} (the paper uses 512; reduced so the "
        f"demo runs on a CPU); {t['epochs']} epochs, batch {t['batch_size']} (up to {t['group']} questions per video), Adam lr {t['lr']:g}, x{t['gamma']} "
        f"every {t['step_size']} epochs; lambdas {m['lambda_source']}/{m['lambda_reg']}/{m['lambda_match']}; "
        f"spatial attention `{m['spatial_norm']}`; seed {results['seed']}. Each model is evaluated after its last "
        f"epoch. The demo took {results['seconds']:.0f} s.",
        "",
        "## Test accuracy (%), paper Table 1 layout",
        "",
        markdown_table(table),
        "",
        f"SaSR-Net: {ours_acc:.1f}% overall, {ours_acc - prior_acc:+.1f} points over the per-template answer prior "
        f"({prior_acc:.1f}%; the kit's target for this demo is +20). Group averages are over questions (as in the "
        "paper's table).",
        "",
        "## Attention against the ground truth (%)",
        "",
        markdown_table(attention),
        "",
        "Pointing accuracy: share of (test video, kept segment) pairs with a sounding visible instrument where the "
        "spatial-attention peak lies in a sounding instrument's box; chance = the boxes' share of the 196 positions. "
        "Temporal mass: attention on the segments a question is about (questions about part of the video only); "
        "uniform = what equal weights would give.",
        "",
        "## Per template (SaSR-Net and the ablation)",
        "",
        markdown_table(templates[["group", "type", "questions", "accuracy", "accuracy w/o SLT & SaSR"]]),
        "",
        "## Figures",
        "",
    ]
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None,
                        help="benchmark folder (default data/synth_small, or data/synth_tiny with SASR_LITE_SCALE=test)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (the benchmark is always seed 0)")
    parser.add_argument("--epochs", type=at_least(1), default=None,
                        help=f"override the demo's {preset('lesson').demo.epochs} epochs")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT (or a stale --data) holds files the demo did not write: move it aside to NAME.old-N")


def run(args: argparse.Namespace) -> int:
    smoke = resolve_scale() == "test"
    data_dir = args.data or Path(f"data/synth_{preset('test' if smoke else 'lesson').synth_size}")
    run_demo(data_dir, args.out, seed=args.seed, epochs=args.epochs, smoke=smoke, overwrite=args.overwrite)
    return 0
