#!/usr/bin/env python
"""Download the AVQA-Yang annotation files (train_qa.json, val_qa.json) from the dataset's public
GitHub repository (AlyssaYoung/AVQA, folder data/annotation), check that they parse as AVQA-Yang
records, and write SOURCE.json beside them (URL, question and clip counts, SHA-256).

The public release has two splits: train and val (57,335 questions on 57,015 clips in all).
A download is kept only once every record parses: it goes to a hidden temporary file that is
renamed into place after the check, so a failed or malformed download leaves nothing behind (a
file already there stays as it was). If the repository moves its files, pass --base-url.

Idempotent: a split whose file is already there and parses is skipped (use --force to fetch
again). Without a network it fails after --timeout seconds naming the URL it tried.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sasr_lite.data.avqa_yang import load_records, split_file
from sasr_lite.data.files import write_json_atomic
from sasr_lite.features.download import DEFAULT_TIMEOUT, DownloadError, fetch_checked

REPO_RAW = "https://raw.githubusercontent.com/AlyssaYoung/AVQA/main/data/annotation"
SPLITS = ("train", "val")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/avqa_yang"), help="folder for <split>_qa.json")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--base-url", default=REPO_RAW,
                        help=f"URL of a folder with <split>_qa.json (default {REPO_RAW})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the network")
    parser.add_argument("--force", action="store_true", help="download again even when a valid file is present")
    return parser.parse_args(argv)


def describe(path: Path, url: str) -> dict:
    """SOURCE.json entry of a valid file; ValueError (naming the file) when it does not parse."""
    records = load_records(path)
    return {"url": url, "file": path.name, "records": len(records), "videos": len({r.video_id for r in records}),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}  # fmt: skip


def download(url: str, path: Path, timeout: float) -> dict:
    """Fetch ``url``, check it, then rename it onto ``path``; nothing is left behind on failure."""
    return fetch_checked(url, path, lambda tmp: describe(tmp, url), timeout)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = args.base_url.rstrip("/")
    source_file = args.out / "SOURCE.json"
    sources = json.loads(source_file.read_text()) if source_file.is_file() else {}
    for split in args.splits:
        path, url = args.out / split_file(split), f"{base}/{split_file(split)}"
        if path.is_file() and not args.force:
            try:
                sources[split] = describe(path, sources.get(split, {}).get("url", url))
                print(f"{path}: present ({sources[split]['records']} questions), skipped")
                continue
            except ValueError as err:
                print(f"{path}: present but unreadable ({err}); downloading again")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            sources[split] = download(url, path, args.timeout)
        except DownloadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except ValueError as err:
            kept = f"{path} was left as it was" if path.is_file() else f"nothing was written to {path}"
            print(f"error: {url} is not an AVQA-Yang annotation file ({split_file(split)}); {kept}:\n  {err}",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(f"{path}: {sources[split]['records']} questions on {sources[split]['videos']} clips")
        write_json_atomic(source_file, sources)
    write_json_atomic(source_file, sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
