#!/usr/bin/env python
"""Extract MUSIC-AVQA features from the videos: `sasr-lite extract` with the dataset's folders.

  data/music_avqa/videos/<id>.mp4  ->  data/music_avqa/feats/vggish/<id>.npy        [60, 128]
                                       data/music_avqa/feats/res18_14x14/<id>.npy   [60, 512, 14, 14]

Every other option goes to `sasr-lite extract` (see `sasr-lite extract --help`): --device,
--shard i/N (one process per GPU or machine), --batch-size, --weights-dir, --sha256,
--allow-random-weights. Resumable and idempotent: finished videos are skipped.
About 24 MB per video, 220 GB for all 9,288; `build_store.py` then keeps 2 MB of each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.cli import main as sasr_lite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=Path("data/music_avqa/videos"), help="folder of <id>.mp4")
    parser.add_argument("--out", type=Path, default=Path("data/music_avqa/feats"), help="feature folder")
    args, extract_args = parser.parse_known_args(argv)
    if not args.videos.is_dir():
        print(f"error: video folder not found: {args.videos} (see data_scripts/download_videos.py)", file=sys.stderr)
        return 2
    return sasr_lite(["extract", str(args.videos), "--out", str(args.out), *extract_args])


if __name__ == "__main__":
    sys.exit(main())
