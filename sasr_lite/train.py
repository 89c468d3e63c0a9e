"""Training: the paper's recipe, from a notebook (`train(...)`) or the shell (`sasr-lite train`).

Recipe (DESIGN.md section 4): batch 16, 80 epochs, Adam lr 1e-4, the lr multiplied by 0.3
every 16 epochs, L = L_avqa + 0.5 L_source + 0.5 L_reg + 0.5 L_match (the lambdas live in
SaSRConfig). Every value can be overridden by a YAML/JSON file and by flags::

    sasr-lite train data/synth_small --out runs/small --epochs 10 --model d_model=128
    sasr-lite train annotations/ --store data/store --config my.yaml --resume
    torchrun --nproc_per_node=4 -m sasr_lite.cli train annotations/ --store data/store

Data layout: ``DATA/avqa-{train,val}.json`` and a feature store per split at
``STORE/{split}`` (default ``STORE = DATA/store``, the synthetic benchmark's layout; for
MUSIC-AVQA, the folder `sasr-lite build-store` wrote the splits into).

What a run writes to its output folder (rank 0 only): ``checkpoint.pt`` (the last epoch;
`--resume` continues from it and, on CPU, reaches the same weights as an uninterrupted run),
``best.pt`` (best validation accuracy), ``metrics.csv`` (one row per epoch), ``config.json``
and TensorBoard events when the `tensorboard` package is installed.

Distributed data parallel: under `torchrun` (WORLD_SIZE > 1) each process trains on its shard
of every epoch's shuffled order (the DistributedSampler rule: pad by wrapping to a multiple of
the world size, then take every world-size-th item), gradients are averaged by DDP (NCCL on
GPUs, gloo on CPU), and ``batch_size`` is per process.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import math
import os
import random
import time
import typing
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import yaml
from tqdm.std import tqdm  # plain text bars, also inside notebooks (no widget)

from sasr_lite.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from sasr_lite.config import SaSRConfig, check_field_types
from sasr_lite.data.annotations import QARecord, describe_annotations, load_annotations
from sasr_lite.data.dataset import AVQADataset, BatchLoader
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.data.sources import weak_source_labels
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.vocab import Vocabulary, build_vocabularies
from sasr_lite.device import autocast, pick_device
from sasr_lite.losses import sasr_losses
from sasr_lite.model import SaSRNet

LOSS_PARTS = ("total", "avqa", "source", "reg", "match")
CHECK_EVERY = 10  # steps between the loop's host reads (progress bar, finite-loss check)


class NonFiniteError(RuntimeError):
    """A loss or the logits stopped being finite: the run stops before it writes anything."""


@dataclass
class TrainConfig:
    """How to train (the model's sizes, switches and loss weights are in SaSRConfig)."""

    batch_size: int = 16  # per process (the paper: 16 on one GPU)
    epochs: int = 80
    lr: float = 1e-4  # Adam
    weight_decay: float = 0.0
    step_size: int = 16  # StepLR: every step_size epochs ...
    gamma: float = 0.3  # ... the lr is multiplied by gamma
    seed: int = 0  # python, numpy, torch, the shuffle and the negatives
    negatives: bool = True  # feed other videos' maps so L_match has its mismatched pairs
    group: int = 1  # the shuffle keeps up to this many questions of a video in one batch (BatchLoader)
    device: str | None = None  # None: CUDA when present, else CPU
    num_threads: int | None = None  # torch CPU threads during the run; None keeps torch's setting
    resident: bool = False  # copy the train/val stores to the device once (GPU: data costs nothing)
    eval_every: int = 1  # validate every N epochs (and after the last); 0 = never
    checkpoint_every: int = 1  # write checkpoint.pt every N epochs (and after the last)
    max_batches: int | None = None  # cap on batches per epoch (smoke runs); None = the whole split
    progress: bool = True  # a tqdm bar per epoch (plain text)
    verbose: bool = True  # one summary line per epoch
    tensorboard: bool = True  # also write TensorBoard events when the package is installed

    # fields that shape the weights a run reaches: a resumed run must agree on them
    TRAJECTORY_FIELDS: typing.ClassVar[tuple[str, ...]] = (
        "batch_size", "lr", "weight_decay", "step_size", "gamma", "seed", "negatives", "group", "max_batches",
    )

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("batch_size", "epochs", "step_size", "group", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_batches", "num_threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1 or None, got {getattr(self, name)}")
        if self.eval_every < 0:
            raise ValueError(f"TrainConfig.eval_every must be >= 0 (0: never), got {self.eval_every}")
        if self.lr <= 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or not 0 < self.gamma <= 1:
            raise ValueError(f"TrainConfig needs weight_decay >= 0 and 0 < gamma <= 1, got {self.weight_decay}, {self.gamma}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def trajectory(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.TRAJECTORY_FIELDS}

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


# --- config files -------------------------------------------------------------------------------
def load_config_file(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(TrainConfig overrides, SaSRConfig overrides) from a YAML or JSON file.

    The file holds ``train:`` and/or ``model:`` sections, or flat keys, each of which must be a
    field of one of the two configs. Unknown keys raise ValueError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}  # YAML reads JSON too
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML/JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    train_names = {f.name for f in fields(TrainConfig)}
    model_names = {f.name for f in fields(SaSRConfig)}
    train_over = dict(raw.pop("train", None) or {})
    model_over = dict(raw.pop("model", None) or {})
    for key, value in raw.items():  # flat keys go to whichever config has the field
        if key in train_names:
            train_over[key] = value
        elif key in model_names:
            model_over[key] = value
        else:
            raise ValueError(f"{path}: unknown setting {key!r} (not a TrainConfig or SaSRConfig field)")
    bad = sorted(set(train_over) - train_names) + sorted(set(model_over) - model_names)
    if bad:
        raise ValueError(f"{path}: unknown settings {bad}")
    return train_over, model_over


# --- data ---------------------------------------------------------------------------------------
@dataclass
class TrainData:
    """Annotations, feature stores and train-split vocabularies/labels of one benchmark."""

    root: Path
    records: dict[str, list[QARecord]]  # split -> records
    stores: dict[str, FeatureStore]  # split -> store
    question_vocab: Vocabulary
    answer_vocab: Vocabulary
    source_labels: dict[str, np.ndarray]  # weak labels from the train split only
    annotations: dict[str, dict]  # split -> describe_annotations(...) (release, sha256, counts)
    release: str  # "json_update", "original", "synthetic" or "custom"

    def dataset(self, split: str, seed: int = 0) -> AVQADataset:
        if split not in self.records:
            raise KeyError(f"split {split!r} was not loaded from {self.root} (loaded: {sorted(self.records)})")
        labels = self.source_labels if split == "train" else None
        return AVQADataset(self.records[split], self.stores[split], self.question_vocab, self.answer_vocab,
                           source_labels=labels, seed=seed)

    @property
    def vocabularies(self) -> dict[str, list[str]]:
        return {"question": self.question_vocab.tokens, "answer": self.answer_vocab.tokens}


def load_data(
    annotation_dir: str | Path,
    store_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "val"),
    vocabularies: dict[str, list[str]] | None = None,
) -> TrainData:
    """Read ``annotation_dir/avqa-{split}.json`` and open ``store_dir/{split}`` for each split.

    Vocabularies and weak source labels come from the train split (or ``vocabularies`` from a
    checkpoint, when train is not loaded). A missing optional split ("val", "test") is skipped
    with a warning; a missing train split is an error unless vocabularies are given.
    """
    root = Path(annotation_dir)
    store_root = Path(store_dir) if store_dir is not None else root / "store"
    if not root.is_dir():
        raise FileNotFoundError(f"annotation folder not found: {root}")
    records, stores, described = {}, {}, {}
    for split in splits:
        path = root / f"avqa-{split}.json"
        if not path.is_file():
            if split == "train" and vocabularies is None:
                raise FileNotFoundError(f"training needs {path}")
            warnings.warn(f"{path} not found; the {split} split is skipped")
            continue
        records[split] = load_annotations(path)
        described[split] = describe_annotations(path, records[split])
        stores[split] = FeatureStore.open(store_root / split)
    if vocabularies is not None:
        question_vocab = Vocabulary(vocabularies["question"], unk="<unk>")
        answer_vocab = Vocabulary(vocabularies["answer"])
    else:
        question_vocab, answer_vocab = build_vocabularies(records["train"])
    labels = weak_source_labels(records["train"]) if "train" in records else {}
    release = "synthetic" if (root / "synth.json").is_file() else next(
        (d["release"] for d in described.values()), "custom")
    return TrainData(root, records, stores, question_vocab, answer_vocab, labels, described, release)


# --- distributed --------------------------------------------------------------------------------
@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this call created the process group and tears it down

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device: torch.device) -> _Dist:
    """Join the process group torchrun (or a test's mp.spawn) set up; single process otherwise."""
    if dist.is_available() and dist.is_initialized():
        return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owns_group=True)


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


# --- the loop -----------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What `train` returns: the trained model (bare, eval mode) and its per-epoch history."""

    model: SaSRNet
    history: pd.DataFrame
    model_config: SaSRConfig
    config: TrainConfig
    vocabularies: dict[str, list[str]]
    release: str
    out_dir: Path | None = None
    checkpoint: Path | None = None  # last epoch
    best_checkpoint: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def cpu_threads(num_threads: int | None):
    """torch's CPU threads set to ``num_threads`` inside the block (None: unchanged), restored after.

    Small models run best on one thread, and on a machine that is busy with other work two
    OpenMP threads per process were measured up to 6x slower than one.
    """
    previous = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _forward_losses(model, batch, model_config: SaSRConfig, negatives: bool, device: torch.device):
    with autocast(device):
        output = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"],
                       batch["visual_maps_neg"] if negatives else None, batch["video_of"])
        losses = sasr_losses(output, batch["answer"], batch["sources"], model_config)
    return output, losses


@torch.no_grad()
def validation_accuracy(model: torch.nn.Module, batches, device: torch.device, world: int = 1) -> float:
    """Answer accuracy (%) over ``batches``; an unknown answer (-1) counts as wrong. Summed over ranks."""
    model.eval()
    counts = torch.zeros(3, dtype=torch.float64, device=device)  # right, questions, non-finite rows
    for batch in batches:
        with autocast(device):
            logits = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"],
                           video_of=batch["video_of"]).answer_logits
        counts[0] += (logits.argmax(-1) == batch["answer"]).sum()
        counts[1] += len(batch["answer"])
        counts[2] += (~torch.isfinite(logits)).any(-1).sum()
    if world > 1:
        dist.all_reduce(counts)
    right, total, broken = counts.tolist()
    if broken:
        raise NonFiniteError(f"validation: {int(broken)} of {int(total)} questions got NaN or infinite answer logits; "
                             "stopped before writing a checkpoint for this epoch")
    return 100.0 * right / max(total, 1)


def _tensorboard(out_dir: Path | None, enabled: bool):
    if not (enabled and out_dir is not None):
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional: tensorboard is not a dependency of the kit
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))


def train(
    data: TrainData | str | Path,
    model_config: SaSRConfig | None = None,
    config: TrainConfig | None = None,
    *,
    store_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    name: str = "SaSR-Net",
) -> TrainResult:
    """Train SaSR-Net; returns the model and a per-epoch history (also written to ``out_dir``).

    ``data`` is a `TrainData` (see `load_data`) or an annotation folder. ``model_config``'s
    vocabulary and answer sizes are replaced by the train split's. ``resume=True`` continues
    from ``out_dir/checkpoint.pt`` (starting fresh when there is none) and fails with a clear
    error if it was written with another model config, trajectory setting or vocabulary.
    """
    config = config or TrainConfig()
    if not isinstance(data, TrainData):
        data = load_data(data, store_dir)
    out_dir = Path(out_dir) if out_dir is not None else None
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where checkpoint.pt is)")
    with cpu_threads(config.num_threads):
        return _train(data, model_config or SaSRConfig(), config, out_dir, resume, name)


def _train(data: TrainData, model_config: SaSRConfig, config: TrainConfig, out_dir: Path | None,
           resume: bool, name: str) -> TrainResult:
    device = pick_device(config.device)
    ddp = _init_distributed(device)
    if device.type == "cuda" and ddp.world > 1:
        device = torch.device("cuda", ddp.local_rank)
        torch.cuda.set_device(device)
    seed_everything(config.seed)

    model_config = model_config.replace(
        question_vocab_size=len(data.question_vocab), num_answers=len(data.answer_vocab))
    model = SaSRNet(model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)

    history: list[dict[str, Any]] = []
    start_epoch, best_val = 0, -1.0
    last_path = out_dir / "checkpoint.pt" if out_dir else None
    best_path = out_dir / "best.pt" if out_dir else None
    if resume and last_path.is_file():
        ckpt = load_checkpoint(last_path, model_config=model_config, train_config=config.trajectory(),
                               vocabularies=data.vocabularies)
        if ckpt.extra.get("world_size", 1) != ddp.world:
            raise ValueError(f"{last_path} was written by {ckpt.extra.get('world_size', 1)} processes; "
                             f"resume it with the same number, not {ddp.world}")
        model.load_state_dict(ckpt.model_state)
        optimizer.load_state_dict(ckpt.optimizer_state)
        scheduler.load_state_dict(ckpt.scheduler_state)
        restore_rng_state(ckpt.rng_state)
        start_epoch, history = ckpt.epoch + 1, ckpt.history
        best_val = max((h["val_accuracy"] for h in history if not math.isnan(h["val_accuracy"])), default=-1.0)

    bare = model
    if ddp.world > 1:
        # a switched-off block keeps its parameters (so state dicts load across switches) but gives
        # them no gradient; DDP must then look for them each step instead of waiting for them
        ablated = not all((model_config.use_slt, model_config.use_sasr, model_config.use_spatial,
                           model_config.use_temporal))
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=ablated)

    train_loader = BatchLoader(data.dataset("train", seed=config.seed), config.batch_size, shuffle=True,
                               seed=config.seed, device=device, resident=config.resident, group=config.group)
    batches = ShardedBatches(train_loader, ddp.rank, ddp.world) if ddp.world > 1 else train_loader
    val_batches = None
    if "val" in data.records and config.eval_every:
        val_loader = BatchLoader(data.dataset("val", seed=config.seed), max(config.batch_size, 64), shuffle=False,
                                 device=device, resident=config.resident)
        val_batches = ShardedBatches(val_loader, ddp.rank, ddp.world, pad=False) if ddp.world > 1 else val_loader

    writer = None
    if ddp.main and out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out_dir / "config.json", {
            "model": model_config.to_dict(), "train": config.to_dict(), "release": data.release,
            "annotations": data.annotations, "world_size": ddp.world})
        writer = _tensorboard(out_dir, config.tensorboard)

    num_batches = min(len(batches), config.max_batches or len(batches))
    for epoch in range(start_epoch, config.epochs):
        last = epoch == config.epochs - 1
        validate = None
        if val_batches is not None and ((epoch + 1) % config.eval_every == 0 or last):
            validate = functools.partial(validation_accuracy, bare, val_batches, device, ddp.world)
        row = _train_epoch(model, batches, num_batches, optimizer, model_config, config, device, epoch, ddp, name,
                           validate)
        row["lr"] = scheduler.get_last_lr()[0]
        scheduler.step()
        history.append(row)
        if config.verbose and ddp.main:
            print(f"{name} {_epoch_line(row, config.epochs)}", flush=True)
        if not ddp.main or out_dir is None:
            continue
        write_text_atomic(out_dir / "metrics.csv", pd.DataFrame(history).to_csv(index=False))
        if writer is not None:
            for key, value in row.items():
                if key != "epoch" and not (isinstance(value, float) and math.isnan(value)):
                    writer.add_scalar(key, value, epoch)
        state = dict(model=bare, model_config=model_config, vocabularies=data.vocabularies,
                     optimizer=optimizer, scheduler=scheduler, train_config=config, release=data.release,
                     history=history, extra={"world_size": ddp.world, "annotations": data.annotations})
        if (epoch + 1) % config.checkpoint_every == 0 or last:
            save_checkpoint(last_path, epoch=epoch, rng_state=capture_rng_state(), **state)
        if row["val_accuracy"] > best_val:
            best_val = row["val_accuracy"]
            save_checkpoint(best_path, epoch=epoch, **state)

    if writer is not None:
        writer.close()
    if ddp.world > 1:
        dist.barrier()  # no rank leaves while rank 0 is still writing
        if ddp.owns_group:
            dist.destroy_process_group()
    bare.eval()
    return TrainResult(
        model=bare, history=pd.DataFrame(history), model_config=model_config, config=config,
        vocabularies=data.vocabularies, release=data.release, out_dir=out_dir,
        checkpoint=last_path if last_path and last_path.is_file() else None,
        best_checkpoint=best_path if best_path and best_path.is_file() else None,
    )


def _train_epoch(model, batches, num_batches, optimizer, model_config, config, device, epoch, ddp, name,
                 validate=None) -> dict:
    """One pass over this rank's batches, then ``validate()`` if given (its accuracy joins the bar);
    returns the epoch's metrics row (losses and train accuracy are means over samples)."""
    model.train()
    batches.set_epoch(epoch)
    sums = torch.zeros(len(LOSS_PARTS) + 1, dtype=torch.float64, device=device)  # losses..., correct
    seen = 0
    bar = tqdm(total=num_batches, desc=f"{name} epoch {epoch + 1}/{config.epochs}", unit="batch",
               disable=not (config.progress and ddp.main), leave=False, dynamic_ncols=True)
    start = time.perf_counter()
    recent = []  # (step, loss is finite, store rows) of the steps since the last check
    for step, batch in enumerate(batches):
        if step >= num_batches:
            break
        output, losses = _forward_losses(model, batch, model_config, config.negatives, device)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimizer.step()
        B = len(batch["answer"])
        seen += B
        # kept on the device: no host sync per step; read once every few steps for the bar
        sums[:-1] += torch.stack([losses[k].detach().double() for k in LOSS_PARTS]) * B
        sums[-1] += (output.answer_logits.argmax(-1) == batch["answer"]).sum()
        recent.append((step, torch.isfinite(losses["total"].detach()), batch["video_index"]))
        if (step + 1) % CHECK_EVERY == 0 or step + 1 == num_batches:
            _stop_if_not_finite(recent, epoch, batches, ddp)
            recent.clear()
            means = (sums / seen).tolist()
            bar.set_postfix_str(
                " ".join(f"{k}={v:.3f}" for k, v in zip(LOSS_PARTS, means))
                + f" | {seen * ddp.world / (time.perf_counter() - start):.0f} samples/s", refresh=False)
        bar.update(1)
    elapsed = time.perf_counter() - start
    val_accuracy = validate() if validate is not None else float("nan")
    if validate is not None and not bar.disable:
        bar.set_postfix_str(f"{bar.postfix} | val acc {val_accuracy:.2f}%")
    bar.close()
    totals = torch.cat([sums, sums.new_tensor([seen])])
    if ddp.world > 1:
        dist.all_reduce(totals)
    means = (totals[:-1] / totals[-1].clamp_min(1)).tolist()
    row = {"epoch": epoch}
    row.update({f"loss_{k}": v for k, v in zip(LOSS_PARTS, means[:-1])})
    row["train_accuracy"] = 100.0 * means[-1]
    row["samples_per_s"] = totals[-1].item() / elapsed
    row["epoch_seconds"] = elapsed
    row["val_accuracy"] = val_accuracy
    return row


def _stop_if_not_finite(recent, epoch: int, batches, ddp) -> None:
    """Raise NonFiniteError naming the epoch, the first step whose loss was NaN or infinite, and its
    videos, when any step in ``recent`` had one (one host read for the whole window; under DDP
    every rank learns of it, so none waits forever for the others)."""
    finite = torch.stack([ok for _, ok, _ in recent])
    bad = (~finite).any().to(torch.int32)
    if ddp.world > 1:
        dist.all_reduce(bad, op=dist.ReduceOp.MAX)
    if not bad.item():
        return
    for step, ok, rows in recent:
        if not ok.item():
            ids = getattr(batches, "loader", batches).dataset.store.ids
            videos = [ids[r] for r in rows.tolist()]
            raise NonFiniteError(
                f"epoch {epoch + 1}, step {step + 1}: the training loss is not finite (NaN or inf) for the batch "
                f"of videos {videos[:8]} (or the negatives drawn for them); stopped before writing a checkpoint "
                "for this epoch. Look for NaN or inf in those videos' features, or lower --lr")
    raise NonFiniteError(f"epoch {epoch + 1}: the training loss is not finite on another process's batch; stopped "
                         "before writing a checkpoint for this epoch")


def _epoch_line(row: dict, epochs: int) -> str:
    val = "" if math.isnan(row["val_accuracy"]) else f" val acc {row['val_accuracy']:.2f}%"
    parts = " ".join(f"{k} {row['loss_' + k]:.3f}" for k in LOSS_PARTS)
    return (f"epoch {row['epoch'] + 1}/{epochs}: {parts} | train acc {row['train_accuracy']:.2f}%{val}"
            f" | {row['samples_per_s']:.0f} samples/s, lr {row['lr']:.2e}")


# --- `sasr-lite train` ----------------------------------------------------------------------------
def _flag_type(name: str):
    """The argparse type of a TrainConfig field, from its annotation."""
    hint = typing.get_type_hints(TrainConfig)[name]
    base = next((t for t in typing.get_args(hint) if t is not type(None)), hint)
    return base


def _parse_model_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--model expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="folder with avqa-{train,val}.json")
    parser.add_argument("--store", type=Path, default=None, help="folder with the {split}/ feature stores (default DATA/store)")
    parser.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder (default runs/train)")
    parser.add_argument("--config", type=Path, default=None, help="YAML/JSON file with train: and model: settings")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--tiny", action="store_true", help="SaSRConfig.tiny() sizes (smoke runs)")
    parser.add_argument("--model", type=_parse_model_override, action="append", default=[], metavar="KEY=VALUE",
                        help="override a SaSRConfig field, e.g. --model d_model=256 --model use_slt=false")
    group = parser.add_argument_group("training settings (override the config file; defaults: the paper's recipe)")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = _flag_type(f.name)
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                               help=f"(default {getattr(defaults, f.name)})")
        else:
            group.add_argument(flag, type=kind, default=None, help=f"(default {getattr(defaults, f.name)})")


def configs_from_args(args: argparse.Namespace) -> tuple[SaSRConfig, TrainConfig]:
    """Defaults < config file < flags."""
    train_over, model_over = load_config_file(args.config) if args.config else ({}, {})
    train_over.update({f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None})
    model_over.update(dict(args.model))
    unknown = sorted(set(model_over) - {f.name for f in fields(SaSRConfig)})
    if unknown:
        raise ValueError(f"unknown SaSRConfig fields {unknown}; known: {[f.name for f in fields(SaSRConfig)]}")
    model_config = SaSRConfig.tiny(**model_over) if args.tiny else SaSRConfig(**model_over)
    return model_config, TrainConfig(**train_over)


def run(args: argparse.Namespace) -> int:
    model_config, config = configs_from_args(args)
    result = train(args.data, model_config, config, store_dir=args.store, out_dir=args.out, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        final = result.history.iloc[-1] if len(result.history) else None
        if final is not None:
            print(f"done: {len(result.history)} epochs, final val accuracy {final['val_accuracy']:.2f}% "
                  f"({result.release} release); checkpoint {result.checkpoint}")
    return 0


if __name__ == "__main__":  # `python -m sasr_lite.train ...` and `torchrun ... -m sasr_lite.train ...`
    import sys

    from sasr_lite.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
