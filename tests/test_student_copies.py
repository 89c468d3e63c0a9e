"""`make student`: every notebook without its solutions runs top to bottom, each exercise failing gracefully."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from sasr_lite.labs import exercises
from sasr_lite.labs.student import BEGIN, END, INSTRUCTOR, STUB, clear_solutions, student_copies

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _sources(nb) -> str:
    """The code of every code cell (the markdown may name the markers)."""
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


def test_a_solution_region_becomes_an_indented_stub_and_bad_markers_are_named():
    source = f"def f(x):\n    \"\"\"doc\"\"\"\n    {BEGIN}\n    y = x + 1\n    return y\n    {END}\n\ncheck('a', f)"
    assert clear_solutions(source) == f"def f(x):\n    \"\"\"doc\"\"\"\n    {STUB}\n\ncheck('a', f)"
    with pytest.raises(ValueError, match=f"cell 3: {BEGIN} without an {END}"):
        clear_solutions(f"{BEGIN}\nx = 1", where="cell 3")
    with pytest.raises(ValueError, match=f"{END} without a {BEGIN}"):
        clear_solutions(f"x = 1\n{END}")


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    yield out, student_copies(NOTEBOOKS, out)
    shutil.rmtree(out)  # the copies' runs and data: over a GB


def test_copies_keep_every_cell_but_the_solutions_and_outputs(copies):
    out, written = copies
    assert [p.name for p in written] == sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    solved_regions = 0
    for path in written:
        solved = nbformat.read(NOTEBOOKS / path.name, as_version=4)
        student = nbformat.read(path, as_version=4)
        instructor = [c for c in solved.cells if INSTRUCTOR in c.metadata.get("tags", [])]
        assert len(student.cells) == len(solved.cells) - len(instructor)
        assert [c.source for c in student.cells if c.cell_type == "markdown"] == \
               [c.source for c in solved.cells if c.cell_type == "markdown" and c not in instructor]
        assert BEGIN not in _sources(student) and END not in _sources(student)
        assert all(not cell.get("outputs") for cell in student.cells if cell.cell_type == "code")
        regions = _sources(solved).count(BEGIN)
        assert _sources(student).count(STUB) == regions, path.name
        solved_regions += regions
    assert solved_regions == len(exercises()), "every exercise has exactly one solution region"


def test_text_for_the_instructor_stays_out_of_the_student_copies(copies):
    """How the copies are made and graded is the instructor's business, and a copy's runs sit
    beside it, not under notebooks/."""
    out, written = copies
    lab_notebooks = {e.notebook for e in exercises().itertuples()}
    for path in written:
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        for phrase in ("BEGIN SOLUTION", "make student", "sasr-lite grade", "notebooks/runs"):
            assert phrase not in text, f"{path.name}: {phrase!r} in a student copy's text"
        solved = nbformat.read(NOTEBOOKS / path.name, as_version=4)
        tagged = [c for c in solved.cells if INSTRUCTOR in c.metadata.get("tags", [])]
        assert len(tagged) == (path.stem in lab_notebooks), path.name  # one note per lab notebook


@pytest.mark.slow
def test_student_copies_run_top_to_bottom_and_every_exercise_fails_gracefully(copies, monkeypatch):
    from sasr_lite.execute_notebooks import execute

    out, written = copies
    monkeypatch.setenv("SASR_LITE_SCALE", "test")
    table = exercises()
    for path in written:
        execute(path, timeout=600, scale="test")  # raises CellExecutionError if any cell fails
        nb = nbformat.read(path, as_version=4)
        printed = "\n".join("".join(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))
        number = path.name[:2]
        expected = set(table.loc[table["notebook"].str.startswith(number), "id"])
        failed = set(re.findall(r"^FAIL (\d\d\.[a-z_]+)", printed, flags=re.M))
        assert failed == expected, (path.name, expected - failed)
        assert not re.search(r"^PASS", printed, flags=re.M), f"{path.name}: an exercise passed without its solution"


@pytest.mark.parametrize("exercise_id", sorted(i for i, e in exercises().set_index("id").iterrows()
                                               if isinstance(e["stub"], str)))
def test_each_notebook_exercise_starts_from_the_registry_stub(exercise_id):
    """The stub's signature and docstring have one source, the exercise's definition in sasr_lite.labs:
    the notebook's exercise cell must repeat it word for word before its solution region."""
    from sasr_lite.labs.registry import EXERCISES

    exercise = EXERCISES[exercise_id]
    header = exercise.stub[: exercise.stub.rindex("    raise NotImplementedError")].rstrip()
    name = header.split("(", 1)[0].removeprefix("def ")
    source = (NOTEBOOKS / f"{exercise.notebook}.py").read_text()
    cell = re.search(rf"^def {name}\(.*?(?=^\s*{re.escape(BEGIN)})", source, re.S | re.M)
    assert cell, f"{exercise.notebook}.py has no `def {name}(` followed by a solution region"
    assert cell.group(0).rstrip() == header, f"{exercise.notebook}.py: {name}'s signature or docstring differs " \
                                             f"from the stub in sasr_lite.labs ({exercise_id})"
