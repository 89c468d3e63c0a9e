"""Checkpoints: everything needed to resume or evaluate a run, written atomically.

A checkpoint holds the model, optimizer and scheduler states, the epoch just finished, the RNG
states (so a resumed CPU run reaches exactly the weights of an uninterrupted one), the
SaSRConfig, the TrainConfig, the vocabularies (plain token lists) and the annotation release.
It is a `torch.save` file of plain Python data and tensors, loaded with ``weights_only=True``.

Writes go to a temporary file in the same folder and then ``os.replace`` onto the target, so a
crash or a full disk mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import torch

from sasr_lite.config import SaSRConfig
from sasr_lite.data.files import write_atomic

FORMAT = "sasr-lite-checkpoint"
FORMAT_VERSION = 1
_REQUIRED_KEYS = ("format", "version", "epoch", "model", "model_config", "vocabularies")


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used; the message names the file and the reason."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, corrupt, or not a sasr-lite checkpoint."""


class ConfigMismatchError(CheckpointError):
    """The checkpoint was written with another configuration; ``fields`` lists the differences."""

    def __init__(self, message: str, fields: list[str]):
        super().__init__(message)
        self.fields = fields


class VocabularyMismatchError(CheckpointError):
    """The checkpoint's vocabularies differ from the ones built for this run."""


@dataclass
class Checkpoint:
    """The contents of a checkpoint file, with configs rebuilt as objects where possible."""

    path: Path
    epoch: int  # the last completed epoch (0-based); training resumes at epoch + 1
    model_state: dict[str, torch.Tensor]
    model_config: SaSRConfig
    vocabularies: dict[str, list[str]]  # "question", "answer" -> token lists
    train_config: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = None
    scheduler_state: dict[str, Any] | None = None
    rng_state: dict[str, Any] | None = None
    release: str | None = None  # annotation release the model was trained on
    history: list[dict[str, Any]] = field(default_factory=list)  # per-epoch metrics rows
    extra: dict[str, Any] = field(default_factory=dict)


# --- RNG states -------------------------------------------------------------------------------
def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch CPU (and CUDA when present) RNG states as plain data."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": (kind, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- save / load ------------------------------------------------------------------------------
def _plain(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    return dict(config)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The bare model inside DistributedDataParallel (state dict keys without 'module.')."""
    return getattr(model, "module", model)


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: torch.nn.Module,
    epoch: int,
    model_config: SaSRConfig,
    vocabularies: Mapping[str, Iterable[str]],
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    train_config: Any = None,
    release: str | None = None,
    rng_state: Mapping[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically; returns its path.

    ``vocabularies`` maps a name ("question", "answer") to its token list (a Vocabulary's
    ``tokens``); ``train_config`` is a TrainConfig or a dict.
    """
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "epoch": int(epoch),
        "model": _unwrap(model).state_dict(),
        "model_config": model_config.to_dict(),
        "train_config": _plain(train_config),
        "vocabularies": {name: list(tokens) for name, tokens in vocabularies.items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng_state": dict(rng_state) if rng_state is not None else None,
        "release": release,
        "history": list(history or []),
        "extra": dict(extra or {}),
    }
    return write_atomic(path, lambda f: torch.save(payload, f))


def config_differences(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """``"name: found X, expected Y"`` for every key of ``expected`` whose value differs."""
    diffs = []
    for name, want in expected.items():
        have = found.get(name, "<missing>")
        if have != want:
            diffs.append(f"{name}: checkpoint has {have!r}, expected {want!r}")
    return diffs


def _vocabulary_differences(expected: Mapping[str, list[str]], found: Mapping[str, list[str]]) -> list[str]:
    diffs = []
    for name, want in expected.items():
        have = found.get(name)
        if have is None:
            diffs.append(f"{name}: missing from the checkpoint")
            continue
        want = list(want)
        if have == want:
            continue
        first = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b), min(len(have), len(want)))
        have_tok = have[first] if first < len(have) else "<end>"
        want_tok = want[first] if first < len(want) else "<end>"
        diffs.append(
            f"{name}: checkpoint has {len(have)} tokens, expected {len(want)}; first difference at "
            f"index {first} ({have_tok!r} vs {want_tok!r})"
        )
    return diffs


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model_config: SaSRConfig | Mapping[str, Any] | None = None,
    train_config: Mapping[str, Any] | None = None,
    vocabularies: Mapping[str, Iterable[str]] | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Read a checkpoint, checking it against what the caller expects.

    Raises FileNotFoundError for a missing file, CorruptCheckpointError (naming the file) for a
    truncated or foreign one, ConfigMismatchError naming each differing field when
    ``model_config`` or the given ``train_config`` entries differ, and VocabularyMismatchError
    when ``vocabularies`` differ. Only the ``train_config`` keys given are compared, so callers
    pass the fields that must agree (for resuming: those that shape the training trajectory).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # zip/pickle/EOF errors of every kind mean the same thing here
        raise CorruptCheckpointError(
            f"checkpoint {path} is truncated or corrupt ({path.stat().st_size} bytes; "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
            "use an earlier checkpoint or retrain"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CorruptCheckpointError(f"{path} is not a sasr-lite checkpoint")
    missing = [k for k in _REQUIRED_KEYS if k not in payload]
    if missing:
        raise CorruptCheckpointError(f"checkpoint {path} lacks entries {missing}")
    if payload["version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {payload['version']}; this sasr-lite reads "
            f"up to {FORMAT_VERSION}"
        )

    # a field added to SaSRConfig after the checkpoint was written (answer_head) takes its default:
    # the value every older checkpoint implied
    defaults = {f.name: f.default for f in dataclasses.fields(SaSRConfig)}
    payload["model_config"] = {**defaults, **payload["model_config"]}
    diffs: list[str] = []
    if model_config is not None:
        expected = model_config.to_dict() if isinstance(model_config, SaSRConfig) else dict(model_config)
        diffs += [f"model {d}" for d in config_differences(expected, payload["model_config"])]
    if train_config is not None:
        diffs += [f"train {d}" for d in config_differences(train_config, payload.get("train_config", {}))]
    if diffs:
        raise ConfigMismatchError(
            f"checkpoint {path} was written with another configuration:\n  " + "\n  ".join(diffs),
            fields=[d.split(":")[0] for d in diffs],
        )
    if vocabularies is not None:
        expected_vocab = {name: list(tokens) for name, tokens in vocabularies.items()}
        vdiffs = _vocabulary_differences(expected_vocab, payload["vocabularies"])
        if vdiffs:
            raise VocabularyMismatchError(
                f"checkpoint {path} was trained with other vocabularies (the answer/question "
                "indices would not line up):\n  " + "\n  ".join(vdiffs)
            )

    try:
        config = SaSRConfig.from_dict(payload["model_config"])
    except (TypeError, ValueError) as err:
        raise CorruptCheckpointError(f"checkpoint {path} has an unreadable model config: {err}") from err
    return Checkpoint(
        path=path,
        epoch=int(payload["epoch"]),
        model_state=payload["model"],
        model_config=config,
        vocabularies={k: list(v) for k, v in payload["vocabularies"].items()},
        train_config=dict(payload.get("train_config") or {}),
        optimizer_state=payload.get("optimizer"),
        scheduler_state=payload.get("scheduler"),
        rng_state=payload.get("rng_state"),
        release=payload.get("release"),
        history=list(payload.get("history") or []),
        extra=dict(payload.get("extra") or {}),
    )
