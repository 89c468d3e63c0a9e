"""One DDP process's share of a `BatchLoader` epoch (`sasr_lite.train` under torchrun)."""

from __future__ import annotations

import math

import numpy as np

from sasr_lite.data.dataset import BatchLoader


class ShardedBatches:
    """One process's share of a BatchLoader's epoch, as DistributedSampler would give it.

    Training shards (``pad=True``): the epoch's shuffled order, padded by wrapping to a multiple
    of ``world * group``, then every world-th run of ``group`` items from ``rank`` (so questions
    the loader grouped by video stay together), cut into batches; every rank gets the same number
    of batches (DDP needs that). Evaluation shards (``pad=False``) split the items without repeats.
    """

    def __init__(self, loader: BatchLoader, rank: int, world: int, pad: bool = True):
        self.loader, self.rank, self.world, self.pad = loader, rank, world, pad

    def set_epoch(self, epoch: int) -> None:
        self.loader.set_epoch(epoch)

    def _items(self) -> np.ndarray:
        order = self.loader.order()
        if not self.pad:
            return order[self.rank :: self.world]
        g = self.loader.group
        total = math.ceil(len(order) / (self.world * g)) * self.world * g
        runs = np.resize(order, total).reshape(-1, g)  # wraps around, like DistributedSampler's padding
        return runs[self.rank :: self.world].ravel()

    def __len__(self) -> int:
        n, g = len(self.loader.dataset), self.loader.group
        per_rank = math.ceil(n / (self.world * g)) * g if self.pad else len(range(self.rank, n, self.world))
        b = self.loader.batch_size
        return per_rank // b if self.loader.drop_last else math.ceil(per_rank / b)

    def __iter__(self):
        items, b = self._items(), self.loader.batch_size
        for s in range(0, len(self) * b, b):
            yield self.loader.gather(items[s : s + b])
