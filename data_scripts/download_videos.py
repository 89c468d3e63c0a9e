#!/usr/bin/env python
"""MUSIC-AVQA videos: where to get them, and a check of which ones are still missing.

The videos are shared only through cloud drives that a script cannot fetch without a browser
login, so this script prints the instructions below, then checks your folder against the
annotation files: it lists the ids they need that are missing (also written to
missing_videos.txt beside the folder) and exits 1 until none are. Idempotent, no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.data.annotations import load_annotations
from sasr_lite.features.extract import VIDEO_SUFFIXES, list_videos

INSTRUCTIONS = """\
Get the MUSIC-AVQA videos (9,288 clips of about 60 s; 36.67 GB real + 11.59 GB synthetic),
as listed in the dataset's README (github.com/GeWu-Lab/MUSIC-AVQA; CC BY-NC 4.0):
  Google Drive folder  https://drive.google.com/drive/folders/1WAryZZE0srLIZG8VHl22uZ3tpbGHtsrQ
  Baidu Drive (password: cvpr)
    real videos        https://pan.baidu.com/s/1yVPfOXyDesHdUZFHK3tYog
    synthetic videos   https://pan.baidu.com/s/1b7HQbMdcfaWjsHdWiLWO2Q
Put every video, real and synthetic, directly in one folder as <video_id>.mp4
(e.g. data/music_avqa/videos/00000028.mp4), then run this script again to check."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=INSTRUCTIONS, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--videos", type=Path, default=Path("data/music_avqa/videos"), help="folder of <id>.mp4")
    parser.add_argument("--annotations", type=Path, nargs="+",
                        help="avqa-*.json files whose videos are needed (default: those in data/music_avqa)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(INSTRUCTIONS)
    annotation_files = args.annotations or sorted(Path("data/music_avqa").glob("avqa-*.json"))
    if not annotation_files:
        print("error: no annotation files: run data_scripts/download_annotations.py first "
              "or pass --annotations", file=sys.stderr)
        return 2
    needed = sorted({r.video_id for path in annotation_files for r in load_annotations(path)})
    present = set(list_videos([args.videos])) if args.videos.is_dir() else set()
    missing = [v for v in needed if v not in present]
    print(f"\n{args.videos}: {len(needed) - len(missing)} of {len(needed)} needed videos present "
          f"({', '.join(VIDEO_SUFFIXES)})")
    if missing:
        report = args.videos.parent / "missing_videos.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n".join(missing) + "\n")
        print(f"missing {len(missing)} (first: {', '.join(missing[:5])}); full list in {report}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
