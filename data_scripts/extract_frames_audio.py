#!/usr/bin/env python
"""Dump 1 fps frames and 16 kHz mono audio of videos, as the MUSIC-AVQA pre-processing does.

  OUT/frames/<id>/000001.jpg ...   frame k+1 = the frame on screen at t = k s (ffmpeg's -r 1 numbering)
  OUT/audio/<id>.wav               16 kHz mono PCM-16 (0 samples when the video has no audio)

`sasr-lite extract` decodes videos directly and does not need these; they are for looking at
the data, and for other tools that expect the official frame/audio folders. Idempotent: a video
whose frame folder and WAV exist is skipped; each is written under a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import soundfile as sf
from PIL import Image
from tqdm import tqdm

from sasr_lite.features.extract import list_videos
from sasr_lite.features.media import SAMPLE_RATE, MediaError, read_media


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=Path("data/music_avqa/videos"), help="folder of <id>.mp4")
    parser.add_argument("--out", type=Path, default=Path("data/music_avqa"), help="parent of frames/ and audio/")
    parser.add_argument("--max-seconds", type=int, default=None, help="keep at most this many seconds per video")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality")
    return parser.parse_args(argv)


def dump(video: Path, frames_dir: Path, wav: Path, max_seconds: int | None, quality: int) -> None:
    clip = read_media(video, max_seconds)
    if not frames_dir.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".{frames_dir.name}.", dir=frames_dir.parent))
        for k, frame in enumerate(clip.frames, start=1):
            Image.fromarray(frame).save(tmp / f"{k:06d}.jpg", quality=quality)
        tmp.rename(frames_dir)
    if not wav.exists():  # a video without an audio track gets an empty WAV (0 samples)
        tmp_wav = wav.with_name(f".{wav.name}.tmp.wav")
        sf.write(tmp_wav, clip.audio, SAMPLE_RATE, subtype="PCM_16")
        tmp_wav.replace(wav)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.videos.is_dir():
        print(f"error: video folder not found: {args.videos} (see data_scripts/download_videos.py)", file=sys.stderr)
        return 2
    (args.out / "frames").mkdir(parents=True, exist_ok=True)
    (args.out / "audio").mkdir(parents=True, exist_ok=True)
    failed = []
    for vid, path in tqdm(list_videos([args.videos]).items(), desc="frames+audio", unit="video"):
        frames_dir, wav = args.out / "frames" / vid, args.out / "audio" / f"{vid}.wav"
        if frames_dir.is_dir() and wav.is_file():
            continue
        try:
            dump(path, frames_dir, wav, args.max_seconds, args.quality)
        except MediaError as err:
            failed.append(vid)
            tqdm.write(f"error: {err}", file=sys.stderr)
    for leftover in (args.out / "frames").glob(".*"):  # temp folders of an interrupted run
        shutil.rmtree(leftover, ignore_errors=True)
    print(f"{args.out}/frames and {args.out}/audio ready; {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
