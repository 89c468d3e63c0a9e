"""`sasr-lite inspect FILE...`: what is in MUSIC-AVQA annotation files (or a feature store).

For each annotation file: its split and release, records and videos, counts per question type
(Table 1 order) and per template, and the answer distribution per type. ``--json`` prints the
same numbers as JSON for scripts; notebook 02 calls `summarize_file` for the same numbers.
A feature-store folder prints its manifest's sizes instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sasr_lite.data.annotations import QARecord, describe_annotations, load_annotations
from sasr_lite.data.store import MANIFEST, read_manifest, store_nbytes
from sasr_lite.data.taxonomy import SUBTYPES, TEMPLATES


def type_name(group: str, subtype: str) -> str:
    """"Audio-Visual/Temporal": how tables name a question type."""
    return f"{group}/{subtype}"


def summarize(records: Sequence[QARecord]) -> dict:
    """Counts per type, per template, and answers per type (every type and template listed)."""
    by_type = Counter(type_name(r.group, r.subtype) for r in records)
    by_template = Counter(r.template.key for r in records)
    answers: dict[str, Counter] = {type_name(*t): Counter() for t in SUBTYPES}
    for r in records:
        answers.setdefault(type_name(r.group, r.subtype), Counter())[r.answer] += 1
    return {
        "records": len(records),
        "videos": len({r.video_id for r in records}),
        "types": {type_name(*t): by_type[type_name(*t)] for t in SUBTYPES},
        "templates": {t.key: by_template[t.key] for t in TEMPLATES},
        "answers": dict(Counter(r.answer for r in records).most_common()),
        "answers_by_type": {name: dict(c.most_common()) for name, c in answers.items()},
    }


def summarize_file(path: str | Path) -> dict:
    """`summarize` of one annotation file, with its path, split, release and checksum."""
    records = load_annotations(path)
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
    lines += ["", f"  {'template':<24}{'records':>8}  text"]
    text = {t.key: t.text for t in TEMPLATES}
    lines += [f"  {key:<24}{count:>8,}  {text[key]}" for key, count in summary["templates"].items()]
    return "\n".join(lines)


def format_store_summary(summary: dict) -> str:
    state = "complete" if summary["complete"] else "INCOMPLETE (interrupted build)"
    return (f"{summary['path']}  (feature store, {state})\n"
            f"  videos {summary['num_videos']:,}   T {summary['num_segments']}   P {summary['num_positions']}"
            f"   stride {summary['stride']}   {summary['dtype']}   {summary['gigabytes']:.2f} GB\n"
            f"  source: {summary['source']}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="avqa-{train,val,test}.json files (or feature-store folders)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--top", type=int, default=5, help="answers shown per question type (default 5)")


def run(args: argparse.Namespace) -> int:
    summaries = []
    for path in args.files:
        try:
            is_store = path.is_dir() and (path / MANIFEST).is_file()
            summaries.append(summarize_store(path) if is_store else summarize_file(path))
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
