"""Experiment exercises: change one setting at lesson scale, measure, explain. The check grades the
numbers on evidence: the answer names the run folder with the changed setting (``run``) and the one
it is compared with (``baseline``), each a folder or a list of folders (one per seed, paired in
order); their config.json must show that one setting changed, and before / after must be what
their test_result.json files recorded (`sasr_lite.notebook_utils.record_test_accuracy`). Relative
folders are read from the notebook's folder. The check cannot judge prose: it says what a good
explanation mentions."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sasr_lite.config import TrainConfig
from sasr_lite.data.files import read_json, sha256_file
from sasr_lite.labs.verdict import Verdict
from sasr_lite.notebook_utils import TEST_RESULT

KEYS = ("setting", "value", "before", "after", "explanation")
EVIDENCE = ("run", "baseline")  # the run folders the numbers come from
MIN_WORDS = 12
TOLERANCE = 0.05  # points between a reported and a recorded accuracy (rounding, not a re-measurement)
# the train fields that decide what a run learns (not the device, threads or logging)
LEARNING_FIELDS = TrainConfig.TRAJECTORY_FIELDS + tuple(TrainConfig().stopping())


class EvidenceError(ValueError):
    """What the run folders an answer names say against it (the message names the file)."""


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
    ``measure``: which accuracy before and after are; ``mention``: what a good explanation says;
    ``unchecked``: why the numbers cannot be checked against run folders (None: they are)."""

    settings: dict[str, Setting]
    measure: str
    mention: str
    unchecked: str | None = None
    kind: ClassVar[str] = "experiment"

    @property
    def keys(self) -> tuple[str, ...]:
        return KEYS if self.unchecked else KEYS + EVIDENCE

    def grade(self, answer: Any, folder: str | Path | None = None) -> Verdict:
        """The verdict on ``answer``; relative run folders are read from ``folder`` (the notebook's
        folder; default: the current one)."""
        problem = self._problem(answer)
        if problem:
            evidence = "" if self.unchecked else (", and the run folders they were measured in: run (the changed "
                                                  "setting) and baseline (what it is compared with)")
            return Verdict(False, f"{problem} Expected a dict with keys {list(self.keys)}: the setting you changed "
                                  f"(one of {sorted(self.settings)}), its new value, {self.measure} before and "
                                  f"after (percent, 0-100), your explanation of the change{evidence}.")
        if self.unchecked:
            source = f"structure only: {self.unchecked}"
        else:
            try:
                check_evidence(answer, Path(folder) if folder is not None else Path.cwd())
            except EvidenceError as err:
                return Verdict(False, str(err))
            source = f"numbers as recorded in the runs' {TEST_RESULT}"
        change = answer["after"] - answer["before"]
        return Verdict(True, f"({source}) {answer['setting']}={answer['value']!r}: {self.measure} "
                             f"{answer['before']:.2f} -> {answer['after']:.2f} ({change:+.2f} points). This check "
                             f"cannot judge your explanation; read it against what a good one mentions: {self.mention}")

    def _problem(self, answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return f"got {type(answer).__name__}, not a dict."
        missing = [k for k in self.keys if k not in answer]
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


def check_evidence(answer: dict, folder: Path) -> None:
    """Raise EvidenceError unless the answer's run and baseline folders (relative ones under
    ``folder``) differ in its setting alone, with its value in ``run``, and recorded its before and
    after on one test set."""
    runs, baselines = _folders(answer, "run", folder), _folders(answer, "baseline", folder)
    if len(runs) != len(baselines):
        raise EvidenceError(f"run names {len(runs)} folder(s) and baseline {len(baselines)}: give one of each per "
                            "seed, in the same order.")
    for run, baseline in zip(runs, baselines):
        _check_change(answer["setting"], answer["value"], run, baseline)
    recorded = {"before": [_recorded(f) for f in baselines], "after": [_recorded(f) for f in runs]}
    test_sets = {test_set for results in recorded.values() for _, test_set in results}
    if len(test_sets) > 1:
        raise EvidenceError(f"the runs' {TEST_RESULT} files were measured on different test annotations; measure "
                            "every run on the same test split.")
    for key, name, folders in (("before", "baseline", baselines), ("after", "run", runs)):
        accuracy = float(np.mean([a for a, _ in recorded[key]]))
        if abs(answer[key] - accuracy) > TOLERANCE:
            where = (f"{folders[0] / TEST_RESULT} recorded" if len(folders) == 1
                     else f"the mean of {name}'s {len(folders)} {TEST_RESULT} files is")
            raise EvidenceError(f"{key}={answer[key]:.2f} is not the measured accuracy: {where} {accuracy:.2f}. "
                                "Report the numbers your runs measured.")


def _folders(answer: dict, key: str, folder: Path) -> list[Path]:
    given = answer[key]
    items = given if isinstance(given, list) else [given]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise EvidenceError(f"{key}={given!r} is not a run folder (a path, as a string) or a list of them, "
                            "one per seed.")
    return [folder / Path(item).expanduser() for item in items]  # an absolute path stays as it is


def _check_change(setting: str, value: Any, run: Path, baseline: Path) -> None:
    """``run``'s config.json records ``setting`` = ``value``, ``baseline``'s another value, and
    every other setting that decides what is learned (and the train data) alike in both."""
    changed, kept = _learning_settings(run), _learning_settings(baseline)
    if not _same(changed.get(setting), value):
        raise EvidenceError(f"{run / 'config.json'} records {setting}={changed.get(setting)!r}, not the {value!r} "
                            "your answer reports: run must be the run with the changed setting.")
    if _same(kept.get(setting), value):
        raise EvidenceError(f"{baseline / 'config.json'} records {setting}={value!r} too: the baseline is the run "
                            "without your change.")
    others = sorted(k for k in changed.keys() | kept.keys() if k != setting and changed.get(k) != kept.get(k))
    if others:
        first = others[0]
        raise EvidenceError(f"{run / 'config.json'} and {baseline / 'config.json'} also differ in {others} (e.g. "
                            f"{first}: {changed.get(first)!r} vs {kept.get(first)!r}); change one setting at a time, "
                            "seed included.")


def _learning_settings(run: Path) -> dict[str, Any]:
    """Every model field, the train fields that decide what is learned and the train annotations'
    checksum, from ``run``'s config.json (written by `sasr_lite.train.train`)."""
    path = run / "config.json"
    try:
        config = read_json(path, "run config (config.json, written when the run trained)")
        train = config["train"]
        return {**config["model"], **{k: train[k] for k in LEARNING_FIELDS},
                "train annotations (sha256)": config["annotations"]["train"]["sha256"]}
    except (OSError, ValueError) as err:
        raise EvidenceError(f"{err}.") from None
    except (KeyError, TypeError) as err:
        raise EvidenceError(f"{path} is not a training run's config ({type(err).__name__}: {err}).") from None


def _recorded(run: Path) -> tuple[float, str]:
    """(overall test accuracy, test annotations' sha256) from ``run``'s test_result.json, which
    must have been measured on the checkpoint.pt the folder holds now."""
    path, checkpoint = run / TEST_RESULT, run / "checkpoint.pt"
    try:
        result = read_json(path, f"recorded test result ({TEST_RESULT}, written by "
                                 "overall_test_accuracy(model, data, run_dir=...))")
        accuracy, test_set = float(result["overall"]), result["annotations"]["sha256"]
        measured_on, holds = result["checkpoint"]["sha256"], sha256_file(checkpoint)
    except (OSError, ValueError) as err:
        raise EvidenceError(f"{err}.") from None
    except (KeyError, TypeError) as err:
        raise EvidenceError(f"{path} is not a test result written by record_test_accuracy "
                            f"({type(err).__name__}: {err}).") from None
    if measured_on != holds:
        raise EvidenceError(f"{path} was measured on another checkpoint than {checkpoint} holds now (its SHA-256 "
                            "differs): measure the run again.")
    return accuracy, test_set


def _same(a: Any, b: Any) -> bool:
    """Equal settings; numbers within float rounding (a config.json round trip, 4 * lr)."""
    if _real(a) and _real(b):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and isinstance(a, bool) == isinstance(b, bool)  # True is not the number 1
