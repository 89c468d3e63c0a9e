"""`sasr-lite build-store`: a feature store from the official per-video files of the videos that
annotation files (or an id list) name."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sasr_lite.data.official_features import build_from_official
from sasr_lite.data.store import AUDIO_SUBDIR, MAPS_SUBDIR, OFFICIAL_FRAMES, OFFICIAL_STRIDE, store_nbytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feature_root", type=Path, help=f"folder holding {AUDIO_SUBDIR}/ and {MAPS_SUBDIR}/")
    parser.add_argument("out", type=Path, help="store folder to create (e.g. data/store/train)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--annotations", type=Path, nargs="+", metavar="JSON",
                       help="store the videos these annotation files reference: MUSIC-AVQA's avqa-<split>.json "
                            "(video_id) or AVQA-Yang's <split>_qa.json (video_name)")
    which.add_argument("--ids", type=Path, metavar="TXT", help="store the video ids listed one per line")
    parser.add_argument("--stride", type=int, default=OFFICIAL_STRIDE, help="keep every n-th segment (default 6)")
    parser.add_argument("--frames", type=int, default=OFFICIAL_FRAMES,
                        help="segments per per-video file (60; AVQA-Yang's 10 s clips: 10, with --stride 1)")
    parser.add_argument("--skip-missing", action="store_true", help="leave out videos without features")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files build-store did not write (or changed since): move it aside to OUT.old-N")


def annotation_video_ids(paths: Sequence[str | Path]) -> list[str]:
    """Sorted ids of the videos the annotation files reference. A file named ``*_qa.json`` is
    read as AVQA-Yang's (`train_qa.json`, `val_qa.json`: its records' ``video_name``), any
    other as MUSIC-AVQA's (`avqa-<split>.json`: ``video_id``); `datasets.benchmark_for_file` tells."""
    from sasr_lite.data.datasets import benchmark_for_file

    return sorted({r.video_id for path in paths for r in benchmark_for_file(path).load_records(path)})


def run(args: argparse.Namespace) -> int:
    from sasr_lite.outputs import writing

    try:
        if args.annotations:
            ids = annotation_video_ids(args.annotations)
        else:
            ids = [line.strip() for line in args.ids.read_text().splitlines() if line.strip()]
        # the new store replaces the old folder in one rename (StoreWriter), so nothing is cleared first
        with writing(args.out, "build-store", overwrite=args.overwrite, clear=False):
            store = build_from_official(args.feature_root, ids, args.out, stride=args.stride,
                                        num_frames=args.frames, skip_missing=args.skip_missing)
    except (OSError, ValueError) as err:
        print(f"sasr-lite build-store: error: {err}", file=sys.stderr)
        return 1
    size = store_nbytes(len(store), store.T, store.P) / 1e9
    print(f"wrote {store.path}: {len(store)} videos, T={store.T}, P={store.P}, {size:.2f} GB float16")
    return 0
