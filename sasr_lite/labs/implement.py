"""Implement exercises: the student writes a function from a stub; it is run on several random
inputs (`sasr_lite.labs.sandbox`) and its outputs are compared with the package's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from sasr_lite.labs.compare import Case, diagnose
from sasr_lite.labs.guard import Target
from sasr_lite.labs.verdict import Verdict


@dataclass(frozen=True)
class Implement:
    """What an implement exercise checks.

    ``cases(seed)`` builds the random inputs, the package's outputs and the known wrong variants
    (deterministic, so it may be cached); called without a seed it gives the self-check's own
    inputs, with one the grader's hidden ones. ``compare`` replaces the tensor comparison for
    outputs that are not tensors (it returns None when they agree, else the reason).
    """

    stub: str  # the source a student starts from
    package: tuple[Target, ...]  # the package function(s) the answer must neither be nor call
    cases: Callable[..., list[Case]]
    outputs: tuple[str, ...] = ("output",)  # names of the returned values, in order
    atol: float = 1e-5
    rtol: float = 1e-4
    compare: Callable[[Any, Case], str | None] | None = None
    agreement: str | None = None  # how ``compare`` agrees, for the PASS line (default: the allclose tolerance)
    kind: ClassVar[str] = "implement"

    def _cases(self, seed: int | None) -> list[Case]:
        return self.cases() if seed is None else self.cases(seed)

    def inputs(self, seed: int | None) -> dict:
        """What the sandbox needs to run an answer: each case's arguments and the package
        functions to block (never the expected outputs)."""
        return {"kind": self.kind, "cases": [c.args for c in self._cases(seed)],
                "targets": [t.signature for t in self.package]}

    def judge(self, report: dict, seed: int | None) -> Verdict:
        """The verdict on the sandbox's ``report`` of the answer's outputs."""
        if "problem" in report:
            return Verdict(False, report["problem"])
        cases, results = self._cases(seed), report["results"]
        if len(results) != len(cases):
            return Verdict(False, f"the run of your function reported {len(results)} results for {len(cases)} inputs.")
        for case, result in zip(cases, results):
            problem = result.get("problem")
            if problem is None:
                got = result["output"]
                problem = self.compare(got, case) if self.compare else diagnose(got, case, self.outputs,
                                                                                 self.atol, self.rtol)
            if problem is not None:
                return Verdict(False, f"on {case.label}: {problem}")
        agreement = self.agreement or f"torch.allclose with atol={self.atol:g}, rtol={self.rtol:g}"
        return Verdict(True, f"your function matches {self.package[0].name} on {len(cases)} random inputs, "
                             f"{agreement}: {'; '.join(c.label for c in cases)}.")
