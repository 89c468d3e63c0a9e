"""`sasr-lite grade SUBMISSION... --out DIR`: grade collected lab notebooks outside the students' reach.

A submission is a student's folder (the student is the folder's name; every notebook under it)
or one notebook (the student is its file stem). Each notebook runs in a fresh kernel at the test
scale, errors allowed and each cell time-limited. After every cell that calls
``check("ID", answer)``, an instructor cell hands that ``answer`` expression to
`sasr_lite.labs.sandbox`: a forked child with the package's functions blocked runs it on hidden
inputs this process drew from ``--seed`` and writes the raw outputs. The expected values and the
comparison are computed here (`sasr_lite.labs.judge`), so nothing a notebook redefines or
patches (check, torch.allclose, the grader classes, the package, printed PASS lines) reaches a grade.

Writes ``DIR/grades.csv`` (one row per student and exercise), ``DIR/summary.csv`` (one row per
exercise, also printed), ``DIR/feedback/STUDENT.md`` (each verdict and hint) and
``DIR/grading.json`` (the seed, the limits, the seconds per student).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from IPython.core.inputtransformer2 import TransformerManager

import sasr_lite
from sasr_lite.data.files import write_json_atomic, write_text_atomic
from sasr_lite.labs import judge
from sasr_lite.labs.registry import EXERCISES
from sasr_lite.labs.selfcheck import GRADING
from sasr_lite.outputs import writing

COLUMNS = ["student", "exercise", "points", "max_points", "verdict", "notebook", "reason"]
SUMMARY = ["exercise", "max_points", "students", "passed", "failed", "missing", "mean_points"]


@dataclass(frozen=True)
class GradeConfig:
    seed: int  # draws every exercise's hidden inputs
    cell_timeout: float = 300.0  # seconds per notebook cell, and per experiment answer (it may train)
    time_limit: float = 60.0  # seconds per implement or predict answer, on all of its hidden inputs

    def limit(self, exercise: str) -> float:
        return self.cell_timeout if EXERCISES[exercise].kind == "experiment" else self.time_limit


@dataclass(frozen=True)
class Answer:
    """A ``check("ID", expression)`` call found in a notebook cell."""

    cell: int  # the code cell's index in the student's notebook
    exercise: str
    expression: str


@dataclass
class NotebookResult:
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what went wrong with the notebook itself


def submissions(paths: list[Path]) -> dict[str, list[Path]]:
    """student -> notebooks, in the order given; a missing path or two submissions naming the
    same student raise ValueError."""
    found: dict[str, list[Path]] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            student = path.resolve().name
            notebooks = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.is_file() and path.suffix == ".ipynb":
            student, notebooks = path.stem, [path]
        else:
            raise ValueError(f"{path}: not a submission (a student's folder or an .ipynb notebook)")
        if student in found:
            raise ValueError(f"{path} and {origin[student]} both name student {student!r}; rename one")
        found[student], origin[student] = notebooks, path
    return found


def _python(source: str) -> str:
    """A cell's source as Python (IPython's %magics and !shell lines translated)."""
    return TransformerManager().transform_cell(source)


def answers_in(nb) -> tuple[list[Answer], list[str]]:
    """The top-level ``check("ID", answer)`` calls of the notebook's code cells, and notes on
    cells that are not valid Python."""
    answers, notes = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = _python(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            notes.append(f"code cell {index} is not valid Python ({err.msg}, line {err.lineno}).")
            continue
        for statement in tree.body:
            call = getattr(statement, "value", None)
            if not isinstance(call, ast.Call):
                continue
            name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            given = dict(zip(("exercise_id", "answer"), call.args)) | {k.arg: k.value for k in call.keywords}
            exercise, answer = given.get("exercise_id"), given.get("answer")
            if name == "check" and isinstance(exercise, ast.Constant) and exercise.value in EXERCISES and answer:
                answers.append(Answer(index, exercise.value, ast.get_source_segment(source, answer)))
    return answers, notes


def _capture_cell(answer: Answer, inputs: Path, outputs: Path, time_limit: float):
    code = (f"__import__('sasr_lite.labs.sandbox', fromlist=['collect']).collect(\n"
            f"    lambda: ({answer.expression}), {str(inputs)!r}, {str(outputs)!r}, {time_limit!r})")
    return nbformat.v4.new_code_cell(code, metadata={"sasr_lite_grader": time_limit})


def _kernel_env() -> dict[str, str]:
    """The grader's environment at the test scale, with this package first on the kernel's path
    and ``GRADING`` set (the notebook's own check calls then skip their work)."""
    root = str(Path(sasr_lite.__file__).resolve().parents[1])
    path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {**os.environ, "SASR_LITE_SCALE": "test", "PYTHONPATH": path, GRADING: "1"}
    env.pop("MPLBACKEND", None)
    return env


def _timeout(cell, config: GradeConfig) -> float:
    """A student's cell gets the cell timeout; a capture cell its answer's limit, plus a minute
    for the kernel's work around it (the fork, the files)."""
    limit = cell.metadata.get("sasr_lite_grader")
    return config.cell_timeout if limit is None else limit + 60


def _run(nb, workdir: Path, config: GradeConfig) -> str | None:
    """Execute ``nb`` in a fresh kernel in ``workdir``; None, or why it stopped before its end."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    client = NotebookClient(
        nb, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        timeout_func=lambda cell: _timeout(cell, config),
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute(env=_kernel_env())
    except DeadKernelError as err:
        return f"the kernel died ({err}), so the cells after it did not run"
    except Exception as err:  # nbclient's own failures (a kernel that never starts, a timeout it could not interrupt)
        return f"the notebook could not be run to its end ({type(err).__name__}: {err})"
    return None


def _errors(nb, cells: list[int]) -> list[str]:
    """'code cell N raised Error: message' for the student's cells whose run ended in an error."""
    notes = []
    for cell, index in zip(nb.cells, cells):
        if index < 0:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                notes.append(f"code cell {index} raised {output.get('ename')}: {output.get('evalue', '')}".rstrip(": "))
    return notes


def grade_notebook(path: Path, student: str, work: Path, config: GradeConfig) -> NotebookResult:
    """Run one notebook in the empty folder ``work`` and grade every exercise it checks (and those
    of the lesson it is named after, which count as missing when it never checks them)."""
    result = NotebookResult()
    own = [e.id for e in EXERCISES.values() if e.notebook == path.stem]
    try:
        nb = nbformat.read(path, as_version=4)
        answers, result.notes = answers_in(nb)
    except Exception as err:  # nbformat raises JSON, validation and encoding errors of several kinds
        nb, answers = None, []
        result.notes.append(f"the notebook could not be read ({type(err).__name__}: {str(err)[:200]}).")
    checked = {a.exercise for a in answers}
    stopped = None
    if answers:
        for exercise in sorted(checked):
            judge.write_inputs(EXERCISES[exercise], work / f"{exercise}.in.pt", config.seed)
        cells, origin = [], []  # the run's cells, and each one's index in the student's notebook (-1: ours)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cells.append(nbformat.v4.new_code_cell(cell.source))
            origin.append(index)
            for a in (a for a in answers if a.cell == index):
                cells.append(_capture_cell(a, work / f"{a.exercise}.in.pt", work / f"{a.exercise}.out.pt",
                                           config.limit(a.exercise)))
                origin.append(-1)
        run = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                                             "display_name": "Python 3"}})
        stopped = _run(run, work, config)
        result.notes += _errors(run, origin) + ([stopped] if stopped else [])
    for exercise in sorted(checked) + [e for e in own if e not in checked]:
        spec = EXERCISES[exercise]
        report = work / f"{exercise}.out.pt"
        if exercise not in checked:
            verdict, reason = "MISSING", f'the notebook has no check("{exercise}", ...) call.'
        elif not report.is_file():
            verdict, reason = "MISSING", f"the notebook stopped before its check of {exercise} ran ({stopped})."
        else:
            # the notebook ran in `work`: an experiment answer's relative run folders were trained there
            found, _ = judge.read_verdict(spec, report, config.seed, folder=work)
            verdict, reason = ("PASS" if found.passed else "FAIL"), found.reason
        result.rows.append(dict(student=student, exercise=exercise, points=spec.points if verdict == "PASS" else 0,
                                max_points=spec.points, verdict=verdict, notebook=path.name, reason=reason))
    return result


def summary(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per exercise: its points, how many students were graded on it, passed, failed or
    had it missing, and the mean points."""
    if grades.empty:
        return pd.DataFrame(columns=SUMMARY)
    by = grades.groupby("exercise", sort=True)
    return pd.DataFrame({
        "max_points": by["max_points"].first(),
        "students": by["student"].nunique(),
        "passed": by["verdict"].apply(lambda v: int((v == "PASS").sum())),
        "failed": by["verdict"].apply(lambda v: int((v == "FAIL").sum())),
        "missing": by["verdict"].apply(lambda v: int((v == "MISSING").sum())),
        "mean_points": by["points"].mean().round(2),
    }).reset_index()


def feedback(student: str, rows: list[dict], notes: list[str]) -> str:
    """A student's Markdown feedback: the total, then each exercise's verdict and hint."""
    got, total = sum(r["points"] for r in rows), sum(r["max_points"] for r in rows)
    lines = [f"# Lab feedback: {student}", "", f"{got} of {total} points.", "",
             "| exercise | points | verdict |", "|---|---|---|"]
    lines += [f"| {r['exercise']} | {r['points']} / {r['max_points']} | {r['verdict']} |" for r in rows]
    for r in rows:
        lines += ["", f"## {r['exercise']}: {r['verdict']}", "", r["reason"]]
    if notes:
        lines += ["", "## Notes on your notebooks", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _file_name(student: str) -> str:
    return re.sub(r"[^\w.-]", "_", student) or "_"


def grade(paths: list[Path], out: Path, config: GradeConfig, overwrite: bool = False) -> pd.DataFrame:
    """Grade every submission into ``out``; returns the grades (the rows of grades.csv)."""
    students = submissions(paths)
    rows, seconds = [], {}
    with writing(out, "grade", overwrite=overwrite):
        for student, notebooks in students.items():
            start = time.perf_counter()
            mine, notes = [], [] if notebooks else ["no notebooks (.ipynb) were found in the submission."]
            for path in notebooks:
                # one folder per notebook, removed as soon as it is graded: a lesson's data is ~100 MB at the test scale
                with tempfile.TemporaryDirectory(prefix="sasr-lite-grade-") as work:
                    result = grade_notebook(path, student, Path(work), config)
                mine += result.rows
                notes += [f"{path.name}: {n}" for n in result.notes]
            seconds[student] = round(time.perf_counter() - start, 1)
            write_text_atomic(out / "feedback" / f"{_file_name(student)}.md", feedback(student, mine, notes))
            rows += mine
            print(f"{student}: {sum(r['points'] for r in mine)} of {sum(r['max_points'] for r in mine)} points "
                  f"({len(notebooks)} notebook(s), {seconds[student]:.1f} s)", flush=True)
        grades = pd.DataFrame(rows, columns=COLUMNS)
        write_text_atomic(out / "grades.csv", grades.to_csv(index=False))
        table = summary(grades)
        write_text_atomic(out / "summary.csv", table.to_csv(index=False))
        write_json_atomic(out / "grading.json", {**asdict(config), "seconds_per_student": seconds})
    print(table.to_string(index=False) if len(table) else "no exercises were graded")
    return grades


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a student's folder (student = folder name) or one notebook (student = file stem)")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv, summary.csv and feedback/ go")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden inputs (default: drawn at random, recorded in DIR/grading.json)")
    parser.add_argument("--cell-timeout", type=float, default=GradeConfig.cell_timeout,
                        help=f"seconds per notebook cell and per experiment answer (default {GradeConfig.cell_timeout:g})")
    parser.add_argument("--time-limit", type=float, default=GradeConfig.time_limit,
                        help=f"seconds per implement or predict answer (default {GradeConfig.time_limit:g})")
    parser.add_argument("--overwrite", action="store_true",
                        help="DIR holds files this command did not write: move it aside to DIR.old-N")


def run(args: argparse.Namespace) -> int:
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    print(f"grading with seed {seed}", file=sys.stderr)
    grade(args.submissions, args.out, GradeConfig(seed, args.cell_timeout, args.time_limit), args.overwrite)
    return 0
