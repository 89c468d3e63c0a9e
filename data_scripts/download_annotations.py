#!/usr/bin/env python
"""Download the MUSIC-AVQA annotation files (avqa-{train,val,test}.json) from the dataset's
public GitHub repository (GeWu-Lab/MUSIC-AVQA), check that they parse as MUSIC-AVQA records,
and write SOURCE.json beside them (URL, release detected from the record count, SHA-256).

Two releases: `json_update` (corrected, the default: 31,927 / 4,568 / 9,129 questions) and
`original` (32,087 / 4,595 / 9,185). Say which one every number comes from.

Idempotent: a split whose file is already there and parses is skipped (use --force to fetch
again). Without a network it fails after --timeout seconds naming the URL it tried.
Licence of the annotations: CC BY-NC 4.0 (non-commercial use).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sasr_lite.data.annotations import describe_annotations, load_annotations
from sasr_lite.data.files import write_json_atomic
from sasr_lite.features.download import DEFAULT_TIMEOUT, DownloadError, fetch

REPO_RAW = "https://raw.githubusercontent.com/GeWu-Lab/MUSIC-AVQA/main/data"
RELEASE_FOLDERS = {"json_update": "json_update", "original": "json"}
SPLITS = ("train", "val", "test")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/music_avqa"), help="folder for avqa-*.json")
    parser.add_argument("--release", choices=sorted(RELEASE_FOLDERS), default="json_update")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--base-url", help=f"URL of a folder with avqa-<split>.json (default {REPO_RAW}/<folder>)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the network")
    parser.add_argument("--force", action="store_true", help="download again even when a valid file is present")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = (args.base_url or f"{REPO_RAW}/{RELEASE_FOLDERS[args.release]}").rstrip("/")
    source_file = args.out / "SOURCE.json"
    sources = json.loads(source_file.read_text()) if source_file.is_file() else {}
    for split in args.splits:
        path = args.out / f"avqa-{split}.json"
        url = f"{base}/avqa-{split}.json"
        if path.is_file() and not args.force:
            try:
                sources[split] = {"url": url, **describe_annotations(path)}
                print(f"{path}: present ({sources[split]['records']} questions), skipped")
                continue
            except ValueError as err:
                print(f"{path}: present but unreadable ({err}); downloading again")
        try:
            fetch(url, path, timeout=args.timeout)
            sources[split] = {"url": url, **describe_annotations(path, load_annotations(path))}
        except DownloadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except ValueError as err:
            path.unlink(missing_ok=True)
            print(f"error: {url} is not a MUSIC-AVQA annotation file: {err}", file=sys.stderr)
            return 1
        print(f"{path}: {sources[split]['records']} questions, {sources[split]['videos']} videos, "
              f"release {sources[split]['release']}")
    write_json_atomic(source_file, sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
