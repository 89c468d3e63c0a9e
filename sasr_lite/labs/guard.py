"""Keeping the package's own implementation out of a student's answer.

A package function is known by its code's (file, qualified name), its `Signature`, which a
process that never ran the student's code computes (`Target.signature`). In the process about to
run an answer (a forked child, or a grading kernel), `block` then finds every function object
with that code and replaces its ``__code__`` in place with one that raises. Replacing the code
rather than a name reaches the function however the answer holds it: a module attribute, a
``sys.modules`` alias, a default argument, a closure, a ``functools.partial``, a callable object,
a copy made with ``types.FunctionType``. The process ends after grading, so nothing is restored.
"""

from __future__ import annotations

import functools
import gc
import inspect
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from torch import nn

Signature = tuple[str, str, str]  # (code file, code qualname, the name a student knows it by)

# names of the blocked functions called in this process (kept when the answer swallows the error)
CALLS: list[str] = []


class PackageCalled(RuntimeError):
    """Raised by a blocked package function that a student's function called."""


@dataclass(frozen=True)
class Target:
    """A package object an exercise re-implements: ``owner.attr`` (a module function, or a
    class's ``forward``)."""

    owner: Any  # a module or a class
    attr: str

    def __post_init__(self) -> None:
        if self.attr not in vars(self.owner):
            raise ValueError(f"{self.owner!r} does not itself define {self.attr!r}")

    @property
    def original(self) -> Any:
        return vars(self.owner)[self.attr]

    @property
    def name(self) -> str:
        """What a student knows it by: the function, or the class for a ``forward``."""
        if inspect.isclass(self.owner):
            return f"{self.owner.__module__}.{self.owner.__qualname__}"
        return f"{self.owner.__name__}.{self.attr}"

    @property
    def signature(self) -> Signature:
        code = self.original.__code__
        return code.co_filename, code.co_qualname, self.name


def unwrapped(answer: Any) -> Iterator[Any]:
    """``answer``, then what it wraps: a partial's func, a bound method's function, a module's
    forward, a callable object's ``__call__``, ``__wrapped__``."""
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
        elif not inspect.isroutine(answer) and not inspect.isclass(answer) and callable(answer):
            answer = type(answer).__call__
        else:
            answer = getattr(answer, "__wrapped__", None)


def _is(code: Any, signature: Signature) -> bool:
    return isinstance(code, types.CodeType) and (code.co_filename, code.co_qualname) == signature[:2]


def package_target(answer: Any, signatures: list[Signature]) -> str | None:
    """The name of the package function ``answer`` is or wraps, else None."""
    for obj in unwrapped(answer):
        for signature in signatures:
            if _is(getattr(obj, "__code__", None), signature):
                return signature[2]
    return None


def _blocker_code(name: str, free: int) -> types.CodeType:
    """Code that records ``name`` in CALLS and raises PackageCalled; ``free`` unused free
    variables, because a function's new code must take as many as its closure holds."""
    names = [f"v{i}" for i in range(free)]
    msg = f"the package's own {name} is blocked while your function runs"
    source = (f"def outer():\n    {' = '.join(names + ['None']) if names else 'pass'}\n"
              f"    def blocked(*args, **kwargs):\n        {', '.join(names) or 'None'}\n"
              "        import sys\n        guard = sys.modules['sasr_lite.labs.guard']\n"
              f"        guard.CALLS.append({name!r})\n"
              f"        raise guard.PackageCalled({msg!r})\n"
              "    return blocked\n")
    namespace: dict = {}
    exec(compile(source, "<sasr-lite guard>", "exec"), namespace)
    return namespace["outer"]().__code__


def block(signatures: list[Signature]) -> int:
    """Make every function with one of ``signatures``' code raise PackageCalled when called;
    returns how many function objects were blocked. Only for a process that ends after grading."""
    blocked = 0
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType:  # not isinstance: that reads __class__, which some lazy modules warn about
            for signature in signatures:
                if _is(obj.__code__, signature):
                    obj.__code__ = _blocker_code(signature[2], len(obj.__code__.co_freevars))
                    blocked += 1
    return blocked
