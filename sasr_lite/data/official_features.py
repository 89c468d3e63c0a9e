"""Building a feature store from the official per-video files (`vggish/<id>.npy` and
`res18_14x14/<id>.npy`, docs/design.md section 2.5): every 6th segment, maps reordered to [T, P, 512]."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.std import tqdm

from sasr_lite.data.store import (AUDIO_DIM, AUDIO_SUBDIR, MAPS_SUBDIR, OFFICIAL_FRAMES, OFFICIAL_MAP_SIDE,
                                  OFFICIAL_STRIDE, VISUAL_DIM, FeatureStore)
from sasr_lite.data.store_writer import StoreWriter


def official_paths(feature_root: str | Path, video_id: str) -> tuple[Path, Path]:
    """(`vggish/<id>.npy`, `res18_14x14/<id>.npy`) under ``feature_root``."""
    root = Path(feature_root)
    return root / AUDIO_SUBDIR / f"{video_id}.npy", root / MAPS_SUBDIR / f"{video_id}.npy"


def load_official_video(
    feature_root: str | Path, video_id: str, stride: int = OFFICIAL_STRIDE, num_frames: int = OFFICIAL_FRAMES
) -> dict[str, np.ndarray]:
    """One video's kept segments: {"audio" [T,128], "visual" [T,512], "maps" [T,P,512]} float32.

    Reads only every ``stride``-th segment (frames 0, 6, ..., 54 for T = 10, as the reference's
    `[::6]`). Maps go from the official [60,512,14,14] to [T, 196, 512] (position p = row*14 +
    col), one frame at a time; the pooled visual vector is the spatial mean of the maps.
    Errors name the file.
    """
    audio_file, maps_file = official_paths(feature_root, video_id)
    side = OFFICIAL_MAP_SIDE
    audio = _open_checked(audio_file, (num_frames, AUDIO_DIM), "[frames, 128] VGGish")
    source = _open_checked(maps_file, (num_frames, VISUAL_DIM, side, side), "[frames, 512, 14, 14] ResNet-18")
    audio = np.asarray(audio[::stride], dtype=np.float32)
    kept = range(0, num_frames, stride)
    maps = np.empty((len(kept), side * side, VISUAL_DIM), dtype=np.float32)  # [T, P, 512]
    for t, frame in enumerate(kept):
        maps[t] = source[frame].reshape(VISUAL_DIM, side * side).T
    for file, values in ((audio_file, audio), (maps_file, maps)):
        if not np.isfinite(values).all():
            raise ValueError(f"{file}: contains NaN or inf in the kept segments")
    visual = maps.mean(axis=1)  # [T, 512]: global average pooling, as the reference's pooled vector
    return {"audio": audio, "visual": visual, "maps": maps}


def _open_checked(file: Path, shape: tuple[int, ...], meaning: str) -> np.ndarray:
    """Memory-map an official .npy after checking it exists, reads, and has the right shape/dtype."""
    if not file.is_file():
        raise FileNotFoundError(f"missing feature file: {file}")
    try:
        array = np.load(file, mmap_mode="r")
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{file}: not a readable .npy array ({err})") from None
    if array.shape != shape:
        hint = ""
        if array.ndim == len(shape) and array.shape[1:] == shape[1:]:
            hint = f" (it has {array.shape[0]} frames; the official files have {shape[0]}, one per second)"
        raise ValueError(f"{file}: shape {list(array.shape)}, expected {list(shape)} {meaning}{hint}")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{file}: dtype {array.dtype}, expected float32 (any float dtype is accepted)")
    return array


def build_from_official(
    feature_root: str | Path,
    ids: Sequence[str],
    out: str | Path,
    stride: int = OFFICIAL_STRIDE,
    num_frames: int = OFFICIAL_FRAMES,
    skip_missing: bool = False,
    progress: bool = True,
) -> FeatureStore:
    """Build a store at ``out`` from `vggish/<id>.npy` and `res18_14x14/<id>.npy` files.

    Streams one video at a time (about 4 MB in memory) with a progress bar; atomic (see
    `StoreWriter`). Videos whose files are missing raise FileNotFoundError listing the first
    few ids, unless ``skip_missing=True``, which leaves them out with a warning giving the count.
    """
    if stride < 1 or stride > num_frames:
        raise ValueError(f"stride must be in 1..{num_frames}, got {stride}")
    ids = list(dict.fromkeys(str(i) for i in ids))
    missing = [v for v in ids if not all(p.is_file() for p in official_paths(feature_root, v))]
    if missing:
        if not skip_missing:
            audio_file, maps_file = official_paths(feature_root, missing[0])
            raise FileNotFoundError(
                f"features missing for {len(missing)} of {len(ids)} videos under {feature_root} "
                f"(first ids: {missing[:5]}; expected e.g. {audio_file} and {maps_file}); "
                "pass skip_missing=True (--skip-missing) to leave them out"
            )
        warnings.warn(f"skipping {len(missing)} of {len(ids)} videos with missing features under {feature_root}")
        skipped = set(missing)
        ids = [v for v in ids if v not in skipped]
    T = len(range(0, num_frames, stride))
    source = f"official per-video features: {Path(feature_root).resolve()} ({AUDIO_SUBDIR}, {MAPS_SUBDIR})"
    with StoreWriter(out, ids, num_segments=T, num_positions=OFFICIAL_MAP_SIDE**2, source=source,
                     stride=stride, metadata={"num_frames": num_frames}) as writer:
        for i, video_id in enumerate(tqdm(ids, desc=f"building {Path(out).name}", unit="video", disable=not progress)):
            writer.write(i, **load_official_video(feature_root, video_id, stride, num_frames))
    return FeatureStore.open(out)
