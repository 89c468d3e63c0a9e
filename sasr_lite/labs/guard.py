"""Keeping the package's own implementation out of a student's answer.

Two rules. An answer that *is* the package's function (or a partial, bound method, wrapper or
instance of it) is refused before it runs. And while the student's function runs, the package
function is replaced by a blocker wherever a name can reach it: its owner (a module, or the class
whose ``forward`` it is), every loaded ``sasr_lite`` module that re-exports it, and the globals of
the student's function (a notebook that ran ``from sasr_lite.model import self_attention`` holds
its own reference). Everything is restored afterwards, also when the student's code raises.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import nn


class PackageCalled(RuntimeError):
    """Raised by a blocked package function that a student's function called."""


@dataclass(frozen=True)
class Target:
    """A package object an exercise re-implements: ``owner.attr`` (a module function, or a
    class's ``forward``)."""

    owner: Any  # a module or a class
    attr: str

    def __post_init__(self) -> None:
        # blocking sets and restores the attribute on the owner: it must be the owner's own
        if self.attr not in vars(self.owner):
            raise ValueError(f"{self.owner!r} does not itself define {self.attr!r}")

    @property
    def original(self) -> Any:
        return getattr(self.owner, self.attr)

    @property
    def name(self) -> str:
        """What a student knows it by: the function, or the class for a ``forward``."""
        if inspect.isclass(self.owner):
            return f"{self.owner.__module__}.{self.owner.__qualname__}"
        return f"{self.owner.__name__}.{self.attr}"


def _unwrapped(answer: Any) -> Iterator[Any]:
    """``answer``, then what it wraps: a partial's func, a bound method's function, a module's
    forward, ``__wrapped__``."""
    seen = 0
    while answer is not None and seen < 8:  # wrappers nest only a few deep; this stops a cycle
        yield answer
        seen += 1
        if isinstance(answer, functools.partial):
            answer = answer.func
        elif inspect.ismethod(answer):
            answer = answer.__func__
        elif isinstance(answer, nn.Module):
            answer = answer.forward
        else:
            answer = getattr(answer, "__wrapped__", None)


def package_target(answer: Any, targets: tuple[Target, ...]) -> Target | None:
    """The target that ``answer`` is or wraps (an instance or the class counts too), else None."""
    for obj in _unwrapped(answer):
        for t in targets:
            if obj is t.original or obj is t.owner or (inspect.isclass(t.owner) and isinstance(obj, t.owner)):
                return t
    return None


def _places(target: Target, answer: Any) -> list[tuple[Any, str]]:
    """Every (namespace, name) through which ``answer`` could reach the target: a namespace is a
    module, a class or a globals dict."""
    original = target.original
    places = [(target.owner, target.attr)]
    if not inspect.isclass(target.owner):  # a class's method is reached through the class alone
        spaces = [vars(m) for n, m in list(sys.modules.items()) if n == "sasr_lite" or n.startswith("sasr_lite.")]
        spaces += [f.__globals__ for f in _unwrapped(answer) if inspect.isfunction(f)]
        seen = {id(vars(target.owner))}
        for space in spaces:
            if id(space) in seen:
                continue
            seen.add(id(space))
            places += [(space, name) for name, value in list(space.items()) if value is original]
    return places


def _set(space: Any, name: str, value: Any) -> None:
    if isinstance(space, dict):
        space[name] = value
    else:
        setattr(space, name, value)


def _blocker(name: str, calls: list[str]):
    def blocked(*args, **kwargs):
        calls.append(name)
        raise PackageCalled(f"the package's own {name} is blocked while your function runs")

    return blocked


@contextmanager
def blocked(targets: tuple[Target, ...], answer: Any) -> Iterator[list[str]]:
    """Block ``targets`` while the body runs; yields the list of blocked names that were called
    (filled even when the student's code swallows the blocker's exception)."""
    calls: list[str] = []
    saved: list[tuple[Any, str, Any]] = []
    try:
        for t in targets:
            original, blocker = t.original, _blocker(t.name, calls)
            for space, name in _places(t, answer):
                saved.append((space, name, original))
                _set(space, name, blocker)
        yield calls
    finally:
        for space, name, original in reversed(saved):
            _set(space, name, original)
