"""Running a student's answer where it can neither hang nor lie: a forked child of the process
that holds the answer (the student's kernel), with the package's functions blocked.

The child reads the inputs a clean process wrote (`sasr_lite.labs.judge`), blocks the package
functions they name (`guard.block`), runs the answer on each input with a time limit, and
writes a report of plain values (tensors, numbers, strings, lists, dicts) that the judge reads
with ``torch.load(weights_only=True)`` and compares. The verdict is never computed here, so
nothing the notebook patched (torch.allclose, check, the grader classes) reaches it.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import os
import signal
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sasr_lite.data.files import write_atomic
from sasr_lite.labs import guard

PRINTED_CHARS = 2000  # of what the answer printed, shown before the verdict


class Unreadable(TypeError):
    """An output the judge could not read back safely."""


def save(report: dict, path: str | Path) -> None:
    write_atomic(path, lambda f: torch.save(report, f))


def plain(value: Any, name: str = "the answer") -> Any:
    """``value`` as types ``torch.load(weights_only=True)`` reads: tensors, numbers, strings,
    None and lists/tuples/dicts of them (numpy arrays become tensors)."""
    if isinstance(value, np.generic):  # before the built-ins: np.float64 is a float, but pickles as numpy
        return plain(value.item(), name)
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):  # a subclass of str, as a plain one
        return str(value)
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").clone()
    if isinstance(value, np.ndarray):
        numeric = value.dtype.kind in "biufc"  # bool, integer, float, complex
        return torch.from_numpy(np.ascontiguousarray(value)) if numeric else plain(value.tolist(), name)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        items = [plain(v, name) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {str(k): plain(v, name) for k, v in value.items()}
    raise Unreadable(f"{name} holds a {type(value).__name__}; return tensors, arrays, numbers or strings "
                     "(or lists, tuples or dicts of them)")


def _where(error: BaseException, answer: Any) -> str:
    """' (at line 4 of your code: `...`)' for the deepest traceback line in the student's file."""
    files = {getattr(getattr(f, "__code__", None), "co_filename", None) for f in guard.unwrapped(answer)} - {None}
    lines = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in files and f.line]
    return f" (at line {lines[-1].lineno} of your code: `{lines[-1].line}`)" if lines else ""


def _raised(error: BaseException, answer: Any, what: str) -> str:
    return f"{what} raised {type(error).__name__}: {error}".rstrip(": ") + _where(error, answer)


def _implement(answer: Any, spec: dict) -> dict:
    name = guard.package_target(answer, spec["targets"])
    if name is not None:
        return {"problem": f"that is the package's own {name}: the check compares your function with it, so hand "
                           "in the function you wrote from the stub instead."}
    if not callable(answer):
        return {"problem": f"expected your function, got {type(answer).__name__}."}
    guard.block(spec["targets"])
    results = []
    for args in spec["cases"]:
        guard.CALLS.clear()
        try:
            with torch.no_grad():
                result = {"output": plain(answer(*args), "your function's output")}
        except Unreadable as err:
            result = {"problem": str(err)}
        except BaseException as err:  # SystemExit and KeyboardInterrupt too: any error of the answer is a verdict
            result = {"problem": _raised(err, answer, "your function")}
        if guard.CALLS:
            result = {"problem": f"your function called the package's own {guard.CALLS[0]} (blocked while your "
                                 "function runs): the exercise is to write that computation yourself."}
        results.append(result)
    return {"results": results}


def _value(answer: Any) -> dict:
    """A predict or experiment answer; notebooks wrap it in a function, called here."""
    try:
        if callable(answer):
            answer = answer()
        return {"value": plain(answer)}
    except Unreadable as err:
        return {"problem": str(err)}
    except BaseException as err:
        return {"problem": _raised(err, answer, "your answer function")}


def _child(answer: Any, inputs: Path, outputs: Path) -> None:
    # a forked child cannot use the thread pool its parent started (OpenMP deadlocks): one thread
    torch.set_num_threads(1)
    spec = torch.load(inputs, weights_only=False)  # written by the judge, not by the student
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        report = _implement(answer, spec) if spec["kind"] == "implement" else _value(answer)
    report["printed"] = printed.getvalue()[:PRINTED_CHARS]
    save(report, outputs)


def _wait(pid: int, time_limit: float) -> str | None:
    """Why the child gave no report (it ran out of time, or ended early), else None."""
    deadline = time.monotonic() + time_limit
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return (f"your answer did not finish within the time limit of {time_limit:g} s (an endless loop, or "
                    "far more work than the exercise needs).")
        time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    return None if code == 0 else (f"your answer ended the process (exit status {code}) instead of returning "
                                   "(sys.exit, os._exit or a crash).")


def run(answer: Any, inputs: str | Path, outputs: str | Path, time_limit: float) -> None:
    """Run ``answer`` on the judge's ``inputs`` in a forked child and leave a report at ``outputs``:
    the child's, or one saying why there is none (time limit, early exit)."""
    outputs = Path(outputs)
    outputs.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller, whatever the answer does
        code = 3
        try:
            _child(answer, Path(inputs), outputs)
            code = 0
        finally:
            os._exit(code)
    problem = _wait(pid, time_limit)
    if problem is None and not outputs.is_file():
        problem = "your answer ended the process before it returned."
    if problem is not None:
        save({"problem": problem}, outputs)


def collect(get_answer: Callable[[], Any], inputs: str | Path, outputs: str | Path, time_limit: float) -> None:
    """`run` for the grader's kernel: ``get_answer`` evaluates the expression a notebook passed to
    `check`, so a name the notebook never defined is a report too."""
    try:
        answer = get_answer()
    except Exception as err:
        save({"problem": f"the answer the notebook passes to check could not be found ({type(err).__name__}: "
                         f"{err})."}, outputs)
        return
    run(answer, inputs, outputs, time_limit)
