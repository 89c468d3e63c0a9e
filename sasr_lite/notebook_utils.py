"""Helpers the notebooks share: one-line verdicts, fast-mode sizes, cached data and checkpoints.

- `cmp(name, derived, package)`: a notebook re-derives a block in a few lines of tensor code and
  checks the package gives the same numbers. The printed line is stable across machines (it names
  the tolerance, not the float difference), so the cell can carry ``# NBVAL_CHECK_OUTPUT``.
- `sizes(fast)`: every size a notebook picks (model, data, the three training runs), so full mode
  is one variable away (``FAST = sasr_lite.device.fast_mode()``).
- `synthetic_benchmark(size)`: ``notebooks/data/synth-<size>``, generated once (and again when the
  generator's code changes).
- `load_or_train(run_dir, ...)`: reuse a finished checkpoint written with the same settings,
  else train (notebook 00 writes ``SIZES.runs / "quickstart"``, 08 ``SIZES.runs / "sasr"``).
Paths are relative to the notebooks' working directory (``notebooks/``, as nbval runs them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sasr_lite.config import SaSRConfig
from sasr_lite.train import TrainConfig


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu()
    return torch.tensor(np.array(x, dtype=np.float32))  # a copy: inputs may be read-only views


def cmp(name: str, derived, package, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Assert the inline re-derivation ``derived`` matches the package's ``package`` output.

    Prints one line, e.g. ``ok  S(f)     shape [2, 32, 16]  allclose(atol=1e-05)``.
    Raises ``AssertionError`` naming the shapes or the largest difference when they disagree.
    """
    a, b = _as_tensor(derived), _as_tensor(package)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: derived shape {list(a.shape)} != package shape {list(b.shape)}")
    if not torch.allclose(a, b, atol=atol, rtol=rtol):
        diff = (a - b).abs().max().item()
        raise AssertionError(f"{name}: max |derived - package| = {diff:.3g} > atol={atol:g}")
    print(f"ok  {name:<28} shape {list(a.shape)}  allclose(atol={atol:g})")


# --- sizes: fast mode (make test) vs the real thing ------------------------------------------------
@dataclass(frozen=True)
class NotebookSizes:
    """Every size a notebook picks, in one place, so full mode is one variable away."""

    fast: bool
    synth_size: str  # synthetic benchmark: "tiny" (60 videos) or "full" (MUSIC-AVQA's scale)
    model: SaSRConfig  # vocabulary and answer sizes are replaced by the train split's
    train: TrainConfig  # notebook 08's run, reused by 09 and 11
    quick: TrainConfig  # notebook 00's first model
    ablation: TrainConfig  # each variant of notebook 10
    ablation_seeds: tuple[int, ...]

    @property
    def runs(self) -> Path:
        """Where this mode's checkpoints go: ``runs/fast`` or ``runs/full`` (under notebooks/)."""
        return Path("runs") / ("fast" if self.fast else "full")


def sizes(fast: bool) -> NotebookSizes:
    """Fast mode: a tiny model trained for seconds on 60 synthetic videos, a smoke run whose
    numbers mean nothing. Full mode: the paper's sizes and recipe (section 4.1) on the
    full-scale synthetic benchmark, meant for a GPU."""
    if fast:
        # seconds of training need a larger learning rate than the paper's 1e-4 to move at all;
        # one thread: a tiny model gains nothing from two, and loses a lot on a busy machine
        train = TrainConfig(epochs=5, lr=3e-3, step_size=4, gamma=0.3, progress=True, tensorboard=False,
                            num_threads=1)
        return NotebookSizes(
            fast=True, synth_size="tiny", model=SaSRConfig.tiny(), train=train,
            quick=train.replace(epochs=2, progress=False),
            ablation=train.replace(epochs=2, max_batches=7, progress=False), ablation_seeds=(0,),
        )
    train = TrainConfig(tensorboard=False)  # batch 16, 80 epochs, Adam 1e-4, x0.3 every 16 epochs
    return NotebookSizes(
        fast=False, synth_size="full", model=SaSRConfig(), train=train,
        quick=train.replace(epochs=5, progress=False),
        ablation=train.replace(progress=False), ablation_seeds=(0, 1, 2),
    )


def _generator_fingerprint() -> str:
    """SHA-256 of the synthetic generator's source: a cached benchmark made by other code is stale."""
    import hashlib

    import sasr_lite.synth

    digest = hashlib.sha256()
    for path in sorted(Path(sasr_lite.synth.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def synthetic_benchmark(size: str, root: str | Path = "data", seed: int = 0) -> Path:
    """``root/synth-{size}``, generated on first use and again whenever the generator's code changed
    (synth.json, written last, marks a complete folder; .generator-sha256 records the code)."""
    import shutil

    from sasr_lite.synth.generate import generate

    path = Path(root) / f"synth-{size}"
    stamp = path / ".generator-sha256"
    fingerprint = _generator_fingerprint()
    complete = (path / "synth.json").is_file() and stamp.is_file() and stamp.read_text() == fingerprint
    if not complete:
        print(f"generating the {size} synthetic benchmark (seed {seed}) into {path} ...")
        shutil.rmtree(path, ignore_errors=True)
        generate(path, size=size, seed=seed)
        stamp.write_text(fingerprint)
    return path


def load_or_train(
    run_dir: str | Path, data, model_config: SaSRConfig, train_config: TrainConfig, retrain: bool = False
):
    """(model in eval mode, history DataFrame): reuse ``run_dir/checkpoint.pt`` when it was written
    by a finished run with these configs and vocabularies, else train and write it there."""
    import pandas as pd

    from sasr_lite.checkpoint import CheckpointError, load_checkpoint
    from sasr_lite.evaluate import load_model
    from sasr_lite.train import train

    path = Path(run_dir) / "checkpoint.pt"
    expected = model_config.replace(
        question_vocab_size=len(data.question_vocab), num_answers=len(data.answer_vocab))
    if path.is_file() and not retrain:
        try:
            ckpt = load_checkpoint(path, model_config=expected, vocabularies=data.vocabularies,
                                   train_config={**train_config.trajectory(), "epochs": train_config.epochs})
        except CheckpointError as err:
            print(f"not reusing {path}: " + " ".join(line.strip() for line in str(err).splitlines()[:2]))
        else:
            if ckpt.epoch + 1 == train_config.epochs:
                model, _ = load_model(path, train_config.device)
                print(f"loaded {path} (trained {ckpt.epoch + 1} epochs)")
                return model, pd.DataFrame(ckpt.history)
            print(f"not reusing {path}: it stopped after epoch {ckpt.epoch + 1} of {train_config.epochs}")
    result = train(data, model_config, train_config, out_dir=run_dir)
    return result.model, result.history
