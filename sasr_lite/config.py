"""Model configuration: the single place for SaSR-Net's sizes and switches."""

from __future__ import annotations

import math
import typing
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


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


@dataclass
class SaSRConfig:
    """Sizes, ablation switches and loss weights of SaSR-Net (DESIGN.md section 3)."""

    d_model: int = 512  # D: width of every embedding after projection
    num_tokens: int = 22  # C: source-wise learnable tokens, one per instrument class
    audio_dim: int = 128  # VGGish embedding size per segment
    visual_dim: int = 512  # ResNet-18 channels per map position / pooled vector
    question_vocab_size: int = 93  # the official question vocabulary; ours comes from train
    num_answers: int = 42  # the official answer head; ours comes from train
    question_len: int = 14  # L: words per question after padding
    word_dim: int = 512  # word-embedding width fed to the question LSTM
    dropout: float = 0.1
    # ablation switches (paper Tables 2 and 3)
    use_slt: bool = True  # source-wise learnable tokens (3.2)
    use_sasr: bool = True  # source-aware semantic representation (3.3)
    use_spatial: bool = True  # audio-guided spatial attention (3.4)
    use_temporal: bool = True  # question-guided temporal attention (3.5)
    # spatial attention logits: "l2" (AVST / official code) or "none" (the paper's equation)
    spatial_norm: str = "l2"
    spatial_temperature: float = 1.0  # logits are divided by this before the softmax over P
    # loss weights: L = L_avqa + lambda_source L_source + lambda_reg L_reg + lambda_match L_match
    lambda_source: float = 0.5
    lambda_reg: float = 0.5
    lambda_match: float = 0.5

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.spatial_norm not in ("l2", "none"):
            raise ValueError(f"spatial_norm must be 'l2' or 'none', got {self.spatial_norm!r}")
        if self.spatial_temperature <= 0:
            raise ValueError(f"spatial_temperature must be > 0, got {self.spatial_temperature}")

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
