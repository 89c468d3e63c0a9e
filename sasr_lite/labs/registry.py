"""The exercise list and the one grading entry point, `check`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from sasr_lite.labs import (
    nb01_features, nb02_data, nb03_source_tokens, nb04_semantic, nb05_spatial, nb06_temporal, nb07_answer,
    nb08_training, nb09_evaluation, nb10_ablations,
)
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.verdict import Verdict

EXERCISES: dict[str, Exercise] = {
    e.id: e
    for module in (nb01_features, nb02_data, nb03_source_tokens, nb04_semantic, nb05_spatial, nb06_temporal,
                   nb07_answer, nb08_training, nb09_evaluation, nb10_ablations)
    for e in module.EXERCISES
}


def exercises() -> pd.DataFrame:
    """One row per exercise: id, notebook, kind ("implement", "predict", "experiment"), objective,
    minutes, and stub (the source an implement exercise starts from; None for the others)."""
    return pd.DataFrame([dict(id=e.id, notebook=e.notebook, kind=e.kind, objective=e.objective,
                              minutes=e.minutes, stub=e.stub) for e in EXERCISES.values()])


def check(exercise_id: str, answer: Any) -> bool:
    """Grade ``answer`` for ``exercise_id``: print one paragraph starting with PASS or FAIL and
    return whether it passed. A predict or experiment answer may be a function returning it. A wrong or unfinished answer never raises; an unknown id raises
    ValueError listing the known ones."""
    exercise = EXERCISES.get(exercise_id)
    if exercise is None:
        raise ValueError(f"unknown exercise {exercise_id!r}; known exercises: {', '.join(EXERCISES)}")
    if exercise.kind != "implement" and callable(answer):
        # notebooks wrap a predict or experiment answer in a function, so an unfinished one (a
        # student copy's NotImplementedError) fails here and the notebook runs on
        try:
            answer = answer()
        except Exception as err:
            verdict = Verdict(False, f"your answer function raised {type(err).__name__}: {err}".rstrip(": "))
            print(verdict.render(exercise.id))
            return False
    try:
        with torch.random.fork_rng(devices=[]):  # grading leaves a notebook's random state where it was
            verdict = exercise.spec.grade(answer)
    except Exception as err:  # a grader that trips over an odd answer must still give a verdict
        verdict = Verdict(False, f"the answer could not be graded ({type(err).__name__}: {err}).")
    print(verdict.render(exercise.id))
    return verdict.passed
