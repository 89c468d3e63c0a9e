"""Comparing a student's output with the package's, and saying what went wrong.

The order of the diagnosis: an output that is not a tensor (or the wrong number of outputs); a
known mistake the output matches (the exercise computed each wrong variant from the same
inputs); a wrong shape; the largest absolute difference and where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Case:
    """One random input of an implement exercise, with the package's answer and known wrong ones."""

    label: str  # the inputs in words, e.g. "f [2, 10, 32]"
    args: tuple  # passed to the student's function (copied first)
    expected: Any  # the package's output: a tensor, or a tuple of them
    mistakes: dict[str, Any] = field(default_factory=dict)  # hint -> output of a known wrong variant


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _as_tensor(value: Any) -> torch.Tensor:
    """float64 CPU copy of a tensor, array or number (float64: the comparison adds no rounding)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float64)
    return torch.from_numpy(np.array(value, dtype=np.float64))


def outputs_of(got: Any, names: tuple[str, ...]) -> tuple[torch.Tensor, ...] | str:
    """The student's ``got`` as one float64 tensor per expected output, or what is wrong with it."""
    values = _as_tuple(got) if len(names) > 1 else (got,)
    if len(values) != len(names):
        return (f"your function returned {type(got).__name__} with {len(values)} value(s); it should return "
                f"{len(names)}: ({', '.join(names)})")
    tensors = []
    for name, value in zip(names, values):
        if value is None:
            return f"{name} is None: does your function end with a `return`?"
        try:
            tensors.append(_as_tensor(value))
        except (TypeError, ValueError):
            return f"{name} should be a tensor, got {type(value).__name__}"
    return tuple(tensors)


def _close(a: torch.Tensor, b: torch.Tensor, atol: float, rtol: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=atol, rtol=rtol))


def _matches_mistake(got, expected, wrong, atol: float, rtol: float) -> bool:
    """Every output equals the mistake's or the right one, and at least one is the mistake's
    (a variant often spoils one output of several, e.g. the maps but not the pooled vector)."""
    if len(wrong) != len(got):
        return False
    spoiled = False
    for g, e, w in zip(got, expected, wrong):
        if _close(g, e, atol, rtol):
            continue
        if not _close(g, w, atol, rtol):
            return False
        spoiled = True
    return spoiled


def diagnose(got: Any, case: Case, names: tuple[str, ...], atol: float, rtol: float) -> str | None:
    """None when every output of ``got`` is allclose to the package's, else the reason."""
    outputs = outputs_of(got, names)
    if isinstance(outputs, str):
        return outputs
    expected = tuple(_as_tensor(e) for e in _as_tuple(case.expected))
    if all(_close(g, e, atol, rtol) for g, e in zip(outputs, expected)):
        return None
    for hint, wrong in case.mistakes.items():
        if _matches_mistake(outputs, expected, tuple(_as_tensor(w) for w in _as_tuple(wrong)), atol, rtol):
            return hint
    for name, g, e in zip(names, outputs, expected):
        if g.shape != e.shape:
            return f"{name} has shape {list(g.shape)}, expected {list(e.shape)}"
        if not _close(g, e, atol, rtol):
            return _largest_difference(name, g, e, atol, rtol)
    return None


def _largest_difference(name: str, got: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> str:
    bad = ~torch.isfinite(got)
    if bad.any():
        where = [int(i) for i in np.unravel_index(int(bad.flatten().nonzero()[0]), tuple(got.shape))]
        return f"{name} holds NaN or infinite values (the first at index {where})"
    diff = (got - expected).abs()
    where = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), tuple(got.shape)))
    at = f" at index {list(where)}" if where else ""
    return (f"{name} differs from the package's: the largest |difference| is {diff.max().item():.3g}{at} "
            f"(yours {got[where].item():.5g}, expected {expected[where].item():.5g}; "
            f"torch.allclose with atol={atol:g}, rtol={rtol:g})")
