"""Implement exercises: the student writes a function from a stub; it is run on several random
inputs and compared with the package's own implementation."""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from sasr_lite.labs.compare import Case, diagnose
from sasr_lite.labs.guard import Target, blocked, package_target
from sasr_lite.labs.verdict import Verdict


@dataclass(frozen=True)
class Implement:
    """What an implement exercise checks.

    ``cases`` builds the random inputs, the package's outputs and the known wrong variants
    (deterministic, so it may be cached). ``compare`` replaces the tensor comparison for outputs
    that are not tensors (it returns None when they agree, else the reason).
    """

    stub: str  # the source a student starts from
    package: tuple[Target, ...]  # the package function(s) the answer must neither be nor call
    cases: Callable[[], list[Case]]
    outputs: tuple[str, ...] = ("output",)  # names of the returned values, in order
    atol: float = 1e-5
    rtol: float = 1e-4
    compare: Callable[[Any, Case], str | None] | None = None
    agreement: str | None = None  # how ``compare`` agrees, for the PASS line (default: the allclose tolerance)
    kind: ClassVar[str] = "implement"

    def grade(self, answer: Any) -> Verdict:
        target = package_target(answer, self.package)
        if target is not None:
            return Verdict(False, f"that is the package's own {target.name}: the check compares your function "
                                  "with it, so hand in the function you wrote from the stub instead.")
        if not callable(answer):
            return Verdict(False, f"expected your function, got {type(answer).__name__}.")
        cases = self.cases()
        for case in cases:
            got, problem = self._run(answer, case)
            if problem is None:
                problem = self.compare(got, case) if self.compare else diagnose(got, case, self.outputs,
                                                                                 self.atol, self.rtol)
            if problem is not None:
                return Verdict(False, f"on {case.label}: {problem}")
        agreement = self.agreement or f"torch.allclose with atol={self.atol:g}, rtol={self.rtol:g}"
        return Verdict(True, f"your function matches {self.package[0].name} on {len(cases)} random inputs, "
                             f"{agreement}: {'; '.join(c.label for c in cases)}.")

    def _run(self, answer: Any, case: Case) -> tuple[Any, str | None]:
        """The student's output on a copy of the case's inputs, or why there is none."""
        error = None
        with blocked(self.package, answer) as calls, torch.no_grad():
            try:
                got = answer(*copy.deepcopy(case.args))
            except Exception as err:  # any error of the student's code is a verdict, not a crash
                got, error = None, err
        if calls:
            return None, (f"your function called the package's own {calls[0]} (blocked while your function "
                          "runs): the exercise is to write that computation yourself.")
        if error is not None:
            return None, f"your function raised {type(error).__name__}: {error}{_where(error, answer)}"
        return got, None


def _where(error: BaseException, answer: Any) -> str:
    """' (at line 4 of your code: `...`)' for the deepest traceback line in the student's file."""
    code = getattr(answer, "__code__", None)
    if code is None:
        return ""
    lines = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == code.co_filename and f.line]
    return f" (at line {lines[-1].lineno} of your code: `{lines[-1].line}`)" if lines else ""
