"""`sasr-lite inspect FILE...`: what is in annotation files (or a feature store).

For each annotation file: its split and release, records and videos, counts per question type
(the results table's order) and per template, and the answer distribution per type. An AVQA-Yang
file (`{split}_qa.json`, or ``--dataset avqa-yang``) also shows counts per question relation and
how often the right answer sits at each candidate position. ``--json`` prints the same numbers as
JSON for scripts; notebook 02 calls `summarize_file` for the same numbers. A feature-store folder
prints its manifest's sizes instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sasr_lite.cli import at_least
from sasr_lite.data.annotations import QARecord, describe_annotations
from sasr_lite.data.avqa_yang import position_balance
from sasr_lite.data.store import MANIFEST, read_manifest, store_nbytes
from sasr_lite.data.datasets import NAMES, benchmark_for_file, benchmark_of, get_benchmark
from sasr_lite.data.taxonomy import TEMPLATES


def type_name(group: str, subtype: str) -> str:
    """"Audio-Visual/Temporal": how tables name a question type."""
    return f"{group}/{subtype}"


def summarize(records: Sequence[QARecord]) -> dict:
    """Counts per type, per template, and answers per type (every type and MUSIC-AVQA template
    listed); for multiple choice also per relation and per answer position."""
    benchmark = benchmark_of(records)
    by_type = Counter(type_name(r.group, r.subtype) for r in records)
    by_template = Counter(r.template_key for r in records)
    answers: dict[str, Counter] = {type_name(*t): Counter() for t in benchmark.question_types}
    for r in records:
        answers.setdefault(type_name(r.group, r.subtype), Counter())[r.answer] += 1
    # MUSIC-AVQA: its 33 templates, then any MUSIC-AVQA-R stand-ins (rephrased questions)
    keys = [t.key for t in TEMPLATES] if benchmark.name == "music-avqa" else []
    keys += sorted(set(by_template) - set(keys))
    summary = {
        "dataset": benchmark.name,
        "records": len(records),
        "videos": len({r.video_id for r in records}),
        "types": {type_name(*t): by_type[type_name(*t)] for t in benchmark.question_types},
        "templates": {key: by_template[key] for key in keys},
        "answers": dict(Counter(r.answer for r in records).most_common()),
        "answers_by_type": {name: dict(c.most_common()) for name, c in answers.items()},
    }
    if benchmark.answer_format == "multiple_choice":
        summary["relations"] = dict(Counter(r.relation or "(none)" for r in records).most_common())
        summary["answer_positions"] = position_balance(records)
    return summary


def summarize_file(path: str | Path, dataset: str | None = None) -> dict:
    """`summarize` of one annotation file, with its path, split, release and checksum; ``dataset``
    names its benchmark (None: told from the file name, `datasets.benchmark_for_file`)."""
    benchmark = benchmark_for_file(path) if dataset is None else get_benchmark(dataset)
    records = benchmark.load_records(path)
    if not records:
        raise ValueError(f"{path}: the file holds no records")
    return {**describe_annotations(path, records), **summarize(records)}


def summarize_store(path: str | Path) -> dict:
    """Sizes from a feature store's manifest (it need not be complete)."""
    manifest = read_manifest(Path(path))
    N, T, P = manifest["num_videos"], manifest["num_segments"], manifest["num_positions"]
    keys = ("complete", "num_videos", "num_segments", "num_positions", "shapes", "dtype", "stride", "source")
    return {"path": str(path), "kind": "feature store", **{k: manifest.get(k) for k in keys},
            "gigabytes": store_nbytes(N, T, P) / 1e9}


def format_summary(summary: dict, top: int = 5) -> str:
    """A plain-text report of `summarize_file` (answers: the ``top`` most common per type)."""
    n = summary["records"]
    lines = [
        f"{summary['path']}  (split: {summary['split']}, release: {summary['release']})",
        f"  records {n:,}   videos {summary['videos']:,}   answers {len(summary['answers'])}",
        "",
        f"  {'question type':<28}{'records':>8}{'%':>7}  most common answers",
    ]
    for name, count in summary["types"].items():
        answers = summary["answers_by_type"][name]
        common = ", ".join(f"{a} {c / max(count, 1):.0%}" for a, c in list(answers.items())[:top])
        lines.append(f"  {name:<28}{count:>8,}{count / max(n, 1):>7.1%}  {common}")
    if "answer_positions" in summary:  # multiple choice: a file whose answers favour a position can be gamed
        positions = "   ".join(f"{p} {c / max(n, 1):.1%}" for p, c in summary["answer_positions"].items())
        relations = "   ".join(f"{r} {c:,}" for r, c in summary["relations"].items())
        lines += ["", f"  right answer at position: {positions}", f"  question relations: {relations}"]
    width = max([24, *(len(key) + 1 for key in summary["templates"])])  # -R stand-ins have long keys
    lines += ["", f"  {'template':<{width}}{'records':>8}  text"]
    text = {t.key: t.text for t in TEMPLATES}
    lines += [f"  {key:<{width}}{count:>8,}  {text.get(key, '')}" for key, count in summary["templates"].items()]
    return "\n".join(lines)


def format_store_summary(summary: dict) -> str:
    state = "complete" if summary["complete"] else "INCOMPLETE (interrupted build)"
    return (f"{summary['path']}  (feature store, {state})\n"
            f"  videos {summary['num_videos']:,}   T {summary['num_segments']}   P {summary['num_positions']}"
            f"   stride {summary['stride']}   {summary['dtype']}   {summary['gigabytes']:.2f} GB\n"
            f"  source: {summary['source']}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="annotation files: MUSIC-AVQA avqa-{split}.json, AVQA-Yang {split}_qa.json "
                        "(or feature-store folders)")
    parser.add_argument("--dataset", choices=NAMES, default=None,
                        help="the files' benchmark (default: told from each file name)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--top", type=at_least(1), default=5, help="answers shown per question type (default 5)")


def run(args: argparse.Namespace) -> int:
    summaries = []
    for path in args.files:
        try:
            is_store = path.is_dir() and (path / MANIFEST).is_file()
            summaries.append(summarize_store(path) if is_store else summarize_file(path, args.dataset))
        except (OSError, ValueError) as err:
            print(f"sasr-lite inspect: error: {err}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(summaries, indent=2))  # always a list, one entry per FILE
    else:
        formatted = [format_store_summary(s) if s.get("kind") == "feature store" else format_summary(s, args.top)
                     for s in summaries]
        print("\n\n".join(formatted))
    return 0
