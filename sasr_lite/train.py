"""Training: the paper's recipe, from a notebook (`train(...)`) or the shell (`sasr-lite train`).

Recipe (docs/design.md section 4.1): batch 16, 80 epochs, Adam lr 1e-4, the lr multiplied by 0.3
every 16 epochs, L = L_avqa + 0.5 L_source + 0.5 L_reg + 0.5 L_match (the lambdas live in
SaSRConfig; TrainConfig holds the rest). Every value can be overridden by a YAML/JSON file and
by flags (`sasr_lite.train_command`)::

    sasr-lite train data/synth_small --out runs/small --epochs 10 --model.d_model 128
    sasr-lite train annotations/ --store data/store --config my.yaml --resume
    torchrun --nproc_per_node=4 -m sasr_lite.train annotations/ --store data/store

The data (annotations, stores, vocabularies) come from `sasr_lite.data.loading.load_data`.

What a run writes to its output folder (rank 0 only): ``checkpoint.pt`` (the last epoch;
`--resume` continues from it and, on CPU, reaches the same weights as an uninterrupted run),
``best.pt`` (the weights of the best validation epoch; no optimizer state, so a third of the
size), ``metrics.csv`` (one row per epoch), ``config.json``
and TensorBoard events when the `tensorboard` package is installed.

Distributed data parallel: under `torchrun` (WORLD_SIZE > 1) each process trains on its shard
of every epoch's shuffled order (the DistributedSampler rule: pad by wrapping to a multiple of
the world size, then take every world-size-th item), gradients are averaged by DDP (NCCL on
GPUs, gloo on CPU), and ``batch_size`` is per process.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from tqdm.std import tqdm  # plain text bars, also inside notebooks (no widget)

from sasr_lite.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.batch import model_inputs
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.data.sharding import ShardedBatches
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.data.loading import TrainData, load_data, sized_for
from sasr_lite.device import autocast, cpu_threads, keep_freed_memory, maps_dtype, pick_device
from sasr_lite.errors import NonFiniteError
from sasr_lite.model import build_model
from sasr_lite.outputs import claim, folder_lock, read_marker, record_outputs
from sasr_lite.step import train_step

LOSS_PARTS = ("total", "avqa", "source", "reg", "match")
CHECK_EVERY = 10  # steps between the loop's host reads (progress bar, finite-loss check)


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


# --- the loop -----------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What `train` returns: the trained model (bare, eval mode) and its per-epoch history."""

    model: torch.nn.Module  # SaSRNet or OfficialSaSRNet (SaSRConfig.arch)
    history: pd.DataFrame
    model_config: SaSRConfig
    config: TrainConfig
    vocabularies: dict[str, list[str]]
    release: str
    out_dir: Path | None = None
    checkpoint: Path | None = None  # last epoch
    best_checkpoint: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_optimizer(model: torch.nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """The paper's Adam, as one fused kernel over all parameters (CPU and CUDA): the same update as
    the per-tensor loop, which on a CPU spent about a sixth of the paper-size step in small ops."""
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)


@torch.no_grad()
def validation_accuracy(model: torch.nn.Module, batches, device: torch.device, world: int = 1,
                        precision: str = "auto") -> float:
    """Answer accuracy (%) over ``batches``; an unknown answer (-1) counts as wrong. Summed over ranks."""
    model.eval()
    counts = torch.zeros(3, dtype=torch.float64, device=device)  # right, questions, non-finite rows
    for batch in batches:
        with autocast(device, precision):
            logits = model(**model_inputs(batch)).answer_logits
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
    allow_new_annotations: bool = False,
    overwrite: bool = False,
    name: str = "SaSR-Net",
) -> TrainResult:
    """Train SaSR-Net; returns the model and a per-epoch history (also written to ``out_dir``).

    ``data`` is a `TrainData` (see `load_data`) or an annotation folder. ``model_config``'s
    vocabulary and answer sizes are replaced by the train split's. ``out_dir`` follows
    `sasr_lite.outputs`: it is locked while the run writes, and a folder holding an earlier run is
    refused unless ``resume`` or ``overwrite`` (which moves it aside to ``OUT.old-N``).
    ``resume=True`` continues from ``out_dir/checkpoint.pt`` (refused when there is none) and fails
    with a clear error if it was written with another model config, trajectory setting or vocabulary, or (unless
    ``allow_new_annotations``) from other annotation files; the checkpoint's record of the files it
    was first trained on is kept either way, and files a resume switched to are listed after it.
    """
    config = config or TrainConfig()
    out_dir = Path(out_dir) if out_dir is not None else None
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where checkpoint.pt is)")
    if resume and overwrite:
        raise ValueError("--resume continues the run in --out, --overwrite moves it aside: give one of them")
    guard = _claimed(out_dir, resume, overwrite) if out_dir is not None and _main_process() else contextlib.nullcontext()
    with guard, cpu_threads(config.num_threads):
        if not isinstance(data, TrainData):
            data = load_data(data, store_dir)
        return _train(data, model_config or SaSRConfig(), config, out_dir, resume, allow_new_annotations, name)


def _main_process() -> bool:
    """Whether this process writes the run folder (rank 0, or the only process)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def _claimed(out_dir: Path, resume: bool, overwrite: bool):
    """``out_dir`` locked and checked by the output rule (`sasr_lite.outputs`) for the block."""
    with folder_lock(out_dir, "train"):
        if read_marker(out_dir) is None and (out_dir / "config.json").is_file() and (out_dir / "checkpoint.pt").is_file():
            record_outputs(out_dir, "train")  # a run written before runs had markers is a run all the same
        if claim(out_dir, "train", resume=resume, overwrite=overwrite) == "resume" and \
                not (out_dir / "checkpoint.pt").is_file():
            raise FileNotFoundError(f"--resume: no checkpoint.pt in {out_dir} (the run there stopped before its "
                                    "first checkpoint); --overwrite moves that folder aside and starts afresh")
        yield


def _annotation_changes(recorded: dict, now: dict) -> list[str]:
    """Splits whose annotation file differs (by SHA-256) between a checkpoint and this run."""
    changes = []
    for split in sorted(set(recorded) | set(now)):
        before, after = recorded.get(split, {}).get("sha256"), now.get(split, {}).get("sha256")
        if before != after:
            changes.append(f"{split}: {str(before)[:12]} in the checkpoint, {str(after)[:12]} in "
                           f"{now.get(split, {}).get('path', '(not loaded)')}")
    return changes


def _store_changes(recorded: dict, now: dict) -> list[str]:
    """Splits whose feature store differs (by `FeatureStore.digest`) between a checkpoint and this
    run; a split either side does not record is not compared."""
    return [f"{split}: {str(recorded[split]['sha256'])[:12]} from {recorded[split]['path']} in the checkpoint, "
            f"{str(now[split]['sha256'])[:12]} in {now[split]['path']}"
            for split in sorted(set(recorded) & set(now)) if recorded[split]["sha256"] != now[split]["sha256"]]


def _train(data: TrainData, model_config: SaSRConfig, config: TrainConfig, out_dir: Path | None,
           resume: bool, allow_new_annotations: bool, name: str) -> TrainResult:
    device = pick_device(config.device)
    if device.type == "cpu":
        keep_freed_memory()
    ddp = _init_distributed(device)
    if device.type == "cuda" and ddp.world > 1:
        device = torch.device("cuda", ddp.local_rank)
        torch.cuda.set_device(device)
    seed_everything(config.seed)

    model_config = sized_for(model_config, data)
    model = build_model(model_config).to(device)
    optimizer = build_optimizer(model, config.lr, config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)

    history: list[dict[str, Any]] = []
    start_epoch, best_val = 0, -1.0
    # what the checkpoints and config.json record
    provenance = {"annotations": data.annotations, "stores": {s: st.describe() for s, st in data.stores.items()}}
    last_path = out_dir / "checkpoint.pt" if out_dir else None
    best_path = out_dir / "best.pt" if out_dir else None
    if resume and last_path.is_file():
        ckpt = load_checkpoint(last_path, model_config=model_config, train_config=config.trajectory(),
                               vocabularies=data.vocabularies)
        if ckpt.extra.get("world_size", 1) != ddp.world:
            raise ValueError(f"{last_path} was written by {ckpt.extra.get('world_size', 1)} processes; "
                             f"resume it with the same number, not {ddp.world}")
        recorded = ckpt.extra.get("annotations", data.annotations)
        changes = _annotation_changes(recorded, data.annotations)
        if changes and not allow_new_annotations:
            raise ValueError(f"{last_path} was trained on other annotation files ({'; '.join(changes)}); resume "
                             "with the files it was trained on, or allow the switch with --allow_new_annotations")
        stores = _store_changes(ckpt.extra.get("stores", {}), provenance["stores"])
        if stores:
            raise ValueError(f"{last_path} was trained on other features ({'; '.join(stores)}); resume with the "
                             "feature stores it was trained on, or start afresh with --overwrite")
        provenance = {"annotations": recorded, "stores": ckpt.extra.get("stores", provenance["stores"])}
        switched = ckpt.extra.get("resumed_with_annotations", []) + ([data.annotations] if changes else [])
        if switched:
            provenance["resumed_with_annotations"] = switched
        model.load_state_dict(ckpt.model_state)
        optimizer.load_state_dict(ckpt.optimizer_state)
        scheduler.load_state_dict(ckpt.scheduler_state)
        restore_rng_state(ckpt.rng_state)
        start_epoch, history = ckpt.epoch + 1, ckpt.history
        best_val = max((h["val_accuracy"] for h in history if not math.isnan(h["val_accuracy"])), default=-1.0)

    bare = model
    if ddp.world > 1:
        # parameters without a gradient (a switched-off block's, the official network's held layers)
        # make DDP look for them each step instead of waiting for them
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=bare.has_unused_parameters)

    maps = maps_dtype(device, config.precision)
    train_loader = BatchLoader(data.dataset("train", seed=config.seed), config.batch_size, shuffle=True,
                               seed=config.seed, device=device, resident=config.resident, group=config.group,
                               maps_dtype=maps)
    batches = ShardedBatches(train_loader, ddp.rank, ddp.world) if ddp.world > 1 else train_loader
    val_batches = None
    if "val" in data.records and config.eval_every:
        val_loader = BatchLoader(data.dataset("val", seed=config.seed), max(config.batch_size, 64), shuffle=False,
                                 device=device, resident=config.resident, maps_dtype=maps)
        val_batches = ShardedBatches(val_loader, ddp.rank, ddp.world, pad=False) if ddp.world > 1 else val_loader

    writer = None
    if ddp.main and out_dir is not None:
        record_outputs(out_dir, "train")  # first: a run that stops early leaves its folder known as a run
        write_json_atomic(out_dir / "config.json", {
            "model": model_config.to_dict(), "train": config.to_dict(), "release": data.release,
            **provenance, "world_size": ddp.world})
        writer = _tensorboard(out_dir, config.tensorboard)

    num_batches = min(len(batches), config.max_batches or len(batches))
    for epoch in range(start_epoch, config.epochs):
        if config.converged([h["val_accuracy"] for h in history]):  # a resumed run that met the rule
            break
        last = epoch == config.epochs - 1
        validate = None
        if val_batches is not None and ((epoch + 1) % config.eval_every == 0 or last):
            validate = functools.partial(validation_accuracy, bare, val_batches, device, ddp.world, config.precision)
        row = _train_epoch(model, batches, num_batches, optimizer, model_config, config, device, epoch, ddp, name,
                           validate)
        row["lr"] = scheduler.get_last_lr()[0]
        scheduler.step()
        history.append(row)
        if config.converge_gain is not None:  # every rank sees the same (all-reduced) accuracies
            row["converged"] = config.converged([h["val_accuracy"] for h in history])
            last = last or row["converged"]  # so its checkpoint.pt is written now
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
                     history=history, extra={"world_size": ddp.world, **provenance})
        if (epoch + 1) % config.checkpoint_every == 0 or last:
            save_checkpoint(last_path, epoch=epoch, rng_state=capture_rng_state(), **state)
        if row["val_accuracy"] > best_val:
            best_val = row["val_accuracy"]
            # for evaluation only: resuming reads checkpoint.pt, so Adam's two moments are not kept here
            save_checkpoint(best_path, epoch=epoch, **(state | {"optimizer": None, "scheduler": None}))

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
    """`train_step` over this rank's batches, then ``validate()`` if given (its accuracy joins the bar);
    returns the epoch's metrics row (losses and train accuracy are means over samples)."""
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
        output, losses = train_step(model, batch, optimizer, model_config, config.negatives, config.precision)
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


if __name__ == "__main__":  # `python -m sasr_lite.train ...` and `torchrun ... -m sasr_lite.train ...`
    import sys

    from sasr_lite.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
