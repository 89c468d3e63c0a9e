#!/usr/bin/env python
"""AVQA-Yang clips: which ones the annotations need, how to get them, and a check of your folder.

The clips are not in the dataset's GitHub repository. Each is a 10 s window of a VGGSound
YouTube video, named in the annotations by its `video_name`: <YouTube id>_<start second>
(e.g. --0PQM4-hqg_000030 is https://www.youtube.com/watch?v=--0PQM4-hqg, seconds [30, 40)).
This script prints the instructions below, writes the list of needed clips (clips.csv: name,
YouTube id, start, end, splits), then checks the video folder: a clip is present when
<video_name>.mp4 (or .mkv, .webm, ...) is there, and of the right length when the duration in
its header (read with PyAV) is within --tolerance of 10 s. Clips that are absent are listed in
missing_clips.txt, present clips of the wrong length or unreadable in bad_clips.txt (with the
reason); --commands FILE writes a bash script of yt-dlp commands fetching exactly those.
Exits 1 until every clip is present and of the right length. Idempotent, no network.
"""

from __future__ import annotations

import argparse
import csv
import io
import shlex
import sys
from pathlib import Path

from tqdm import tqdm

from sasr_lite.data.avqa_yang import load_records, split_file
from sasr_lite.data.files import write_text_atomic
from sasr_lite.features.extract import VIDEO_SUFFIXES, list_videos
from sasr_lite.features.media import MediaError, read_duration

CLIP_SECONDS = 10
SPLITS = ("train", "val")
INSTRUCTIONS = """\
Get the AVQA-Yang clips (57,015 clips of 10 s cut from VGGSound's YouTube videos; the
annotations name each <YouTube id>_<start second>), in one of these ways:
  1. The dataset's own download of raw videos (and its features), linked from its website
     https://mn.cs.tsinghua.edu.cn/avqa and the README of github.com/AlyssaYoung/AVQA
     (Baidu Netdisk https://pan.baidu.com/s/1nftHgOAGYSCF6j8MxCjPqA?pwd=awd7, or OneDrive);
     a browser is needed.
  2. VGGSound from its authors (https://www.robots.ox.ac.uk/~vgg/data/vggsound/): its clips are
     the same 10 s windows, [start, start + 10) s of each YouTube video.
  3. YouTube with yt-dlp, cutting [start, start + 10) s of each video: run this script with
     --commands get_clips.sh, then `bash get_clips.sh` (one yt-dlp line per missing clip;
     needs yt-dlp and ffmpeg). Some videos are no longer on YouTube: train and evaluate on the
     clips you have (build_avqa_yang_store.py --skip-missing) and say how many were missing.
Put every clip directly in one folder as <video_name>.mp4, named exactly as the annotations'
video_name (e.g. data/avqa_yang/videos/--0PQM4-hqg_000030.mp4), then run this script again."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=INSTRUCTIONS, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/avqa_yang"),
                        help="folder with <split>_qa.json; clips.csv and the lists are written there")
    parser.add_argument("--videos", type=Path, help="folder of <video_name>.mp4 (default DATA/videos)")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), help="splits whose clips are needed")
    parser.add_argument("--tolerance", type=float, default=0.5,
                        help="seconds a clip may differ from 10 s (default 0.5; raise it to accept clips that "
                             "end early because their YouTube video does: the extractor pads them)")
    parser.add_argument("--commands", type=Path, metavar="FILE",
                        help="write a bash script of yt-dlp commands for the missing and bad clips")
    return parser.parse_args(argv)


def vggsound_window(video_name: str) -> tuple[str, int]:
    """`<YouTube id>_<start>` -> (YouTube id, start second); ValueError for any other name."""
    youtube_id, sep, start = video_name.rpartition("_")
    if not sep or not youtube_id or not start.isdigit():
        raise ValueError(f"video_name {video_name!r} is not <YouTube id>_<start second>")
    return youtube_id, int(start)


def needed_clips(data: Path, splits: list[str]) -> dict[str, list[str]]:
    """video_name -> the splits that need it, sorted by name; errors name the file."""
    clips: dict[str, list[str]] = {}
    for split in splits:
        path = data / split_file(split)
        for record in load_records(path):
            vggsound_window(record.video_id)  # every name must say where its clip is
            if split not in clips.setdefault(record.video_id, []):
                clips[record.video_id].append(split)
    return dict(sorted(clips.items()))


def clips_csv(clips: dict[str, list[str]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["video_name", "youtube_id", "start_seconds", "end_seconds", "splits"])
    for name, splits in clips.items():
        youtube_id, start = vggsound_window(name)
        writer.writerow([name, youtube_id, start, start + CLIP_SECONDS, " ".join(splits)])
    return text.getvalue()


def check_length(path: Path, tolerance: float) -> str | None:
    """None when the clip lasts 10 s (within ``tolerance``), else what is wrong with it."""
    try:
        seconds = read_duration(path)
    except MediaError as err:
        return f"unreadable: {err}"
    if abs(seconds - CLIP_SECONDS) > tolerance:
        return f"lasts {seconds:.2f} s, not {CLIP_SECONDS} s (an uncut video, or a cut at the wrong place?)"
    return None


def yt_dlp_script(names: list[str], videos: Path) -> str:
    """A bash script fetching [start, start + 10) s of each clip's YouTube video to VIDEOS/<name>.mp4."""
    lines = ["#!/usr/bin/env bash",
             "# AVQA-Yang clips from YouTube (written by data_scripts/download_avqa_yang_videos.py)",
             "# needs yt-dlp and ffmpeg; a clip that fails is named on stderr and the script goes on",
             f"mkdir -p {shlex.quote(str(videos))}"]  # fmt: skip
    for name in names:
        youtube_id, start = vggsound_window(name)
        command = ["yt-dlp", "--quiet", "--no-warnings", "--force-overwrites",
                   "-f", "bv*[height<=480]+ba/b[height<=480]/b",
                   "--download-sections", f"*{start}-{start + CLIP_SECONDS}", "--force-keyframes-at-cuts",
                   "--merge-output-format", "mp4", "-o", str(videos / f"{name}.%(ext)s"),
                   f"https://www.youtube.com/watch?v={youtube_id}"]  # fmt: skip
        lines.append(f"{shlex.join(command)} || echo {shlex.quote(f'failed: {name}')} >&2")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    videos = args.videos or args.data / "videos"
    print(INSTRUCTIONS)
    try:
        clips = needed_clips(args.data, args.splits)
        present = list_videos([videos]) if videos.is_dir() else {}
    except FileNotFoundError as err:
        print(f"error: {err} (run data_scripts/download_avqa_yang_annotations.py first)", file=sys.stderr)
        return 2
    except ValueError as err:  # a malformed annotation file, or two videos with one name
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_text_atomic(args.data / "clips.csv", clips_csv(clips))
    missing = [name for name in clips if name not in present]
    bad = {}
    for name in tqdm([n for n in clips if n in present], desc="durations", unit="clip", leave=False):
        problem = check_length(present[name], args.tolerance)
        if problem:
            bad[name] = problem
    good = len(clips) - len(missing) - len(bad)
    others = len(set(present) - set(clips))
    print(f"\n{videos}: {good} of {len(clips)} needed clips present and {CLIP_SECONDS} s long "
          f"({', '.join(VIDEO_SUFFIXES)}); {len(missing)} missing, {len(bad)} of the wrong length or unreadable"
          + (f"; {others} other videos ignored" if others else ""))  # fmt: skip
    lists = {args.data / "missing_clips.txt": "".join(f"{n}\n" for n in missing),
             args.data / "bad_clips.txt": "".join(f"{n}\t{why}\n" for n, why in bad.items())}  # fmt: skip
    for path, text in lists.items():
        if text:
            write_text_atomic(path, text)
        else:
            path.unlink(missing_ok=True)  # a list from an earlier run would be stale
    if args.commands is not None:
        write_text_atomic(args.commands, yt_dlp_script(missing + list(bad), videos))
        print(f"{args.commands}: yt-dlp commands for {len(missing) + len(bad)} clips (run it with bash)")
    if missing:
        print(f"missing {len(missing)} (first: {', '.join(missing[:5])}); full list in "
              f"{args.data / 'missing_clips.txt'}", file=sys.stderr)  # fmt: skip
    if bad:
        first = next(iter(bad))
        print(f"wrong length or unreadable {len(bad)} (first: {first} {bad[first]}); full list in "
              f"{args.data / 'bad_clips.txt'}", file=sys.stderr)  # fmt: skip
    return 1 if missing or bad else 0


if __name__ == "__main__":
    sys.exit(main())
