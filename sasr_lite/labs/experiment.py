"""Experiment exercises: change one setting at lesson scale, measure, explain. The check can
validate the report's structure and say what a good explanation mentions; it cannot judge prose."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sasr_lite.labs.verdict import Verdict

KEYS = ("setting", "value", "before", "after", "explanation")
MIN_WORDS = 12


@dataclass(frozen=True)
class Setting:
    """A setting an experiment may change, and which values make sense for it."""

    valid: Callable[[Any], bool]
    values: str  # the valid values in words


BOOL = Setting(lambda v: isinstance(v, (bool, np.bool_)), "True or False")
POSITIVE = Setting(lambda v: _real(v) and v > 0, "a number > 0")
NON_NEGATIVE = Setting(lambda v: _real(v) and v >= 0, "a number >= 0")
COUNT = Setting(lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1, "a whole number >= 1")
FRACTION = Setting(lambda v: _real(v) and 0 < v <= 1, "a number in (0, 1]")


def choice(*options: str) -> Setting:
    return Setting(lambda v: v in options, " or ".join(repr(o) for o in options))


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


@dataclass(frozen=True)
class Experiment:
    """``settings``: what the experiment may change (the SaSRConfig / TrainConfig field names);
    ``measure``: which accuracy before and after are; ``mention``: what a good explanation says."""

    settings: dict[str, Setting]
    measure: str
    mention: str
    kind: ClassVar[str] = "experiment"

    def grade(self, answer: Any) -> Verdict:
        problem = self._problem(answer)
        if problem:
            return Verdict(False, f"{problem} Expected a dict with keys {list(KEYS)}: the setting you changed "
                                  f"(one of {sorted(self.settings)}), its new value, {self.measure} before and "
                                  "after (percent, 0-100), and your explanation of the change.")
        change = answer["after"] - answer["before"]
        return Verdict(True, f"(structure only) {answer['setting']}={answer['value']!r}: {self.measure} "
                             f"{answer['before']:.2f} -> {answer['after']:.2f} ({change:+.2f} points). This check "
                             f"cannot judge your explanation; read it against what a good one mentions: {self.mention}")

    def _problem(self, answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return f"got {type(answer).__name__}, not a dict."
        missing = [k for k in KEYS if k not in answer]
        if missing:
            return f"keys {missing} are missing."
        setting = self.settings.get(answer["setting"])
        if setting is None:
            return f"setting {answer['setting']!r} is not one this experiment changes."
        if not setting.valid(answer["value"]):
            return f"value {answer['value']!r} does not fit {answer['setting']} (it takes {setting.values})."
        for key in ("before", "after"):
            if not _real(answer[key]) or not 0 <= answer[key] <= 100:
                return f"{key}={answer[key]!r} is not an accuracy in percent (a number in [0, 100])."
        explanation = answer["explanation"]
        if not isinstance(explanation, str) or len(explanation.split()) < MIN_WORDS:
            return f"the explanation needs at least {MIN_WORDS} words of your own reasoning."
        return None
