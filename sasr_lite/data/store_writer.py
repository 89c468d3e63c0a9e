"""Writing a feature store (format: `sasr_lite.data.store`), atomically and one row at a time.

The arrays are built in a hidden sibling folder whose manifest says ``"complete": false``, and the
folder is renamed into place only after every row was written, so an interrupted build never
loads as complete. Rows are written with plain positioned file writes, not through a writable
memmap, so a build holds one video in memory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sasr_lite.data.files import naming_disk_full, process_alive, write_json_atomic
from sasr_lite.data.store import (AUDIO_DIM, DTYPE, FLOAT16_MAX, MANIFEST, STORE_FORMAT, STORE_VERSION, VISUAL_DIM,
                                  row_digest, store_nbytes)


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
