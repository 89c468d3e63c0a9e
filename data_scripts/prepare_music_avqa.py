#!/usr/bin/env python
"""Prepare MUSIC-AVQA end to end, each step idempotent (re-run it after fixing what stopped it):

  1. download_annotations.py   avqa-{train,val,test}.json (json_update release) -> data/music_avqa/
  2. download_weights.py       ResNet-18 + VGGish weights (SHA-256 checked)      -> data/weights/
  3. download_videos.py        instructions + check that every needed video is in data/music_avqa/videos/
  4. extract_features.py       VGGish + ResNet-18 per video                       -> data/music_avqa/feats/
  5. build_store.py            float16 stores, every 6th second                    -> data/music_avqa/store/<split>/

Stops at the first step that fails, with that step's message. Options after `--` go to step 4
(e.g. `-- --device cuda --shard 0/2`). Then train on the stores (see `sasr-lite train --help`).
"""

from __future__ import annotations

import argparse
import sys

import build_store
import download_annotations
import download_videos
import download_weights
import extract_features


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extract_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", choices=["json_update", "original"], default="json_update")
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    steps = [
        ("annotations", lambda: download_annotations.main(["--release", args.release])),
        ("weights", lambda: download_weights.main([])),
        ("videos", lambda: download_videos.main([])),
        ("features", lambda: extract_features.main(extract_args)),
        ("store", lambda: build_store.main([])),
    ]
    for name, step in steps:
        print(f"== {name}", flush=True)
        rc = step()
        if rc:
            print(f"prepare_music_avqa: step '{name}' failed (exit {rc}); fix it and run again", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
