#!/usr/bin/env python
"""Build AVQA-Yang's float16 feature stores (one per split) from the extracted per-clip features:
`sasr-lite build-store` for the clips of each <split>_qa.json, keeping every segment (T = 10).

  data/avqa_yang/feats/{vggish,res18_14x14}/<video_name>.npy  ->  data/avqa_yang/store/<split>/

MUSIC-AVQA's 60 s videos have 60 one-second segments and its stores keep every 6th; AVQA-Yang's
10 s clips have 10, all kept (stride 1), so T = 10 and the model's shapes are the same. Rows are
keyed by the annotations' `video_name`, the layout `sasr-lite train DATA` / `eval` read:
DATA/train_qa.json, DATA/val_qa.json and DATA/store/{train,val}/.

Idempotent: a split whose store is complete and holds exactly the clips its annotation file
needs is skipped (--force rebuilds it). Stores are written atomically by `build-store`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.cli import main as sasr_lite
from sasr_lite.data.avqa_yang import load_records, split_file
from sasr_lite.data.official_features import official_paths
from sasr_lite.data.store import FeatureStore

CLIP_SECONDS = 10  # segments per extracted clip
STRIDE = 1  # keep every segment: T = 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data/avqa_yang"), help="folder with <split>_qa.json")
    parser.add_argument("--feats", type=Path, help="per-clip feature folder (default DATA/feats)")
    parser.add_argument("--out", type=Path, help="store folder (default DATA/store)")
    parser.add_argument("--splits", nargs="+", default=["train", "val"])
    parser.add_argument("--skip-missing", action="store_true", help="leave out clips without features")
    parser.add_argument("--force", action="store_true", help="rebuild stores that are already complete")
    return parser.parse_args(argv)


def up_to_date(store_dir: Path, ids: list[str]) -> bool:
    try:
        store = FeatureStore.open(store_dir)
    except (FileNotFoundError, ValueError):
        return False
    return (sorted(store.ids) == ids and store.stride == STRIDE and store.T == CLIP_SECONDS
            and store.manifest.get("num_frames") == CLIP_SECONDS)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    feats, out = args.feats or args.data / "feats", args.out or args.data / "store"
    for split in args.splits:
        annotations = args.data / split_file(split)
        if not annotations.is_file():
            print(f"error: {annotations} not found (run data_scripts/download_avqa_yang_annotations.py)",
                  file=sys.stderr)  # fmt: skip
            return 2
        try:
            ids = sorted({r.video_id for r in load_records(annotations)})
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        if args.skip_missing:  # the store will hold the clips that have features
            ids = [v for v in ids if all(p.is_file() for p in official_paths(feats, v))]
            if not ids:
                print(f"error: no clip of {annotations} has features under {feats} "
                      "(run data_scripts/extract_avqa_yang_features.py)", file=sys.stderr)  # fmt: skip
                return 1
        if not args.force and up_to_date(out / split, ids):
            print(f"{out / split}: complete ({len(ids)} clips), skipped")
            continue
        command = ["build-store", str(feats), str(out / split), "--annotations", str(annotations),
                   "--stride", str(STRIDE), "--frames", str(CLIP_SECONDS)]  # fmt: skip
        rc = sasr_lite(command + (["--skip-missing"] if args.skip_missing else []))
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
