#!/usr/bin/env python
"""Build the float16 feature stores (one per split) from the extracted per-video features:
`sasr-lite build-store` for each avqa-<split>.json, keeping every 6th second (T = 10).

  data/music_avqa/feats/{vggish,res18_14x14}/<id>.npy  ->  data/music_avqa/store/<split>/

Idempotent: a split whose store is complete and holds exactly the videos its annotation file
needs is skipped (--force rebuilds it). Stores are written atomically by `build-store`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.cli import main as sasr_lite
from sasr_lite.data.annotations import load_annotations
from sasr_lite.data.official_features import official_paths
from sasr_lite.data.store import FeatureStore


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data/music_avqa"), help="folder with avqa-<split>.json")
    parser.add_argument("--feats", type=Path, help="per-video feature folder (default DATA/feats)")
    parser.add_argument("--out", type=Path, help="store folder (default DATA/store)")
    parser.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    parser.add_argument("--stride", type=int, default=6, help="keep every n-th second (default 6: T = 10)")
    parser.add_argument("--skip-missing", action="store_true", help="leave out videos without features")
    parser.add_argument("--force", action="store_true", help="rebuild stores that are already complete")
    return parser.parse_args(argv)


def up_to_date(store_dir: Path, ids: list[str], stride: int) -> bool:
    try:
        store = FeatureStore.open(store_dir)
    except (FileNotFoundError, ValueError):
        return False
    return sorted(store.ids) == ids and store.stride == stride


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    feats, out = args.feats or args.data / "feats", args.out or args.data / "store"
    for split in args.splits:
        annotations = args.data / f"avqa-{split}.json"
        if not annotations.is_file():
            print(f"error: {annotations} not found (run data_scripts/download_annotations.py)", file=sys.stderr)
            return 2
        ids = sorted({r.video_id for r in load_annotations(annotations)})
        if args.skip_missing:  # the store will hold the videos that have features
            ids = [v for v in ids if all(p.is_file() for p in official_paths(feats, v))]
        if not args.force and up_to_date(out / split, ids, args.stride):
            print(f"{out / split}: complete ({len(ids)} videos), skipped")
            continue
        command = ["build-store", str(feats), str(out / split), "--annotations", str(annotations),
                   "--stride", str(args.stride)] + (["--skip-missing"] if args.skip_missing else [])  # fmt: skip
        try:
            rc = sasr_lite(command)
        except (FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
