"""The feature store: one contiguous, memory-mapped float16 array per modality and split.

Layout of a store folder::

    manifest.json   ids, shapes, dtype, stride, source, complete flag
    audio.npy       float16 [N, T, 128]      VGGish, one row per kept segment
    visual.npy      float16 [N, T, 512]      pooled ResNet-18 (spatial mean of the maps)
    maps.npy        float16 [N, T, P, 512]   ResNet-18 layer4 maps, P = 14 * 14 positions

Why: the official layout is one float32 file per video with all 60 segments (24 MB); training
reads every 6th segment only. Keeping those (T = 10) in float16 makes a video 2 MB, about
19 GB for MUSIC-AVQA, which fits the page cache or one GPU, and a batch becomes one fancy-index
read from a contiguous array instead of 16 file opens (docs/design.md section 5.1).

Writing (`StoreWriter`) is atomic: the arrays are built in a hidden sibling folder whose
manifest says ``"complete": false`` and the folder is renamed into place only after every row
was written, so an interrupted build never loads as complete. Rows are written with plain
positioned file writes, not through a writable memmap, so a build holds one video in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.std import tqdm

from sasr_lite.data.files import naming_disk_full, process_alive, read_json, write_json_atomic

STORE_FORMAT = "sasr-lite-feature-store"
STORE_VERSION = 1
MANIFEST = "manifest.json"
MODALITIES = ("audio", "visual", "maps")
DTYPE = np.float16
FLOAT16_MAX = float(np.finfo(np.float16).max)  # 65504

AUDIO_DIM = 128  # VGGish embedding
VISUAL_DIM = 512  # ResNet-18 channels
# the official per-video layout (docs/design.md section 2.5)
OFFICIAL_FRAMES = 60  # one-second segments per video
OFFICIAL_MAP_SIDE = 14  # layer4 with stride 1 on 224x224 frames
OFFICIAL_STRIDE = 6  # training keeps every 6th segment -> T = 10
AUDIO_SUBDIR = "vggish"
MAPS_SUBDIR = "res18_14x14"


class FeatureStore:
    """A read-only view of a complete store; arrays are float16 memmaps (nothing is loaded)."""

    def __init__(self, path: Path, manifest: dict, audio: np.ndarray, visual: np.ndarray, maps: np.ndarray):
        self.path = path
        self.manifest = manifest
        self.ids: list[str] = list(manifest["ids"])
        self.audio = audio  # [N, T, 128]
        self.visual = visual  # [N, T, 512]
        self.maps = maps  # [N, T, P, 512]
        self._index = {video_id: i for i, video_id in enumerate(self.ids)}

    @property
    def T(self) -> int:
        return self.maps.shape[1]

    @property
    def P(self) -> int:
        return self.maps.shape[2]

    @property
    def stride(self) -> int | None:
        return self.manifest.get("stride")

    @property
    def source(self) -> str:
        return self.manifest.get("source", "")

    @property
    def digest(self) -> str | None:
        """One checksum of the whole store: SHA-256 over its ids and their recorded row checksums,
        in row order (read from the manifest, nothing recomputed); None when rows have no checksums."""
        rows = self.manifest.get("row_sha256")
        if not rows:
            return None
        return hashlib.sha256("".join(f"{i} {rows.get(i)}\n" for i in self.ids).encode()).hexdigest()

    def describe(self) -> dict:
        """What results record of the store they were computed from: its path and `digest`."""
        return {"path": str(self.path), "sha256": self.digest}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._index

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, N={len(self)}, T={self.T}, P={self.P})"

    def index_of(self, video_id: str) -> int:
        """Row of ``video_id``; KeyError naming the store when it is not there."""
        try:
            return self._index[video_id]
        except KeyError:
            raise KeyError(f"video {video_id!r} is not in the feature store {self.path}") from None

    @classmethod
    def open(cls, path: str | Path) -> "FeatureStore":
        """Open a store folder; errors name the file and say what is wrong."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"feature store not found: {path}")
        manifest = read_manifest(path)
        missing = [k for k in ("ids", "num_videos", "shapes", "complete") if k not in manifest]
        if missing:
            raise ValueError(f"{path / MANIFEST}: missing key(s) {missing} (store is damaged; rebuild it)")
        if not manifest.get("complete"):
            raise ValueError(
                f"{path}: incomplete feature store (its build was interrupted or is still running); "
                "build it again"
            )
        arrays = {}
        for name in MODALITIES:
            file = path / f"{name}.npy"
            if not file.is_file():
                raise FileNotFoundError(f"{path}: missing {file.name} (store is damaged; rebuild it)")
            try:
                array = np.load(file, mmap_mode="r")
            except EOFError:
                raise ValueError(f"{file}: empty or cut short (0 bytes of .npy header); rebuild the store") from None
            except ValueError as err:
                raise ValueError(f"{file}: not a readable .npy array ({err})") from None
            expected = tuple(manifest["shapes"][name])
            if array.shape != expected:
                raise ValueError(f"{file}: shape {list(array.shape)} differs from the manifest's {list(expected)}")
            if array.shape[0] != len(manifest["ids"]) or manifest["num_videos"] != len(manifest["ids"]):
                raise ValueError(f"{path / MANIFEST}: {len(manifest['ids'])} ids, num_videos {manifest['num_videos']}, "
                                 f"but {file.name} holds {array.shape[0]} rows (store is damaged; rebuild it)")
            if array.dtype != DTYPE:
                raise ValueError(f"{file}: dtype {array.dtype}, expected float16")
            arrays[name] = array
        return cls(path, manifest, **arrays)


def row_digest(audio: np.ndarray, visual: np.ndarray, maps: np.ndarray) -> str:
    """SHA-256 of one video's float16 rows: recorded by the writer under the video's id, so
    `sasr-lite verify-store` can tell a row that changed, or an id list that was reordered."""
    digest = hashlib.sha256()
    for row in (audio, visual, maps):
        digest.update(memoryview(np.ascontiguousarray(row, dtype=DTYPE)).cast("B"))  # no copy of float16 rows
    return digest.hexdigest()


def read_manifest(path: Path) -> dict:
    """The manifest of the store folder ``path`` (also of an incomplete one)."""
    file = path / MANIFEST
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no {MANIFEST}; not a feature store")
    manifest = read_json(file, "store manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        raise ValueError(f"{file}: not a {STORE_FORMAT} manifest")
    return manifest


def store_nbytes(num_videos: int, num_segments: int, num_positions: int,
                 audio_dim: int = AUDIO_DIM, visual_dim: int = VISUAL_DIM) -> int:
    """Bytes a store of these sizes takes on disk (float16)."""
    per_video = num_segments * (audio_dim + visual_dim + num_positions * visual_dim)
    return num_videos * per_video * np.dtype(DTYPE).itemsize


class StoreWriter:
    """Writes a store row by row; used as a context manager, completes atomically on exit.

    >>> with StoreWriter(out, ids, num_segments=10, num_positions=196, source="synthetic") as w:
    ...     for i in range(len(ids)):
    ...         w.write(i, audio=a_i, visual=v_i, maps=m_i)   # [T,128], [T,512], [T,P,512]

    Any float dtype is accepted and stored as float16. A leaving exception discards the
    partial build; leaving without one requires every row to have been written. An existing
    store at ``path`` is replaced only once the new one is complete.
    """

    def __init__(
        self,
        path: str | Path,
        ids: Sequence[str],
        num_segments: int = 10,
        num_positions: int = 196,
        source: str = "",
        stride: int | None = None,
        audio_dim: int = AUDIO_DIM,
        visual_dim: int = VISUAL_DIM,
        metadata: dict | None = None,
    ):
        self.path = Path(path)
        self.ids = [str(i) for i in ids]
        if not self.ids:
            raise ValueError(f"{self.path}: a feature store needs at least one video id")
        if len(set(self.ids)) != len(self.ids):
            seen: set[str] = set()
            duplicates = [i for i in self.ids if i in seen or seen.add(i)]
            raise ValueError(f"{self.path}: duplicate video ids, e.g. {duplicates[:5]}")
        if num_segments < 1 or num_positions < 1:
            raise ValueError(f"num_segments and num_positions must be >= 1, got {num_segments}, {num_positions}")
        N, T, P = len(self.ids), num_segments, num_positions
        self.shapes = {"audio": (T, audio_dim), "visual": (T, visual_dim), "maps": (T, P, visual_dim)}
        self.manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "complete": False,
            "ids": self.ids,
            "num_videos": N,
            "num_segments": T,
            "num_positions": P,
            "shapes": {name: [N, *shape] for name, shape in self.shapes.items()},
            "dtype": "float16",
            "stride": stride,
            "source": source,
            **(metadata or {}),
        }
        self._tmp = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        self._files: dict = {}
        self._offsets: dict[str, int] = {}
        self._written = np.zeros(N, dtype=bool)
        self._digests: dict[str, str] = {}

    def __enter__(self) -> "StoreWriter":
        if self.path.exists() and not (self.path.is_dir() and (
                (self.path / MANIFEST).is_file() or not any(self.path.iterdir()))):
            raise FileExistsError(f"{self.path} exists and is not a feature store; refusing to replace it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        need = store_nbytes(len(self.ids), *self.shapes["maps"][:2], self.shapes["audio"][1], self.shapes["visual"][1])
        free = shutil.disk_usage(self.path.parent).free
        if need > free:
            raise OSError(f"{self.path}: the store needs {need / 1e9:.1f} GB but only {free / 1e9:.1f} GB is free")
        _remove_leftovers_of_dead_builds(self.path)
        self._tmp.mkdir()
        write_json_atomic(self._tmp / MANIFEST, self.manifest)
        for name, shape in self.shapes.items():
            file = self._tmp / f"{name}.npy"
            # open_memmap writes the .npy header and sizes a sparse file; rows are then written
            # with positioned writes so that written pages never accumulate in this process.
            array = np.lib.format.open_memmap(file, mode="w+", dtype=DTYPE, shape=(len(self.ids), *shape))
            self._offsets[name] = array.offset
            del array
            self._files[name] = open(file, "r+b")
        return self

    def write(self, i: int, *, audio: np.ndarray, visual: np.ndarray, maps: np.ndarray) -> None:
        """Store row ``i``: audio [T,128], visual [T,512], maps [T,P,512], any float dtype."""
        if not self._files:
            raise RuntimeError("StoreWriter.write called outside its `with` block")
        if not 0 <= i < len(self.ids):
            raise IndexError(f"row {i} out of range for {len(self.ids)} videos")
        where = f"video {self.ids[i]!r} (row {i})"
        rows = {"audio": audio, "visual": visual, "maps": maps}
        for name, value in rows.items():
            rows[name] = _as_float16(value, self.shapes[name], f"{where}: {name}")
        for name, value in rows.items():
            f = self._files[name]
            f.seek(self._offsets[name] + i * value.nbytes)
            with naming_disk_full(f.name):
                f.write(memoryview(value).cast("B"))
        self._digests[self.ids[i]] = row_digest(**rows)
        self._written[i] = True

    def __exit__(self, exc_type, exc, tb) -> bool:
        for f in self._files.values():
            if exc_type is None:  # on disk before the manifest says complete
                with naming_disk_full(f.name):
                    f.flush()
                    os.fsync(f.fileno())
            f.close()
        self._files = {}
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return False
        missing = [self.ids[i] for i in np.flatnonzero(~self._written)]
        if missing:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise ValueError(
                f"{self.path}: {len(missing)} of {len(self.ids)} videos were never written "
                f"(first: {missing[:5]}); the store was not created"
            )
        # no time stamp: the same inputs write the same bytes (the file's mtime says when)
        self.manifest["row_sha256"] = {video_id: self._digests[video_id] for video_id in self.ids}
        self.manifest["complete"] = True
        write_json_atomic(self._tmp / MANIFEST, self.manifest)
        _swap_into_place(self._tmp, self.path)
        return False


def _remove_leftovers_of_dead_builds(path: Path) -> None:
    """Delete ``.NAME.partial-PID`` / ``.NAME.old-PID`` folders next to ``path`` whose process is
    gone (a killed build leaves its folder behind; a live one, even another build's, is kept)."""
    for leftover in path.parent.glob(f".{path.name}.*-*"):
        kind, _, pid = leftover.name.rpartition("-")
        if not (kind.endswith((".partial", ".old")) and pid.isdigit()):
            continue
        if int(pid) != os.getpid() and process_alive(int(pid)):
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _as_float16(value: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """Validate one row (shape, float dtype, finite, float16 range) and convert it."""
    value = np.asarray(value)
    if value.shape != shape:
        raise ValueError(f"{where} has shape {list(value.shape)}, expected {list(shape)}")
    if not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"{where} has dtype {value.dtype}, expected a float dtype")
    if not np.isfinite(value).all():
        raise ValueError(f"{where} contains NaN or inf")
    if value.dtype != DTYPE and max(value.max(initial=0.0), -value.min(initial=0.0)) > FLOAT16_MAX:
        raise ValueError(f"{where} has values beyond the float16 range (|x| > {FLOAT16_MAX:g})")
    return np.ascontiguousarray(value, dtype=DTYPE)


def _swap_into_place(tmp: Path, path: Path) -> None:
    """Rename the finished folder to ``path``; an old store there is removed only afterwards."""
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- building from the official per-video files ------------------------------------------------
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


# --- `sasr-lite build-store` -------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feature_root", type=Path, help=f"folder holding {AUDIO_SUBDIR}/ and {MAPS_SUBDIR}/")
    parser.add_argument("out", type=Path, help="store folder to create (e.g. data/store/train)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--annotations", type=Path, nargs="+", metavar="JSON",
                       help="store the videos these annotation files reference: MUSIC-AVQA's avqa-<split>.json "
                            "(video_id) or AVQA-Yang's <split>_qa.json (video_name)")
    which.add_argument("--ids", type=Path, metavar="TXT", help="store the video ids listed one per line")
    parser.add_argument("--stride", type=int, default=OFFICIAL_STRIDE, help="keep every n-th segment (default 6)")
    parser.add_argument("--frames", type=int, default=OFFICIAL_FRAMES,
                        help="segments per per-video file (60; AVQA-Yang's 10 s clips: 10, with --stride 1)")
    parser.add_argument("--skip-missing", action="store_true", help="leave out videos without features")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files build-store did not write (or changed since): move it aside to OUT.old-N")


def annotation_video_ids(paths: Sequence[str | Path]) -> list[str]:
    """Sorted ids of the videos the annotation files reference. A file named ``*_qa.json`` is
    read as AVQA-Yang's (`train_qa.json`, `val_qa.json`: its records' ``video_name``), any
    other as MUSIC-AVQA's (`avqa-<split>.json`: ``video_id``); `datasets.benchmark_for_file` tells."""
    from sasr_lite.data.datasets import benchmark_for_file

    return sorted({r.video_id for path in paths for r in benchmark_for_file(path).load_records(path)})


def run(args: argparse.Namespace) -> int:
    from sasr_lite.outputs import writing

    try:
        if args.annotations:
            ids = annotation_video_ids(args.annotations)
        else:
            ids = [line.strip() for line in args.ids.read_text().splitlines() if line.strip()]
        # the new store replaces the old folder in one rename (StoreWriter), so nothing is cleared first
        with writing(args.out, "build-store", overwrite=args.overwrite, clear=False):
            store = build_from_official(args.feature_root, ids, args.out, stride=args.stride,
                                        num_frames=args.frames, skip_missing=args.skip_missing)
    except (OSError, ValueError) as err:
        print(f"sasr-lite build-store: error: {err}", file=sys.stderr)
        return 1
    size = store_nbytes(len(store), store.T, store.P) / 1e9
    print(f"wrote {store.path}: {len(store)} videos, T={store.T}, P={store.P}, {size:.2f} GB float16")
    return 0
