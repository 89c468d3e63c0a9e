#!/usr/bin/env python
"""Prepare AVQA-Yang end to end, each step idempotent (re-run it after fixing what stopped it):

  1. download_avqa_yang_annotations.py  {train,val}_qa.json from github.com/AlyssaYoung/AVQA -> DATA/
  2. download_weights.py                ResNet-18 + VGGish weights (SHA-256 checked)         -> data/weights/
  3. download_avqa_yang_videos.py       instructions, clips.csv, and a check that every needed
                                        10 s clip is in DATA/videos/ with the right length
  4. extract_avqa_yang_features.py      VGGish + ResNet-18 per clip, 10 segments             -> DATA/feats/
  5. build_avqa_yang_store.py           float16 stores, every segment (T = 10)               -> DATA/store/<split>/

DATA is data/avqa_yang unless --data says otherwise. Stops at the first step that fails, with
that step's message. Options after `--` go to step 4 (e.g. `-- --device cuda --shard 0/2`).
Then train and evaluate on DATA (`sasr-lite train --help`, `sasr-lite eval --help`).
"""

from __future__ import annotations

import argparse
import sys

import build_avqa_yang_store
import download_avqa_yang_annotations
import download_avqa_yang_videos
import download_weights
import extract_avqa_yang_features


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extract_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/avqa_yang", help="dataset folder (default data/avqa_yang)")
    parser.add_argument("--skip-missing", action="store_true",
                        help="go on past missing or bad clips and build the stores from the clips that have "
                             "features (report how many were missing)")  # fmt: skip
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    data, skip = args.data, ["--skip-missing"] if args.skip_missing else []
    steps = [
        ("annotations", lambda: download_avqa_yang_annotations.main(["--out", data])),
        ("weights", lambda: download_weights.main([])),
        ("videos", lambda: download_avqa_yang_videos.main(["--data", data])),
        ("features", lambda: extract_avqa_yang_features.main(
            ["--videos", f"{data}/videos", "--out", f"{data}/feats", *extract_args])),
        ("store", lambda: build_avqa_yang_store.main(["--data", data, *skip])),
    ]
    for name, step in steps:
        print(f"== {name}", flush=True)
        rc = step()
        if rc == 1 and args.skip_missing and name in ("videos", "features"):
            print(f"prepare_avqa_yang: step '{name}' reported missing or failed clips (exit {rc}); "
                  "going on (--skip-missing)", file=sys.stderr)  # fmt: skip
            continue
        if rc:
            print(f"prepare_avqa_yang: step '{name}' failed (exit {rc}); fix it and run again", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
