"""A graded answer: whether it passed, and the one paragraph that says why."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str  # one paragraph, without the leading PASS / FAIL

    def render(self, exercise_id: str) -> str:
        """The printed paragraph: ``PASS 03.self_attention: ...`` wrapped at 100 columns."""
        word = "PASS" if self.passed else "FAIL"
        # never break inside a word: names like `sasr_lite.model.slt.self_attention` stay whole
        return textwrap.fill(f"{word} {exercise_id}: {self.reason}", width=100,
                             break_long_words=False, break_on_hyphens=False)
