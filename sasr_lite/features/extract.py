"""`sasr-lite extract`: VGGish and ResNet-18 features of videos, in the official MUSIC-AVQA layout.

    OUT/vggish/<id>.npy        float32 [60, 128]             one VGGish embedding per second
    OUT/res18_14x14/<id>.npy   float32 [60, 512, 14, 14]     ResNet-18 maps of one frame per second
    OUT/manifest.json          weights (hashes or "random"), rules, per-video status
                               (manifest-shard<i>-of-<N>.json with --shard)

Segment k is second [k, k+1): its audio patch is that second's first 96 log-mel frames (the
official extractor's per-second cut), its frame the one on screen at t = k s (see media.py).
Length rule: the first `--seconds` (60) seconds are kept; a shorter clip is padded by repeating
its last second (audio and frames separately), a clip without an audio track gets silence; the
manifest records the real counts. The video id is the file name without its suffix.

Resumable: a video whose two files exist with the right shapes is skipped; each file is written
to a temporary name and renamed, so an interrupted run never leaves a half-written .npy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from sasr_lite.cli import at_least
from sasr_lite.data.files import write_atomic, write_json_atomic
from sasr_lite.device import pick_device
from sasr_lite.features import media as media_io
from sasr_lite.features import vggish as vg
from sasr_lite.features import weights as wt
from sasr_lite.features.resnet import ResNet18Maps, frame_features
from sasr_lite.outputs import aside_name, folder_lock, move_aside

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
AUDIO_DIR, VISUAL_DIR = "vggish", "res18_14x14"
MAP_SHAPE = (512, 14, 14)
RULES = {
    "segment": "segment k = second [k, k+1)",
    "audio": "channel mean, resampled to 16 kHz; first 96 log-mel frames of each whole second",
    "frames": "frame on screen at the start of each second (t = k s, within half a frame)",
    "length": "first N seconds kept; shorter clips padded by repeating the last second; no audio -> silence",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, help="video files and/or folders of videos")
    parser.add_argument("--out", type=Path, required=True, help="output folder (vggish/, res18_14x14/, manifest)")
    parser.add_argument("--seconds", type=int, default=60,
                        help="segments per video (official MUSIC-AVQA: 60; AVQA-Yang's 10 s clips: 10)")
    parser.add_argument("--batch-size", type=int, default=32, help="frames / audio patches per forward pass")
    parser.add_argument("--decode-workers", type=int, default=2, help="videos decoded ahead in parallel threads")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: CUDA when present)")
    parser.add_argument("--shard", default="0/1", help="i/N: process every N-th video starting at i (sorted ids)")
    parser.add_argument("--weights-dir", type=Path, default=Path("data/weights"),
                        help="folder holding the upstream weight files (download_weights.py puts them there)")
    parser.add_argument("--resnet-weights", type=Path,
                        help="torchvision resnet18-f37072fd.pth (overrides --weights-dir)")
    parser.add_argument("--vggish-weights", type=Path, help="port's vggish-10086976.pth (overrides --weights-dir)")
    parser.add_argument("--pca-weights", type=Path, help="port's vggish_pca_params-970ea276.pth (with --pca)")
    parser.add_argument("--pca", action="store_true",
                        help="apply VGGish's PCA + 8-bit post-processing (the official MUSIC-AVQA features do not)")
    parser.add_argument("--sha256", action="append", metavar="KIND=HEX",
                        help=f"accept a weight file with this digest; KIND in {sorted(wt.KNOWN_WEIGHTS)}")
    parser.add_argument("--allow-random-weights", action="store_true",
                        help="run with random weights where a weight file is missing (features are meaningless)")
    parser.add_argument("--limit", type=at_least(1), default=None, help="process at most this many videos of the shard")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files extract did not write: move it aside to OUT.old-N (a folder extract "
                             "wrote is resumed: finished videos are skipped)")


def parse_shard(text: str) -> tuple[int, int]:
    """'i/N' -> (i, N) with 0 <= i < N."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/N (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {text}: need 0 <= i < N")
    return i, n


def list_videos(inputs: list[Path]) -> dict[str, Path]:
    """Video id (file stem) -> path, from files and folders; duplicate ids are an error."""
    found: dict[str, Path] = {}
    for item in inputs:
        if item.is_dir():
            paths = sorted(p for p in item.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        elif item.is_file():
            paths = [item]
        else:
            raise FileNotFoundError(f"input not found: {item}")
        for path in paths:
            if path.stem in found and found[path.stem] != path:
                raise ValueError(f"two videos share the id {path.stem!r}: {found[path.stem]} and {path}")
            found[path.stem] = path
    return dict(sorted(found.items()))


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Keep the first n rows; pad a shorter array by repeating its last row."""
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), axis=0)])


def _has_array(path: Path, shape: tuple[int, ...]) -> bool:
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return arr.shape == shape and arr.dtype == np.float32


def is_done(out: Path, video_id: str, seconds: int) -> bool:
    return _has_array(out / AUDIO_DIR / f"{video_id}.npy", (seconds, vg.EMBEDDING_SIZE)) and _has_array(
        out / VISUAL_DIR / f"{video_id}.npy", (seconds, *MAP_SHAPE)
    )


class Extractor:
    """Decoded clip -> (audio [seconds, 128], maps [seconds, 512, 14, 14], info) as float32 numpy."""

    def __init__(
        self, vggish: vg.VGGish, resnet: ResNet18Maps, device: torch.device, seconds: int, batch_size: int
    ) -> None:
        self.vggish = vggish.to(device).eval()
        self.resnet = resnet.to(device).eval()
        self.seconds, self.batch_size = seconds, batch_size
        self.silence = vg.waveform_to_segment_examples(np.zeros(vg.SAMPLE_RATE, np.float32), vg.SAMPLE_RATE)

    def __call__(self, clip: media_io.Media) -> tuple[np.ndarray, np.ndarray, dict]:
        patches = vg.waveform_to_segment_examples(clip.audio, clip.sample_rate)[: self.seconds]  # [K, 96, 64]
        audio_segments = len(patches)
        if audio_segments == 0:
            patches = self.silence
        audio = fit_length(vg.embed(self.vggish, patches, self.batch_size).numpy(), self.seconds)
        frames = clip.frames[: self.seconds]
        maps, _ = frame_features(self.resnet, frames, self.batch_size)
        visual = fit_length(maps.numpy(), self.seconds)
        info = {
            "video_seconds": len(frames),
            "audio_seconds": round(clip.audio_seconds, 3),
            "has_audio": clip.has_audio,
            "padded_audio": self.seconds - min(audio_segments, self.seconds),
            "padded_frames": self.seconds - len(frames),
        }
        return audio.astype(np.float32), visual.astype(np.float32), info


def load_models(args: argparse.Namespace) -> tuple[vg.VGGish, ResNet18Maps, dict, str | None]:
    """Weights from files (SHA-256 checked) or, when allowed, random; -> models, manifest record, warning."""
    overrides = wt.parse_sha256_overrides(args.sha256)
    paths = {
        "resnet18": args.resnet_weights or args.weights_dir / wt.KNOWN_WEIGHTS["resnet18"].filename,
        "vggish": args.vggish_weights or args.weights_dir / wt.KNOWN_WEIGHTS["vggish"].filename,
    }
    if args.pca:
        paths["vggish_pca"] = args.pca_weights or args.weights_dir / wt.KNOWN_WEIGHTS["vggish_pca"].filename
        if not paths["vggish_pca"].is_file():
            raise wt.WeightsError(f"--pca needs the PCA parameters, not found: {paths['vggish_pca']}")
    missing = [kind for kind, path in paths.items() if not path.is_file()]
    if missing and not args.allow_random_weights:
        listing = "\n".join(f"  {kind}: {paths[kind]}" for kind in missing)
        raise wt.WeightsError(
            f"weight files not found:\n{listing}\nDownload them with `python data_scripts/download_weights.py "
            f"--out {args.weights_dir}`, or pass --allow-random-weights to extract with random weights "
            f"(plumbing tests only: the features will be meaningless)"
        )
    record: dict[str, dict] = {}
    for kind, path in paths.items():
        if kind in missing:
            record[kind] = {"random": True, "seed": wt.RANDOM_SEED}
        else:
            digest = wt.verify_sha256(path, kind, overrides.get(kind))
            record[kind] = {"random": False, "path": str(path), "sha256": digest}
    resnet = (
        wt.random_resnet18()
        if "resnet18" in missing
        else wt.load_resnet18(paths["resnet18"], overrides.get("resnet18"))
    )
    vggish = (
        wt.random_vggish()
        if "vggish" in missing
        else wt.load_vggish(paths["vggish"], overrides.get("vggish"))
    )
    if args.pca:
        vggish.pproc = wt.load_pca(paths["vggish_pca"], overrides.get("vggish_pca"))
    warning = wt.warn_random_weights(missing) if missing else None
    return vggish, resnet, record, warning


def _fingerprint(manifest: dict) -> dict:
    """What must agree between runs writing into one folder: weights (by hash), PCA, length."""
    weights = {k: v.get("sha256", "random") for k, v in manifest.get("weights", {}).items()}
    return {"weights": weights, "seconds": manifest.get("seconds")}


def check_compatible(out: Path, manifest: dict) -> None:
    """Refuse to mix features from other weights or lengths in one output folder."""
    for path in sorted(out.glob("manifest*.json")):
        other = json.loads(path.read_text())
        if _fingerprint(other) != _fingerprint(manifest):
            raise wt.WeightsError(
                f"{out} already holds features made with other settings ({path.name}: "
                f"{_fingerprint(other)}; now: {_fingerprint(manifest)}); use another --out"
            )


def run(args: argparse.Namespace) -> int:
    try:
        for name in ("seconds", "batch_size", "decode_workers"):
            if getattr(args, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
        shard = parse_shard(args.shard)
        videos = list_videos(args.inputs)
        vggish, resnet, weights_record, warning = load_models(args)
    except (ValueError, FileNotFoundError, wt.WeightsError) as err:
        print(f"sasr-lite extract: error: {err}", file=sys.stderr)
        return 2
    out: Path = args.out
    foreign = _not_extracted(out)
    if foreign and not args.overwrite:
        print(f"sasr-lite extract: error: {out} holds files that sasr-lite extract did not write (no manifest*.json), "
              f"e.g. {foreign}; refusing to overwrite them: choose another --out, or --overwrite moves it aside to "
              f"{aside_name(out).name}", file=sys.stderr)
        return 2
    if foreign:
        move_aside(out)
    try:  # one lock per shard: the shards of one folder run side by side
        with folder_lock(out, "extract", name=f"-shard{shard[0]}-of-{shard[1]}"):
            return _extract(args, out, shard, videos, vggish, resnet, weights_record, warning)
    except FileExistsError as err:
        print(f"sasr-lite extract: error: {err}", file=sys.stderr)
        return 2


def _not_extracted(out: Path) -> str | None:
    """A file in ``out`` that marks it as not an extraction folder (None when it is one or is empty):
    an extraction folder holds its manifest*.json, and its {AUDIO_DIR}/ and {VISUAL_DIR}/."""
    if not out.exists():
        return None
    if not out.is_dir():
        return out.name
    if list(out.glob("manifest*.json")):
        return None
    return next((str(p.relative_to(out)) for p in sorted(out.rglob("*")) if p.is_file()), None)


def _extract(args, out: Path, shard, videos, vggish, resnet, weights_record, warning) -> int:
    device = pick_device(args.device)
    ids = list(videos)[shard[0] :: shard[1]][: args.limit]
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / ("manifest.json" if shard[1] == 1 else f"manifest-shard{shard[0]}-of-{shard[1]}.json")
    previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest = {
        "tool": "sasr-lite extract",
        "layout": {
            AUDIO_DIR: [args.seconds, vg.EMBEDDING_SIZE], VISUAL_DIR: [args.seconds, *MAP_SHAPE], "dtype": "float32"
        },
        "seconds": args.seconds,
        "rules": RULES,
        "weights": weights_record,
        "pca": bool(args.pca),
        "random_weights": warning is not None,
        "warning": warning,
        "shard": args.shard,
        "device": str(device),
        "videos": previous.get("videos", {}),
    }
    try:
        check_compatible(out, manifest)
    except wt.WeightsError as err:
        print(f"sasr-lite extract: error: {err}", file=sys.stderr)
        return 2
    extractor = Extractor(vggish, resnet, device, args.seconds, args.batch_size)
    todo = [v for v in ids if not is_done(out, v, args.seconds)]
    for vid in set(ids) - set(todo):
        manifest["videos"].setdefault(vid, {"status": "done", "source": str(videos[vid]), "note": "found on disk"})
    skipped = len(ids) - len(todo)
    failed: list[str] = []
    # decode the next videos in threads (PyAV releases the GIL) while one runs through the networks
    with ThreadPoolExecutor(max_workers=args.decode_workers) as pool:
        ahead = deque(pool.submit(media_io.read_media, videos[v], args.seconds) for v in todo[: args.decode_workers])
        for n, vid in enumerate(tqdm(todo, desc="extract", unit="video")):
            current = ahead.popleft()
            if n + args.decode_workers < len(todo):
                ahead.append(pool.submit(media_io.read_media, videos[todo[n + args.decode_workers]], args.seconds))
            start = time.perf_counter()
            try:
                audio, visual, info = extractor(current.result())
            except media_io.MediaError as err:
                failed.append(vid)
                manifest["videos"][vid] = {"status": "failed", "source": str(videos[vid]), "error": str(err)}
                tqdm.write(f"sasr-lite extract: {err}", file=sys.stderr)
                continue
            write_atomic(out / AUDIO_DIR / f"{vid}.npy", lambda f: np.save(f, audio))
            write_atomic(out / VISUAL_DIR / f"{vid}.npy", lambda f: np.save(f, visual))
            info["network_seconds"] = round(time.perf_counter() - start, 3)
            manifest["videos"][vid] = {"status": "done", "source": str(videos[vid]), **info}
            if n % 100 == 99:
                write_json_atomic(manifest_path, manifest)
    write_json_atomic(manifest_path, manifest)
    print(
        f"extracted {len(todo) - len(failed)}, skipped {skipped} already done, failed {len(failed)} "
        f"(shard {args.shard}, {len(ids)} videos) -> {out}" + (" [RANDOM WEIGHTS]" if warning else ""),
        file=sys.stderr,
    )
    if failed:
        print(f"failed: {', '.join(failed[:20])}{' ...' if len(failed) > 20 else ''}", file=sys.stderr)
    return 1 if failed else 0
