#!/usr/bin/env python
"""Download the MUSIC-AVQA v2.0 annotations (balanced and biased train, val, test) and the
MUSIC-AVQA-R test files from their public GitHub repositories, each pinned to a commit and checked
against its pinned digest (`sasr_lite.data.published`), then parsed as MUSIC-AVQA records.

Writes, under --out (default data/)::

    music_avqa_v2/balanced/avqa-{train,val,test}.json   # QA-TIGER's balance_train / balance_valid / test_balance
    music_avqa_v2/biased/avqa-{train,val,test}.json     # bias_train / bias_valid / test_bias
    music_avqa_r/avqa-test-{headtail,head,tail}.json    # reml-group/MUSIC-AVQA-R, dataset/MUSIC-AVQA-R/
    SOURCE.json in each folder (URL, digest, release, question and video counts, SHA-256)

Renamed to the kit's layout, so `sasr-lite train data/music_avqa_v2/balanced` and `sasr-lite eval
... --release r` read them like MUSIC-AVQA; the release is told from the bytes, not the names. A
download goes to a hidden temporary file and is renamed into place only once its digest matches
and every record parses: a failed one leaves nothing behind (a file already there stays as it
was). A file you trust that differs from its pin (a mirror, a later commit) is accepted with
``--digest NAME=sha256:HEX`` (NAME: the kit path, e.g. music_avqa_v2/balanced/avqa-test.json).

Idempotent: a file already there that matches its pin is skipped (use --force to fetch again).
Without a network it fails after --timeout seconds naming the URL it tried. The new v2.0 videos
(YouTube ids, listed in the v2.0 repository's data/MUSIC-AVQA-v2.0_additional_videos.csv) go
through the same extraction scripts as MUSIC-AVQA's (download_videos.py, extract_features.py).
Licences: MUSIC-AVQA v2.0's repository is GPL-3.0; MUSIC-AVQA's annotations are CC BY-NC 4.0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sasr_lite.data.annotations import describe_annotations, load_annotations
from sasr_lite.data.files import write_json_atomic
from sasr_lite.data.published import PUBLISHED_FILES, PublishedFile, digests
from sasr_lite.features.download import DEFAULT_TIMEOUT, DownloadError, fetch_checked

DOWNLOADS = {f.kit_path: f for f in PUBLISHED_FILES if f.kit_path}
GROUPS = {"v2": "music_avqa_v2/", "r": "music_avqa_r/"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data"), help="data folder (default data/)")
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), default=sorted(GROUPS),
                        help="v2: MUSIC-AVQA v2.0, r: MUSIC-AVQA-R (default both)")
    parser.add_argument("--base-url", default=None,
                        help="a mirror: fetch <base-url>/<kit path> instead of each file's pinned GitHub URL")
    parser.add_argument("--digest", action="append", default=[], metavar="NAME=sha256:HEX",
                        help="accept this digest for the file NAME (its kit path) instead of the pinned one")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the network")
    parser.add_argument("--force", action="store_true", help="download again even when a matching file is present")
    return parser.parse_args(argv)


def accepted_digests(overrides: list[str]) -> dict[str, str]:
    """kit path -> the digest it must have: the pin, or a --digest override."""
    wanted = {name: f.digest for name, f in DOWNLOADS.items()}
    for item in overrides:
        name, _, digest = item.partition("=")
        if name not in wanted or not digest.startswith(("sha256:", "git-blob:")):
            raise ValueError(f"--digest {item!r}: expected NAME=sha256:HEX with NAME one of {sorted(wanted)}")
        wanted[name] = digest.lower()
    return wanted


def describe(path: Path, url: str, published: PublishedFile, digest: str) -> dict:
    """SOURCE.json entry of a file that matches ``digest`` and parses; ValueError otherwise."""
    if digest not in digests(path.read_bytes()):
        sha256, blob = digests(path.read_bytes())
        raise ValueError(f"digest mismatch: expected {digest}, got {sha256} ({blob})")
    entry = describe_annotations(path, load_annotations(path))
    return {"url": url, "source": f"github.com/{published.source[0]} @ {published.source[1]}: {published.path}",
            "digest": digest, **entry, "path": path.name}


def download(url: str, path: Path, published: PublishedFile, digest: str, timeout: float) -> dict:
    """Fetch ``url``, check digest and records, then rename it onto ``path``; nothing is left behind on failure."""
    return fetch_checked(url, path, lambda tmp: describe(tmp, url, published, digest), timeout)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wanted = accepted_digests(args.digest)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    names = [n for n in DOWNLOADS if any(n.startswith(GROUPS[g]) for g in args.only)]
    sources: dict[Path, dict] = {}
    for name in names:
        published, path = DOWNLOADS[name], args.out / name
        url = f"{args.base_url.rstrip('/')}/{name}" if args.base_url else published.url
        source_file = path.parent / "SOURCE.json"
        if source_file not in sources:
            sources[source_file] = json.loads(source_file.read_text()) if source_file.is_file() else {}
        if path.is_file() and not args.force:
            try:
                sources[source_file][path.name] = describe(path, url, published, wanted[name])
                print(f"{path}: present ({sources[source_file][path.name]['records']} questions), skipped")
                continue
            except ValueError as err:
                print(f"{path}: present but not the pinned file ({err}); downloading again")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            entry = download(url, path, published, wanted[name], args.timeout)
        except DownloadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except ValueError as err:
            kept = f"{path} was left as it was" if path.is_file() else f"nothing was written to {path}"
            print(f"error: {url} was refused ({kept}):\n  {err}", file=sys.stderr)
            return 1
        sources[source_file][path.name] = entry
        write_json_atomic(source_file, sources[source_file])
        print(f"{path}: {entry['records']} questions, {entry['videos']} videos, release {entry['release']}")
    for source_file, entries in sources.items():
        write_json_atomic(source_file, entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
