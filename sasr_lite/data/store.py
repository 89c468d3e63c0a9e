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

This module holds the format and the reader (`FeatureStore`). Writing is `store_writer`
(atomic, row by row), building from the official per-video files `official_features`, and the
`sasr-lite build-store` command `store_command`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from sasr_lite.data.files import read_json

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
