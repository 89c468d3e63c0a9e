"""The norms |X_t,p| of a store's maps, computed once per video and kept.

Spatial attention's cosine rule (3.4, ``spatial_norm="l2"``, and the official grounding) divides
each score by |X_t,p|. The maps are fixed features, so these norms never change during training,
yet computing them is a full read of the maps in every step (about 6% of a lesson training
step in the profiler; the step ran about 4% faster without it). `MapNorms` computes them the
first time a video is gathered and hands the kept ones out afterwards: the same float32 values,
since each is the same reduction over the same 512 channels.
"""

from __future__ import annotations

import numpy as np
import torch


class MapNorms:
    """A cache of ``vector_norm(maps[v], dim=-1)`` [T, P] per store row v, filled as videos are read.

    >>> norms = MapNorms(num_videos=len(store), segments=store.T, positions=store.P)
    >>> norms.of(rows, maps)   # maps [V, T, P, 512] float32 of store rows ``rows`` -> [V, T, P]
    """

    def __init__(self, num_videos: int, segments: int, positions: int) -> None:
        self.norms = torch.empty((num_videos, segments, positions), dtype=torch.float32)
        self.known = np.zeros(num_videos, dtype=bool)

    def of(self, rows: np.ndarray, maps: torch.Tensor) -> torch.Tensor:
        """rows [V] store rows, maps [V, T, P, C] float32 (those rows' maps) -> norms [V, T, P] float32."""
        if maps.dtype != torch.float32:
            raise ValueError(f"MapNorms keeps float32 norms of float32 maps, got maps of {maps.dtype}")
        rows = np.asarray(rows, dtype=np.int64)
        if maps.shape[:3] != (len(rows),) + tuple(self.norms.shape[1:]):
            raise ValueError(f"MapNorms: maps {tuple(maps.shape)} do not match {len(rows)} rows of "
                             f"[T, P] = {tuple(self.norms.shape[1:])}")
        for slot in np.flatnonzero(~self.known[rows]).tolist():
            row = int(rows[slot])
            if not self.known[row]:  # a row may appear twice (a negative that is also a positive)
                self.norms[row] = torch.linalg.vector_norm(maps[slot], dim=-1)
                self.known[row] = True
        return self.norms[torch.from_numpy(rows)]
