"""The exercise list and the one grading entry point, `check`."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from sasr_lite.labs import (
    nb01_features, nb02_data, nb03_source_tokens, nb04_semantic, nb05_spatial, nb06_temporal, nb07_answer,
    nb08_training, nb09_evaluation, nb10_ablations,
)
from sasr_lite.labs import selfcheck
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.selfcheck import GRADING, TIME_LIMITS

EXERCISES: dict[str, Exercise] = {
    e.id: e
    for module in (nb01_features, nb02_data, nb03_source_tokens, nb04_semantic, nb05_spatial, nb06_temporal,
                   nb07_answer, nb08_training, nb09_evaluation, nb10_ablations)
    for e in module.EXERCISES
}


def exercises() -> pd.DataFrame:
    """One row per exercise: id, notebook, kind ("implement", "predict", "experiment"), objective,
    minutes, points, and stub (the source an implement exercise starts from; None for the others)."""
    return pd.DataFrame([dict(id=e.id, notebook=e.notebook, kind=e.kind, objective=e.objective,
                              minutes=e.minutes, points=e.points, stub=e.stub) for e in EXERCISES.values()])


def check(exercise_id: str, answer: Any, time_limit: float | None = None) -> bool:
    """Grade ``answer`` for ``exercise_id``: print one paragraph starting with PASS or FAIL and
    return whether it passed. A predict or experiment answer may be a function returning it.

    The answer runs in a forked child with the package's functions blocked and at most
    ``time_limit`` seconds (default: its kind's, `TIME_LIMITS`); the inputs and the verdict come
    from a clean process (`sasr_lite.labs.selfcheck`). A wrong, unfinished, endless or exiting
    answer never raises; an unknown id raises ValueError listing the known ones. Under
    `sasr-lite grade` (``GRADING`` set) it only says so: the grader grades the answer itself."""
    if exercise_id not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise_id!r}; known exercises: {', '.join(EXERCISES)}")
    if os.environ.get(GRADING):  # the grader runs this answer itself, from outside the notebook
        print(f"{exercise_id}: not checked here; sasr-lite grade grades this answer on its own inputs.")
        return False
    limit = TIME_LIMITS[EXERCISES[exercise_id].kind] if time_limit is None else time_limit
    verdict, printed = selfcheck.grade(exercise_id, answer, limit)
    if printed:
        print(printed, end="" if printed.endswith("\n") else "\n")
    print(verdict.render(exercise_id))
    return verdict.passed
