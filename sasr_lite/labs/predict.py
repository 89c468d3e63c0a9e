"""Predict exercises: the student works out a number; the check computes it with the package
and compares, naming a known wrong value when the answer is one."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from sasr_lite.labs.verdict import Verdict


@dataclass(frozen=True)
class Predict:
    """What a predict exercise checks. ``expected`` and ``wrong`` are computed when the check runs
    (from the package: building the block, running the loss), never copied from a note."""

    expected: Callable[[], float]
    why: str  # the reasoning, printed with a PASS
    clue: str  # how to get there, printed with a FAIL that matches no known mistake
    wrong: Callable[[], dict[str, float]] = dict  # hint -> a known wrong answer
    abs_tol: float = 0.0
    rel_tol: float = 1e-3
    kind: ClassVar[str] = "predict"

    def _close(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.rel_tol, abs_tol=self.abs_tol)

    def _tolerance(self) -> str:
        parts = ([f"±{self.abs_tol:g}"] if self.abs_tol else []) + ([f"{self.rel_tol:.1%}"] if self.rel_tol else [])
        return " or ".join(parts) if parts else "exactly"

    def grade(self, answer: Any) -> Verdict:
        value = _number(answer)
        if value is None:
            return Verdict(False, f"expected one number, got {type(answer).__name__} ({answer!r:.60}).")
        expected = self.expected()
        if self._close(value, expected):
            return Verdict(True, f"{value:.6g} agrees with the kit's {expected:.6g} (tolerance {self._tolerance()}). "
                                 f"{self.why}")
        for hint, wrong in self.wrong().items():
            if self._close(value, wrong):
                return Verdict(False, f"{value:.6g} is a known slip: {hint}")
        side = "too high" if value > expected else "too low"
        return Verdict(False, f"{value:.6g} is {side}. {self.clue}")


def _number(answer: Any) -> float | None:
    """A finite real number from an int, float, numpy scalar or one-element tensor/array; else None."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    elif isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not math.isfinite(float(answer)):
        return None
    return float(answer)
