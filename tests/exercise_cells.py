"""An exercise as its notebook holds it, compared with its definition (`sasr_lite.labs.exercise.Exercise`,
the one source of its text), and the definition's solution run as the notebook cell would run it.

A notebook's exercise is two cells of its jupytext .py file: a markdown heading and objective,
    ### Exercise `06.ablated_weights` · predict · 5 min
    Predict each temporal weight of a model built with use_temporal=False (T = 10).
then a code cell: the definition's `header` (the stub's signature and docstring, or ``def answer():``),
its `solution` between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and ``check("<id>", <function>)``.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext

from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.registry import EXERCISES
from sasr_lite.labs.student import solution_marker
from sasr_lite.notebook_utils import sizes

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HEADING = re.compile(r"### Exercise `(?P<id>[^`]+)` · (?P<kind>\S+) · (?P<minutes>\d+) min\n(?P<objective>.*)", re.S)
IMPORTS = "from sasr_lite.labs import check"  # the line of the cell that imports what the exercise cells use
INDENT = "    "  # a solution's indentation inside its function
# an experiment report's measured part, which a test cannot run the lesson to get
MEASURED = dict(before=61.2, after=58.4, explanation="Switching it off removed the signal the block adds, so location "
                "questions lost the most; the change is close to the seed spread, so it is weak evidence.")


@dataclass(frozen=True)
class Cells:
    """One exercise's two cells as a notebook holds them."""

    kind: str
    minutes: int
    objective: str
    code: str  # the code cell after the heading ("" when the next cell is not code)


def read_exercises(path: Path) -> dict[str, Cells]:
    """Exercise id -> its cells, for every ``### Exercise`` heading of the notebook ``path``."""
    cells = jupytext.read(path).cells
    found = {}
    for markdown, code in zip(cells, cells[1:]):
        heading = HEADING.fullmatch(markdown.source.strip()) if markdown.cell_type == "markdown" else None
        if heading:
            found[heading["id"]] = Cells(heading["kind"], int(heading["minutes"]), heading["objective"].strip(),
                                         code.source if code.cell_type == "code" else "")
    return found


def split_code(code: str) -> tuple[str, str, str] | None:
    """An exercise code cell -> (the lines before ``### BEGIN SOLUTION``, the solution dedented,
    what follows ``### END SOLUTION`` stripped); None without one pair of markers."""
    lines = code.splitlines(keepends=True)
    markers = [i for i, line in enumerate(lines) if solution_marker(line)]
    if [solution_marker(lines[i]) for i in markers] != ["BEGIN", "END"]:
        return None
    begin, end = markers
    return "".join(lines[:begin]), textwrap.dedent("".join(lines[begin + 1:end])), "".join(lines[end + 1:]).strip()


def function_source(exercise: Exercise) -> str:
    """The function an exercise cell defines, without the markers: its header and its solution."""
    return exercise.header + textwrap.indent(exercise.solution, INDENT)


def function_name(exercise: Exercise) -> str:
    """The name the exercise's cell defines and hands to `check` (``answer`` for predict and experiment)."""
    return ast.parse(function_source(exercise)).body[0].name


def _diff(expected: str, found: str, path: Path) -> str:
    """A unified diff, definition -> notebook, indented under its problem line."""
    lines = difflib.unified_diff(expected.splitlines(), found.splitlines(), "definition", path.name, lineterm="", n=1)
    return "\n" + textwrap.indent("\n".join(lines), "    ", lambda line: True)  # blank context lines too


def differences(exercise: Exercise, cells: Cells, path: Path) -> list[str]:
    """What ``cells`` (from the notebook ``path``) say differently from ``exercise``'s definition."""
    found = [f"the heading's {name} is {got!r}, the definition's {want!r}"
             for name, got, want in (("kind", cells.kind, exercise.kind), ("minutes", cells.minutes, exercise.minutes),
                                     ("objective", cells.objective, exercise.objective)) if got != want]
    parts = split_code(cells.code)
    if parts is None:
        return found + ["the code cell after the heading has no ### BEGIN SOLUTION ... ### END SOLUTION pair"]
    header, solution, rest = parts
    if header != exercise.header:
        what = "stub's signature and docstring" if exercise.stub else "answer() header"
        found.append(f"the code before the solution differs from the {what}:{_diff(exercise.header, header, path)}")
    if solution.rstrip("\n") != exercise.solution.rstrip("\n"):
        found.append("the code between the markers differs from the definition's solution:"
                     f"{_diff(exercise.solution, solution, path)}")
    call = f'check("{exercise.id}", {function_name(exercise)})'
    if rest != call:
        found.append(f"the cell should end with {call}, not {rest!r}")
    return found


def drift(path: Path) -> list[str]:
    """Every way the exercise cells of the notebook ``path`` and the definitions of the exercises
    registered for it (by the file's stem) disagree: one message each, naming the file and the exercise."""
    expected = {i: e for i, e in EXERCISES.items() if e.notebook == path.stem}
    found = read_exercises(path)
    problems = [f"{path}: exercise {i} is registered for this notebook but has no heading "
                f"'### Exercise `{i}` · KIND · N min' (a markdown cell, the objective on its next line)"
                for i in expected if i not in found]
    problems += [f"{path}: exercise {i} has a heading but no definition registered for {path.stem}"
                 for i in found if i not in expected]
    for i in expected.keys() & found.keys():
        problems += [f"{path}, exercise {i}: {d}" for d in differences(expected[i], found[i], path)]
    return sorted(problems)


@functools.cache
def _imports(notebook: str) -> dict[str, Any]:
    """The names the notebook's exercise cells run with: its cell that imports `check`, executed."""
    path = NOTEBOOKS / f"{notebook}.py"
    cells = [c.source for c in jupytext.read(path).cells if c.cell_type == "code" and IMPORTS in c.source]
    if len(cells) != 1:
        raise ValueError(f"{path}: expected one code cell with {IMPORTS!r}, found {len(cells)}")
    namespace: dict[str, Any] = {}
    exec(compile(cells[0], f"<{path.name} imports>", "exec"), namespace)
    return namespace


def reference_function(exercise: Exercise):
    """The definition's solution as its notebook cell defines it: header + solution, run with the
    notebook's imports. An implement exercise's function; a predict or experiment's ``answer``."""
    namespace = dict(_imports(exercise.notebook))
    exec(compile(function_source(exercise), f"<{exercise.id} solution>", "exec"), namespace)
    return namespace[function_name(exercise)]


def experiment_report(exercise: Exercise) -> dict:
    """The report an experiment's solution returns, with its setting and value as the solution
    computes them (SIZES at the test scale) and `MEASURED` standing in for what only the lesson's
    runs measure: the solution ends ``return dict(setting=..., value=..., before=..., ...)``."""
    returned = ast.parse(exercise.solution).body[-1]
    if not (isinstance(returned, ast.Return) and isinstance(returned.value, ast.Call)):
        raise ValueError(f"{exercise.id}: the solution does not end with `return dict(...)`")
    keywords = {k.arg: k.value for k in returned.value.keywords}
    if not {"setting", "value"} <= keywords.keys():
        raise ValueError(f"{exercise.id}: the solution's report names no setting= or no value=")
    namespace = {**_imports(exercise.notebook), "SIZES": sizes("test")}
    report = {key: eval(compile(ast.Expression(keywords[key]), f"<{exercise.id} {key}>", "eval"), namespace)
              for key in ("setting", "value")}
    return {**report, **MEASURED}


def reference_answer(exercise: Exercise):
    """What a solved notebook hands to `check` for ``exercise``: its function (an implement's, or a
    predict's ``answer``), or for an experiment the report its solution returns (`experiment_report`)."""
    return experiment_report(exercise) if exercise.kind == "experiment" else reference_function(exercise)
