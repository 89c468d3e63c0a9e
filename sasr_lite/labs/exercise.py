"""One exercise: its id, what it teaches, how long it takes, its points, and the spec that grades it."""

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


@dataclass(frozen=True)
class Exercise:
    id: str  # "<notebook number>.<name>", e.g. "03.self_attention"
    objective: str  # one line
    minutes: int  # a learner's time, roughly
    spec: Implement | Predict | Experiment
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
