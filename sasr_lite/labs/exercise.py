"""One exercise: its id, what it teaches, how long it takes, its points, the spec that grades it and
its reference solution: the notebook's exercise cells must say the same (tests/test_exercise_sources.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sasr_lite.labs.experiment import Experiment
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.predict import Predict

# the notebook each id's first two digits name
NOTEBOOKS = {
    "01": "01_features", "02": "02_data_and_questions", "03": "03_source_tokens",
    "04": "04_semantic_representation", "05": "05_spatial_attention", "06": "06_temporal_attention",
    "07": "07_answer_and_losses", "08": "08_training", "09": "09_evaluation", "10": "10_ablations",
}

# points for a PASS unless an exercise says otherwise: writing code weighs more than a number
POINTS = {"implement": 2, "predict": 1, "experiment": 2}

# how a predict or experiment cell starts: the student returns the answer from `answer()`
ANSWER_HEADERS = {
    "predict": 'def answer():\n    """Your prediction."""\n',
    "experiment": 'def answer():\n    """Your measurement, as a dict."""\n',
}


@dataclass(frozen=True)
class Exercise:
    id: str  # "<notebook number>.<name>", e.g. "03.self_attention"
    objective: str  # one line
    minutes: int  # a learner's time, roughly
    spec: Implement | Predict | Experiment
    # the code between the notebook cell's BEGIN / END SOLUTION markers, dedented: a function body
    # that returns the answer (an experiment's runs the lesson and returns its report)
    solution: str
    points: int | None = None  # what the grader awards for a PASS (None: the kind's, `POINTS`)

    def __post_init__(self) -> None:
        if self.points is None:
            object.__setattr__(self, "points", POINTS[self.spec.kind])

    @property
    def notebook(self) -> str:
        return NOTEBOOKS[self.id[:2]]

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def stub(self) -> str | None:
        return self.spec.stub if isinstance(self.spec, Implement) else None

    @property
    def header(self) -> str:
        """The notebook code cell's first lines, up to the solution: the stub's signature and
        docstring (its closing ``raise`` is what the solution replaces), or `ANSWER_HEADERS`'."""
        if self.stub is None:
            return ANSWER_HEADERS[self.kind]
        return "".join(self.stub.splitlines(keepends=True)[:-1])
