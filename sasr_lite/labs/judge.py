"""The clean side of grading: the inputs an answer runs on and the verdict on its outputs, both
computed from the installed package in a process that never ran the student's code.

The grader (`sasr_lite.labs.grade`) calls `write_inputs` and `read_verdict` in its own process;
`check` in a notebook talks to ``python -m sasr_lite.labs.judge``, a fresh process that answers
one JSON request per line on stdin:
``{"op": "inputs" | "verdict", "id": "03.self_attention", "path": ..., "seed": null, "folder": ...}``
(``folder``: the notebook's folder, where an experiment answer's relative run folders lie).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.experiment import Experiment
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.registry import EXERCISES
from sasr_lite.labs.sandbox import save
from sasr_lite.labs.verdict import Verdict


def inputs(exercise: Exercise, seed: int | None = None) -> dict:
    """What `sasr_lite.labs.sandbox` runs the answer on (a predict or experiment answer has no inputs)."""
    spec = exercise.spec
    return spec.inputs(seed) if isinstance(spec, Implement) else {"kind": spec.kind, "cases": None, "targets": []}


def write_inputs(exercise: Exercise, path: str | Path, seed: int | None = None) -> Path:
    save(inputs(exercise, seed), path)
    return Path(path)


def verdict(exercise: Exercise, report: dict, seed: int | None = None, folder: str | Path | None = None) -> Verdict:
    """The verdict on a sandbox report; a grader that trips over an odd answer still gives one.
    ``folder``: the notebook's folder, where an experiment answer's relative run folders lie."""
    spec = exercise.spec
    try:
        if isinstance(spec, Implement):
            return spec.judge(report, seed)
        if "problem" in report:
            return Verdict(False, report["problem"])
        if isinstance(spec, Experiment):
            return spec.grade(report["value"], folder)
        return spec.grade(report["value"])
    except Exception as err:
        return Verdict(False, f"the answer could not be graded ({type(err).__name__}: {err}).")


def read_verdict(exercise: Exercise, path: str | Path, seed: int | None = None,
                 folder: str | Path | None = None) -> tuple[Verdict, str]:
    """The verdict on the report at ``path``, and what the answer printed while it ran."""
    try:
        report = torch.load(path, weights_only=True)  # plain values only: loading runs none of the student's code
    except Exception as err:
        return Verdict(False, f"the report of your answer could not be read ({type(err).__name__}: {err})."), ""
    if not isinstance(report, dict):
        return Verdict(False, "the report of your answer is not one the sandbox writes."), ""
    printed = report.get("printed", "")
    return verdict(exercise, report, seed, folder), printed if isinstance(printed, str) else ""


def _answer(request: dict) -> dict:
    exercise = EXERCISES[request["id"]]
    if request["op"] == "inputs":
        write_inputs(exercise, request["path"], request.get("seed"))
        return {}
    found, printed = read_verdict(exercise, request["path"], request.get("seed"), request.get("folder"))
    return {"passed": found.passed, "reason": found.reason, "printed": printed}


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything else printed goes to stderr, not into a reply
    sys.stdout = sys.stderr
    for line in sys.stdin:
        try:
            reply = _answer(json.loads(line))
        except Exception as err:
            reply = {"error": f"{type(err).__name__}: {err}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
