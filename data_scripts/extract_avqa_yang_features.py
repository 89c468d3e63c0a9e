#!/usr/bin/env python
"""Extract AVQA-Yang features from its 10 s clips: `sasr-lite extract --seconds 10` with the
dataset's folders.

  data/avqa_yang/videos/<video_name>.mp4  ->  data/avqa_yang/feats/vggish/<video_name>.npy       [10, 128]
                                              data/avqa_yang/feats/res18_14x14/<video_name>.npy  [10, 512, 14, 14]

The same extractor as MUSIC-AVQA's (one VGGish embedding per whole second, the ResNet-18 maps of
the frame at the start of each second), over 10 segments instead of 60: a clip a little shorter
than 10 s is padded by repeating its last second (the manifest records it per clip), a longer
one is cut at 10 s. Every other option goes to `sasr-lite extract` (see `sasr-lite extract
--help`): --device, --shard i/N (one process per GPU or machine), --batch-size, --weights-dir,
--sha256, --allow-random-weights. Resumable and idempotent: finished clips are skipped.
About 4 MB per clip (float32), 229 GB for all 57,015; `build_avqa_yang_store.py` then keeps
them in float16 (2 MB per clip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.cli import main as sasr_lite

CLIP_SECONDS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=Path("data/avqa_yang/videos"), help="folder of <video_name>.mp4")
    parser.add_argument("--out", type=Path, default=Path("data/avqa_yang/feats"), help="feature folder")
    args, extract_args = parser.parse_known_args(argv)
    if any(a == "--seconds" or a.startswith("--seconds=") for a in extract_args):
        print(f"error: AVQA-Yang clips are {CLIP_SECONDS} s: --seconds is fixed at {CLIP_SECONDS}", file=sys.stderr)
        return 2
    if not args.videos.is_dir():
        print(f"error: video folder not found: {args.videos} (see data_scripts/download_avqa_yang_videos.py)",
              file=sys.stderr)  # fmt: skip
        return 2
    return sasr_lite(["extract", str(args.videos), "--out", str(args.out), "--seconds", str(CLIP_SECONDS),
                      *extract_args])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
