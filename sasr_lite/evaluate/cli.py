"""`sasr-lite eval` (also `python -m sasr_lite.evaluate`): a checkpoint and a split -> tables
written with the annotation release recorded (``--ci`` adds the bootstrap intervals).
``--release r`` evaluates MUSIC-AVQA-R's three files instead (head, tail and overall with
bootstrap intervals)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sasr_lite.cli import at_least
from sasr_lite.data.datasets import AVG, OVERALL
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.evaluate.predict import load_model
from sasr_lite.evaluate.report import attention_table, evaluate_split
from sasr_lite.evaluate.statistics import bootstrap_table, head_tail_table, prior_accuracy, prior_warning
from sasr_lite.evaluate.tables import format_table, published_table


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
