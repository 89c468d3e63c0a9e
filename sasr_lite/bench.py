"""`sasr-lite bench`: how fast the model trains and infers, and how fast the data path serves.

At MUSIC-AVQA shapes (T = 10 segments, P = 196 map positions, 512 channels, D = 512, the
paper-size model) on the current device, for batch sizes 16 and 64:

- model training samples/s: forward with negatives, the four losses, backward, Adam step;
- model inference samples/s: forward without negatives, no gradients;
- both again with the batch's questions about B / 5 videos (MUSIC-AVQA asks about 5 questions
  per video): the video path runs once per video (``video_of``), as `BatchLoader(group=...)`
  batches allow;
- data batches/s: `BatchLoader` gathering batches with negatives from a float16 feature
  store on disk (a temporary one filled with random values; warm page cache), converted to
  float32 on the device.

Every model row is measured for the paper's model and for the official network (the kit's port,
`sasr_lite.model.official`, the same computation as the released code), alternating in one
process, and the bench prints their ratio: speeds from different machines are not comparable
(machines here differ by about 2x), so no ratio uses a number measured elsewhere. The data path
should be >= 3x faster than the training step, which the same table compares within one run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sasr_lite.cli import at_least
from sasr_lite.config import SaSRConfig
from sasr_lite.data.annotations import parse_record
from sasr_lite.data.dataset import AVQADataset, BatchLoader
from sasr_lite.data.store import FeatureStore, StoreWriter
from sasr_lite.data.vocab import build_vocabularies
from sasr_lite.device import autocast, pick_device
from sasr_lite.losses import sasr_losses
from sasr_lite.model import build_model

T, P, AUDIO_DIM, VISUAL_DIM, L = 10, 196, 128, 512, 14


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(step, steps: int, warmup: int, device: torch.device) -> float:
    """Seconds per call of ``step`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def model_speed(config: SaSRConfig, batch_size: int, device: torch.device, steps: int, warmup: int = 2,
                questions_per_video: int = 1) -> dict:
    """Training and inference samples/s of build_model(config) on random MUSIC-AVQA-shaped inputs:
    ``batch_size`` questions about ``batch_size / questions_per_video`` videos."""
    torch.manual_seed(0)
    model = build_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    B = batch_size
    V = max(1, B // questions_per_video)
    batch = {
        "audio": torch.rand(V, T, AUDIO_DIM, device=device),
        "visual": torch.rand(V, T, VISUAL_DIM, device=device),
        "visual_maps": torch.rand(V, T, P, VISUAL_DIM, device=device),
        "visual_maps_neg": torch.rand(V, T, P, VISUAL_DIM, device=device),
        "visual_neg": torch.rand(V, T, VISUAL_DIM, device=device),
        "question": torch.randint(0, config.question_vocab_size, (B, L), device=device),
        "question_len": torch.randint(1, L + 1, (B,)),  # on the host, as BatchLoader gives it
        "answer": torch.randint(0, config.num_answers, (B,), device=device),
        "sources": (torch.rand(V, config.num_tokens, device=device) < 0.2).float(),
        "video_of": torch.arange(B, device=device) % V,
    }

    def train_step() -> None:
        with autocast(device):
            out = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"], batch["visual_maps_neg"],
                        batch["video_of"], batch["visual_neg"], batch["question_len"])
            loss = sasr_losses(out, batch["answer"], batch["sources"], config)["total"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def infer_step() -> None:
        with autocast(device):
            model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"], video_of=batch["video_of"],
                  question_len=batch["question_len"])

    model.train()
    train_s = _timed(train_step, steps, warmup, device)
    model.eval()
    infer_s = _timed(infer_step, steps, warmup, device)
    return {"train_samples_per_s": B / train_s, "infer_samples_per_s": B / infer_s, "train_ms_per_batch": 1e3 * train_s}


def random_store(path: Path, num_videos: int, seed: int = 0) -> FeatureStore:
    """A feature store of MUSIC-AVQA shapes (T = 10, P = 196) filled with uniform random values."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:08d}" for i in range(num_videos)]
    with StoreWriter(path, ids, num_segments=T, num_positions=P, source="bench: random values") as writer:
        for i in range(num_videos):
            writer.write(i, audio=rng.random((T, AUDIO_DIM), dtype=np.float32),
                         visual=rng.random((T, VISUAL_DIM), dtype=np.float32),
                         maps=rng.random((T, P, VISUAL_DIM), dtype=np.float32))
    return FeatureStore.open(path)


def _records(num_videos: int, per_video: int):
    """Questions that need no placeholders, ``per_video`` per video (the data path ignores the text)."""
    raw = {"type": '["Audio-Visual", "Existential"]', "question_content": "Is there a voiceover?", "templ_values": "[]"}
    return [
        parse_record({**raw, "video_id": f"{v:08d}", "question_id": v * per_video + k, "anser": ("yes", "no")[k % 2]})
        for v in range(num_videos) for k in range(per_video)
    ]


def data_speed(store: FeatureStore, batch_size: int, device: torch.device, batches: int) -> dict:
    """Batches/s of BatchLoader (shuffled, with negatives) from ``store``; the first pass warms the cache."""
    records = _records(len(store), per_video=4)
    qv, av = build_vocabularies(records)
    loader = BatchLoader(AVQADataset(records, store, qv, av), batch_size, shuffle=True, seed=0, device=device)
    items = loader.batch_indices()
    for b in items:  # warm the page cache, as on a machine that has read the store before
        loader.gather(b)
    _sync(device)
    start = time.perf_counter()
    done = 0
    while done < batches:
        for b in items[: batches - done]:
            loader.gather(b)
            done += 1
    _sync(device)
    per_batch = (time.perf_counter() - start) / batches
    return {"batches_per_s": 1.0 / per_batch, "samples_per_s": batch_size / per_batch}


def benchmark(device: str | None = None, batch_sizes: tuple[int, ...] | None = None, steps: int = 5,
              data_batches: int = 20, num_videos: int = 96, questions_per_video: tuple[int, ...] = (1, 5),
              archs: tuple[str, ...] = ("paper", "official"), rounds: int = 2,
              config: SaSRConfig | None = None) -> pd.DataFrame:
    """One row per (model, what, batch size, questions per video): samples/s (and batches/s) on
    ``device``, plus the data path's rows (model "-").

    The models of ``archs`` are measured in this process, alternating (paper, official, paper,
    official, ... ``rounds`` times) so that both meet the same machine; each keeps its best round.
    ``batch_sizes`` None: 16 and 64 on a GPU, 16 on a CPU (the official network is slow there).
    ``config``: the sizes (default: the paper's, D = 512, 22 tokens); each model gets its ``arch``.
    """
    config = config or SaSRConfig()
    dev = pick_device(device)
    batch_sizes = batch_sizes or ((16, 64) if dev.type == "cuda" else (16,))
    rows = []
    with tempfile.TemporaryDirectory(prefix="sasr-bench-") as tmp:
        store = random_store(Path(tmp) / "store", num_videos)
        for B in batch_sizes:
            for k in questions_per_video:
                best: dict[str, dict[str, float]] = {}
                for _ in range(rounds):
                    for arch in archs:
                        m = model_speed(config.replace(arch=arch), B, dev, steps, questions_per_video=k)
                        kept = best.setdefault(arch, m)
                        for key in ("train_samples_per_s", "infer_samples_per_s"):
                            kept[key] = max(kept[key], m[key])
                for arch, m in best.items():
                    for what, key in (("model training", "train_samples_per_s"), ("model inference", "infer_samples_per_s")):
                        rows.append({"model": arch, "what": what, "batch": B, "questions/video": k,
                                     "samples/s": m[key], "batches/s": m[key] / B})
            d = data_speed(store, B, dev, data_batches)
            rows.append({"model": "-", "what": "data path (store -> batch, with negatives)", "batch": B,
                         "questions/video": 1, "samples/s": d["samples_per_s"], "batches/s": d["batches_per_s"]})
    table = pd.DataFrame(rows)
    table.attrs["device"] = str(dev)
    table.attrs["threads"] = torch.get_num_threads()
    return table


def speed_ratios(table: pd.DataFrame, numerator: str = "paper", denominator: str = "official") -> pd.DataFrame:
    """``numerator`` samples/s over ``denominator``'s, per (what, batch, questions/video), from one
    `benchmark` table (so from one run on one machine)."""
    models = table[table["model"].isin([numerator, denominator])]
    wide = models.pivot_table(index=["what", "batch", "questions/video"], columns="model", values="samples/s")
    ratio = (wide[numerator] / wide[denominator]).rename(f"{numerator} / {denominator}")
    return ratio.reset_index()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present, else CPU)")
    parser.add_argument("--threads", type=at_least(1), default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="few steps and a small store (about half a minute on CPU)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON to this file")


def run(args: argparse.Namespace) -> int:
    if args.json is not None and args.json.is_dir():  # checked before the minutes of measuring
        raise ValueError(f"--json {args.json} is a folder; give a file name, e.g. {args.json / 'bench.json'}")
    if args.threads:
        torch.set_num_threads(args.threads)
    steps, data_batches, videos, rounds = (2, 8, 48, 1) if args.quick else (6, 30, 128, 2)
    table = benchmark(args.device, steps=steps, data_batches=data_batches, num_videos=videos, rounds=rounds)
    print(f"device {table.attrs['device']}, {table.attrs['threads']} torch threads; the paper's model and the "
          f"official network (sasr_lite.model.official) at D=512, T={T}, P={P}, {VISUAL_DIM} channels, "
          f"measured alternately in this run")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    ratios = speed_ratios(table)
    print("\nsame run, same machine:")
    print(ratios.to_string(index=False, float_format=lambda v: f"{v:.1f}x"))
    if args.json:
        from sasr_lite.data.files import write_json_atomic

        write_json_atomic(args.json, {"device": table.attrs["device"], "threads": table.attrs["threads"],
                                      "rows": json.loads(table.to_json(orient="records")),
                                      "ratios": json.loads(ratios.to_json(orient="records"))})
    return 0
