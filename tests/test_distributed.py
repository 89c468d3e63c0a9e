"""Distributed data parallel on CPU: two gloo processes train in lockstep on disjoint shards."""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.synth.generate import generate
from sasr_lite.data.loading import load_data
from sasr_lite.data.sharding import ShardedBatches
from sasr_lite.train import train

WORLD = 2
# 2 epochs of 3 steps; per-rank batch 8, so one DDP step sees the 16 items of one single-process batch
CONFIG = TrainConfig(epochs=2, batch_size=8, max_batches=3, lr=1e-3, device="cpu", num_threads=1,
                     progress=False, tensorboard=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, root: str, out: str, port: int, switches: dict | None = None,
            config: TrainConfig = CONFIG) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank))
    result = train(load_data(root), SaSRConfig.tiny(**(switches or {})), config, out_dir=os.path.join(out, "run"))
    torch.save(result.model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    result.history.to_csv(os.path.join(out, f"history{rank}.csv"), index=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("synth") / "tiny", size="tiny", seed=0)


def test_two_gloo_processes_end_with_identical_weights(root, tmp_path):
    mp.spawn(_worker, args=(str(root), str(tmp_path), _free_port()), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    for name in ranks[0]:
        assert torch.equal(ranks[0][name], ranks[1][name]), name
    # the metrics are reduced over both ranks, so both histories agree; only rank 0 wrote the run folder
    h0, h1 = (pd.read_csv(tmp_path / f"history{r}.csv") for r in range(WORLD))
    pd.testing.assert_frame_equal(h0.drop(columns=["samples_per_s", "epoch_seconds"]),
                                  h1.drop(columns=["samples_per_s", "epoch_seconds"]))
    assert len(pd.read_csv(tmp_path / "run" / "metrics.csv")) == CONFIG.epochs

    # DDP averages the two shards' gradients: the same steps as one process with twice the batch
    single = train(load_data(root), SaSRConfig.tiny(), CONFIG.replace(batch_size=2 * CONFIG.batch_size))
    initial = train(load_data(root), SaSRConfig.tiny(), CONFIG.replace(epochs=1, max_batches=1, lr=1e-12))
    moved = 0
    for name, value in single.model.state_dict().items():
        assert torch.allclose(ranks[0][name], value, atol=2e-5), name
        moved += not torch.allclose(value, initial.model.state_dict()[name], atol=1e-6)
    assert moved > 10, "training must have changed the weights"


@pytest.mark.parametrize("switch", ["use_slt", "use_sasr", "use_spatial", "use_temporal"])
def test_every_ablation_trains_data_parallel(root, tmp_path, switch):
    """A switched-off block keeps parameters that get no gradient; DDP must still train in lockstep."""
    short = CONFIG.replace(epochs=1, max_batches=2)
    mp.spawn(_worker, args=(str(root), str(tmp_path), _free_port(), {switch: False}, short), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    assert all(torch.equal(ranks[0][name], ranks[1][name]) for name in ranks[0])
    assert len(pd.read_csv(tmp_path / "run" / "metrics.csv")) == 1


def test_the_official_network_trains_data_parallel(root, tmp_path):
    """Its unused layers (the held LayerNorm, an unused classifier) get no gradient either."""
    short = CONFIG.replace(epochs=1, max_batches=2, batch_size=4, eval_every=0)
    official = {"arch": "official", "d_model": 512}  # the official grounding needs d_model == visual_dim
    mp.spawn(_worker, args=(str(root), str(tmp_path), _free_port(), official, short), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    assert all(torch.equal(ranks[0][name], ranks[1][name]) for name in ranks[0])
    assert any(name.startswith("sasr.") for name in ranks[0]), "not the official network?"


def test_shards_cover_every_item_like_distributed_sampler(root):
    data = load_data(root)
    loader = BatchLoader(data.dataset("train"), batch_size=5, shuffle=True, seed=3, device="cpu")
    loader.set_epoch(2)
    order = np.concatenate(loader.batch_indices())
    n = len(order)
    for world in (2, 3):
        shards = [ShardedBatches(loader, r, world) for r in range(world)]
        items = [np.concatenate([b["question_id"].numpy() for b in s]) for s in shards]
        assert len({len(i) for i in items}) == 1 and all(len(s) == len(list(iter(s))) for s in shards)
        qids = data.dataset("train").question_ids
        padded = np.resize(order, -(-n // world) * world)  # wraps to a multiple of world, like DistributedSampler
        for r in range(world):
            assert sorted(items[r]) == sorted(qids[padded[r::world]])
        evaluation = [ShardedBatches(loader, r, world, pad=False) for r in range(world)]
        seen = np.concatenate([b["question_id"].numpy() for s in evaluation for b in s])
        assert sorted(seen) == sorted(qids), "evaluation shards partition the items without repeats"


def test_shards_keep_grouped_questions_together(root):
    data = load_data(root)
    dataset = data.dataset("train")
    loader = BatchLoader(dataset, batch_size=6, shuffle=True, seed=1, device="cpu", group=3)
    loader.set_epoch(1)
    order = loader.order()
    world = 2
    shards = [ShardedBatches(loader, r, world) for r in range(world)]
    items = [np.concatenate([b["question_id"].numpy() for b in s]) for s in shards]
    assert len(items[0]) == len(items[1]) == -(-len(order) // (world * 3)) * 3
    # runs of 3 consecutive questions of the loader's order go to one rank, alternating
    runs = np.resize(order, len(items[0]) * world).reshape(-1, 3)
    for r in range(world):
        assert items[r].tolist() == dataset.question_ids[runs[r::world].ravel()].tolist()
    assert set(np.concatenate(items)) == set(dataset.question_ids.tolist())  # nothing left out
