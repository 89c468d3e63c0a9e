"""`check`'s two processes: a clean judge (``python -m sasr_lite.labs.judge``, started once per
kernel and kept) writes the inputs and gives the verdict; the answer runs in a forked child of
the student's kernel (`sasr_lite.labs.sandbox`). What the notebook patched in its own process
therefore changes neither the expected values nor the comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sasr_lite
from sasr_lite.labs import sandbox
from sasr_lite.labs.verdict import Verdict

# seconds an answer may run (an implement answer on all of its inputs): an experiment's answer
# function may train models at the lesson scale, so it gets an hour
TIME_LIMITS = {"implement": 60.0, "predict": 60.0, "experiment": 3600.0}
GRADING = "SASR_LITE_GRADING"  # set in the kernels of `sasr-lite grade`, which grades every answer itself

_judge: subprocess.Popen | None = None


def _ask(request: dict) -> dict:
    """One request to the judge, started (again) when there is none running."""
    global _judge
    if _judge is None or _judge.poll() is not None:
        root = str(Path(sasr_lite.__file__).resolve().parents[1])  # the judge imports this same package
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        _judge = subprocess.Popen([sys.executable, "-m", "sasr_lite.labs.judge"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env,
                                  start_new_session=True)  # a kernel interrupt is not meant for the judge
    _judge.stdin.write(json.dumps(request) + "\n")
    _judge.stdin.flush()
    line = _judge.stdout.readline()
    if not line:
        raise RuntimeError(f"the judge process ended (exit status {_judge.wait()})")
    reply = json.loads(line)
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply


def grade(exercise_id: str, answer: Any, time_limit: float) -> tuple[Verdict, str]:
    """The verdict on ``answer`` and what it printed while it ran."""
    with tempfile.TemporaryDirectory(prefix="sasr-lite-check-") as tmp:
        inputs, outputs = Path(tmp) / "inputs.pt", Path(tmp) / "outputs.pt"
        try:
            _ask({"op": "inputs", "id": exercise_id, "path": str(inputs)})
            sandbox.run(answer, inputs, outputs, time_limit)
            # the kernel's folder is the notebook's: an experiment answer's relative run folders lie there
            reply = _ask({"op": "verdict", "id": exercise_id, "path": str(outputs), "folder": os.getcwd()})
        except (OSError, RuntimeError, ValueError) as err:
            return Verdict(False, f"the check itself failed ({err}); run the cell again."), ""
    return Verdict(reply["passed"], reply["reason"]), reply["printed"]
