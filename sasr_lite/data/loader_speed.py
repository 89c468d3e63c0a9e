"""Samples/s of the data path: `BatchLoader` against per-item loading, on the same store.

`benchmark_data_path()` (for `make gpu-check`; the tests build small stores with this module's
helpers) builds a random store at MUSIC-AVQA shapes unless given one, warms the page cache, then
times the same batches each way:
- ``naive``: one `np.load` per item and modality (the reference loaders' habit), float32 per
  item, then `default_collate`;
- ``dataset``: `AVQADataset[i]` from the open memmaps, then `default_collate`;
- ``batch_loader``: `BatchLoader` (sorted fancy indexing, float16 until the device);
- ``batch_loader_resident``: the same with the store resident on the device (CUDA only unless
  asked for).
It reports wall-clock samples/s and samples per CPU-second of this process (the fairer number
on a shared machine). The target (docs/design.md section 5.1): batches with negatives >= 3x faster
than a training step.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import default_collate

from sasr_lite.data.annotations import QARecord, parse_record
from sasr_lite.data.dataset import AVQADataset, BatchLoader
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.store_writer import StoreWriter
from sasr_lite.data.taxonomy import ANSWER_WORDS, PLACEHOLDER_VALUES, TEMPLATES
from sasr_lite.data.vocab import build_vocabularies


def random_raw_records(video_ids: Sequence[str], questions_per_video: int = 2, seed: int = 0) -> list[dict]:
    """Records in the exact `avqa-*.json` schema on random templates, fillers and answers
    (right shapes, no meaning: for benchmarks and tests, not for learning)."""
    rng = np.random.default_rng(seed)
    raw = []
    for video_id in video_ids:
        for _ in range(questions_per_video):
            template = TEMPLATES[rng.integers(len(TEMPLATES))]
            values = [str(rng.choice(PLACEHOLDER_VALUES[p])) for p in template.placeholders]
            raw.append({
                "video_id": video_id, "question_id": len(raw),
                "type": json.dumps([template.group, template.subtype]),
                "question_content": template.text, "templ_values": json.dumps(values),
                "question_deleted": 0, "anser": str(rng.choice(ANSWER_WORDS)),
            })
    return raw


def random_records(video_ids: Sequence[str], questions_per_video: int = 2, seed: int = 0) -> list[QARecord]:
    """`random_raw_records`, parsed."""
    return [parse_record(r) for r in random_raw_records(video_ids, questions_per_video, seed)]


def write_random_store(path: str | Path, num_videos: int, num_segments: int = 10, num_positions: int = 196,
                       seed: int = 0) -> FeatureStore:
    """A store of standard-normal features (float16) for ids "00000000", "00000001", ..."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:08d}" for i in range(num_videos)]
    T, P = num_segments, num_positions
    with StoreWriter(path, ids, num_segments=T, num_positions=P, source="random (benchmark)") as writer:
        for i in range(num_videos):
            writer.write(i, audio=rng.standard_normal((T, 128), dtype=np.float32),
                         visual=rng.standard_normal((T, 512), dtype=np.float32),
                         maps=rng.standard_normal((T, P, 512), dtype=np.float32))
    return FeatureStore.open(path)


def _naive_item(dataset: AVQADataset, i: int, device: torch.device) -> dict[str, torch.Tensor]:
    """One item the way per-item loaders do it: open each array file, take a row, float32."""
    path, T = dataset.store.path, dataset.store.T
    v = dataset.video_index[i]
    neg = dataset.negative_videos(np.array([i]))[0]
    maps = np.load(path / "maps.npy", mmap_mode="r")
    visual = np.load(path / "visual.npy", mmap_mode="r")
    item = {
        "audio": np.load(path / "audio.npy", mmap_mode="r")[v].astype(np.float32),
        "visual": visual[v].astype(np.float32),
        "visual_maps": maps[v].astype(np.float32),
        "visual_maps_neg": maps[neg, np.arange(T)].astype(np.float32),
        "visual_neg": visual[neg].astype(np.float32),
        "question": dataset.questions[i], "answer": dataset.answers[i], "sources": dataset.sources[v],
        "subtype": dataset.subtypes[i], "template": dataset.templates[i],
        "question_id": dataset.question_ids[i], "video_index": v,
    }
    return {k: torch.as_tensor(a).to(device) for k, a in item.items()}


def _time(make_batch: Callable[[np.ndarray], dict], batches: list[np.ndarray], device: torch.device
          ) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to produce every batch, after an untimed
    warm-up. CPU seconds are the fairer number on a machine that other work shares."""
    for items in batches[:2]:
        make_batch(items)
    wall, cpu = time.perf_counter(), time.process_time()
    for items in batches:
        make_batch(items)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def benchmark_data_path(
    store: FeatureStore | str | Path | None = None,
    num_videos: int = 300,
    batch_size: int = 16,
    num_batches: int = 40,
    device: torch.device | str | None = None,
    resident: bool | None = None,
    seed: int = 0,
) -> dict:
    """Batches/s and samples/s of each data path (module doc) on the same batches.

    ``store``: an existing store (or its path); None writes a random one of ``num_videos``
    videos at T = 10, P = 196 into a temporary folder (about 2 MB per video) and deletes it.
    ``resident``: also time the resident loader (default: only on CUDA).
    """
    given = store is not None
    with tempfile.TemporaryDirectory(prefix="sasr-bench-") as tmp:
        if store is None:
            store = write_random_store(Path(tmp) / "store", num_videos, seed=seed)
        elif not isinstance(store, FeatureStore):
            store = FeatureStore.open(store)
        records = random_records(store.ids, questions_per_video=2, seed=seed)
        question_vocab, answer_vocab = build_vocabularies(records)
        dataset = AVQADataset(records, store, question_vocab, answer_vocab, seed=seed)
        loader = BatchLoader(dataset, batch_size, shuffle=True, seed=seed, device=device, drop_last=True)
        device = loader.device
        batches = loader.batch_indices()[:num_batches]
        paths: dict[str, Callable[[np.ndarray], dict]] = {
            "naive": lambda items: default_collate([_naive_item(dataset, int(i), device) for i in items]),
            "dataset": lambda items: {k: t.to(device) for k, t in default_collate([dataset[int(i)] for i in items]).items()},
            "batch_loader": loader.gather,
        }
        if resident if resident is not None else device.type == "cuda":
            paths["batch_loader_resident"] = BatchLoader(dataset, batch_size, seed=seed, device=device,
                                                         resident=True).gather
        timed = {name: _time(make, batches, device) for name, make in paths.items()}
        seconds = {name: wall for name, (wall, _) in timed.items()}
        samples = len(batches) * batch_size
        return {
            "device": str(device),
            "store": str(store.path) if given else f"random, {len(store)} videos (deleted)",
            "shapes": {"N": len(store), "T": store.T, "P": store.P, "B": batch_size},
            "num_batches": len(batches),
            "batches_per_s": {k: len(batches) / s for k, s in seconds.items()},
            "samples_per_s": {k: samples / s for k, s in seconds.items()},
            "samples_per_cpu_s": {k: samples / max(cpu, 1e-9) for k, (_, cpu) in timed.items()},
            "speedup_vs_naive": {k: seconds["naive"] / s for k, s in seconds.items()},
        }
