"""Configuration dataclasses: SaSR-Net's sizes and switches (`SaSRConfig`) and how to train it
(`TrainConfig`). `sasr_lite.settings` fills both from flags and config files."""

from __future__ import annotations

import math
import dataclasses
import typing
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sasr_lite.device import PRECISIONS


def check_field_types(config) -> None:
    """Raise one ValueError naming every field of the dataclass ``config`` whose value is not of its
    annotated type: a bool must be True/False (not "maybe"), an int a whole number (not a bool or
    "1"), a float a finite number; ``X | None`` also accepts None. Config files and flags reach the
    dataclasses as parsed values, so a wrong type is caught here, before any work."""
    hints = typing.get_type_hints(type(config))
    bad = []
    for f in fields(config):
        value, hint = getattr(config, f.name), hints[f.name]
        allowed = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
        if value is None and type(None) in typing.get_args(hint):
            continue
        kind = allowed[0]
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        elif kind is str:
            ok = isinstance(value, str)
        else:
            continue
        if not ok:
            wanted = {bool: "True or False", int: "a whole number", float: "a finite number", str: "a string"}[kind]
            bad.append(f"{f.name}={value!r} is not {wanted}")
    if bad:
        raise ValueError(f"{type(config).__name__}: " + "; ".join(bad))


ARCHS = ("paper", "official")
ANSWER_HEADS = ("closed", "multiple_choice")


@dataclass
class SaSRConfig:
    """Sizes, ablation switches and loss weights of SaSR-Net (docs/design.md section 3)."""

    # which network `sasr_lite.model.build_model` builds: "paper" (the paper's equations, this kit's
    # model) or "official" (the authors' released network, ported: sasr_lite/model/official/)
    arch: str = "paper"
    d_model: int = 512  # D: width of every embedding after projection
    num_tokens: int = 22  # C: source-wise learnable tokens, one per instrument class
    audio_dim: int = 128  # VGGish embedding size per segment
    visual_dim: int = 512  # ResNet-18 channels per map position / pooled vector
    question_vocab_size: int = 93  # the official question vocabulary; ours comes from train
    num_answers: int = 42  # the official answer head; ours comes from train
    # "closed": a classifier over num_answers train answers (MUSIC-AVQA); "multiple_choice": score
    # each question's candidates (AVQA-Yang; sasr_lite/model/answer.py, MultipleChoiceHead)
    answer_head: str = "closed"
    question_len: int = 14  # L: words per question after padding
    word_dim: int = 512  # word-embedding width fed to the question LSTM
    dropout: float = 0.1
    # f^g = f^s + FC(CrossAttn(f^s, G')) as the official code adds, instead of the paper's equation
    # without f^s, whose segments can all read the same token mixture and lose when each one is
    sasr_residual: bool = False
    # ablation switches (paper Tables 2 and 3)
    use_slt: bool = True  # source-wise learnable tokens (3.2)
    use_sasr: bool = True  # source-aware semantic representation (3.3)
    use_spatial: bool = True  # audio-guided spatial attention (3.4)
    use_temporal: bool = True  # question-guided temporal attention (3.5)
    # spatial attention logits: "l2" (AVST / official code) or "none" (the paper's equation)
    spatial_norm: str = "l2"
    spatial_temperature: float = 1.0  # logits are divided by this before the softmax over P
    # TA's logits q . f_t / sqrt(D) are divided by this before the softmax over T (1: the equation)
    temporal_temperature: float = 1.0
    # loss weights: L = L_avqa + lambda_source L_source + lambda_reg L_reg + lambda_match L_match
    lambda_source: float = 0.5
    lambda_reg: float = 0.5
    lambda_match: float = 0.5

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.answer_head not in ANSWER_HEADS:
            raise ValueError(f"answer_head must be one of {ANSWER_HEADS}, got {self.answer_head!r}")
        if self.spatial_norm not in ("l2", "none"):
            raise ValueError(f"spatial_norm must be 'l2' or 'none', got {self.spatial_norm!r}")
        for name in ("spatial_temperature", "temporal_temperature"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    @classmethod
    def tiny(cls, **overrides: Any) -> "SaSRConfig":
        """Small sizes for tests and fast mode (same structure, fewer numbers)."""
        base = dict(d_model=32, word_dim=32, question_vocab_size=40, num_answers=12, dropout=0.0)
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SaSRConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SaSRConfig fields: {unknown}")
        return cls(**values)

    def replace(self, **changes: Any) -> "SaSRConfig":
        return replace(self, **changes)


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
    precision: str = "auto"  # "fp32", "bf16" (autocast) or "auto": bf16 on CUDA, fp32 on a CPU (device.py)
    resident: bool = False  # copy the train/val stores to the device once (GPU: data costs nothing)
    eval_every: int = 1  # validate every N epochs (and after the last); 0 = never
    checkpoint_every: int = 1  # write checkpoint.pt every N epochs (and after the last)
    max_batches: int | None = None  # cap on batches per epoch (smoke runs); None = the whole split
    # stop once the best validation accuracy gained less than converge_gain points over the last
    # converge_window epochs (the run has converged); ``epochs`` is then the cap. None: run all epochs
    converge_gain: float | None = None
    converge_window: int = 2
    converge_min_epochs: int = 1  # never judged before this many epochs (early plateaus are no convergence)
    progress: bool = True  # a tqdm bar per epoch (plain text)
    verbose: bool = True  # one summary line per epoch
    tensorboard: bool = True  # also write TensorBoard events when the package is installed

    # fields that shape the weights a run reaches: a resumed run must agree on them
    TRAJECTORY_FIELDS: typing.ClassVar[tuple[str, ...]] = (
        "batch_size", "lr", "weight_decay", "step_size", "gamma", "seed", "negatives", "group", "max_batches",
    )

    def __post_init__(self) -> None:
        check_field_types(self)
        for name in ("batch_size", "epochs", "step_size", "group", "checkpoint_every", "converge_window",
                     "converge_min_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_batches", "num_threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1 or None, got {getattr(self, name)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.eval_every < 0:
            raise ValueError(f"TrainConfig.eval_every must be >= 0 (0: never), got {self.eval_every}")
        if self.converge_gain is not None and (self.converge_gain <= 0 or self.eval_every != 1):
            raise ValueError(f"TrainConfig.converge_gain needs a gain > 0 and eval_every=1 (validation after every "
                             f"epoch), got converge_gain={self.converge_gain}, eval_every={self.eval_every}")
        if self.lr <= 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or not 0 < self.gamma <= 1:
            raise ValueError(f"TrainConfig needs weight_decay >= 0 and 0 < gamma <= 1, got {self.weight_decay}, {self.gamma}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def trajectory(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.TRAJECTORY_FIELDS}

    def stopping(self) -> dict[str, Any]:
        """The fields that decide when a run ends: the epoch cap and the convergence rule."""
        return {"epochs": self.epochs, "converge_gain": self.converge_gain, "converge_window": self.converge_window,
                "converge_min_epochs": self.converge_min_epochs}

    def converged(self, val_accuracy: list[float]) -> bool:
        """The convergence rule on the validation accuracies (%) so far, one per epoch: True when
        there are more than ``converge_window`` of them (and at least ``converge_min_epochs``) and the
        best of the last ``converge_window``
        gained less than ``converge_gain`` points over the best before them. Best, not last: a
        validation set of a thousand questions moves by a point from epoch to epoch, and one
        unlucky epoch would otherwise stop a run that is still climbing."""
        if (self.converge_gain is None or len(val_accuracy) <= self.converge_window
                or len(val_accuracy) < self.converge_min_epochs):
            return False
        recent, before = val_accuracy[-self.converge_window:], val_accuracy[:-self.converge_window]
        return max(recent) - max(before) < self.converge_gain

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
