"""`sasr-lite grade` and the self-check: a grade comes from the grader's process, so no trick in a
student's notebook fakes a PASS; a notebook that breaks still gets its other exercises graded.

Every submission is a small notebook built here (only the cells a case needs). All of them are
graded in one command (a module fixture), and each test reads its student's rows."""

from __future__ import annotations

import functools
import json
import math
import sys
import types
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook

from sasr_lite import cli, evaluate
from sasr_lite.labs import check, guard
from sasr_lite.labs.grade import COLUMNS, answers_in
from sasr_lite.labs.inputs import graded_questions
from sasr_lite.labs.registry import EXERCISES
from sasr_lite.model import slt

HEAD = "import functools\nimport math\nimport sys\n\nimport torch\n\nfrom sasr_lite.labs import check\nfrom sasr_lite.model import slt"
RIGHT = ("def self_attention(f):\n"
         "    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-1) @ f\n")
WRONG = RIGHT.replace("dim=-1", "dim=-2")  # the softmax over the wrong axis
CHECK = 'check("03.self_attention", self_attention)'
REDEFINED_CHECK = "def check(exercise_id, answer):\n    print(f'PASS {exercise_id}: well done')\n    return True\n"
ALLCLOSE = "torch.allclose = lambda *args, **kwargs: True\n"
WRONG_AXIS = "your softmax runs over the wrong axis"

# 09.bootstrap_interval through the package's paired bootstrap: the model against a run that is always wrong
PAIRED = '''\
from sasr_lite import evaluate
from sasr_lite.labs.inputs import graded_questions

def bootstrap_interval(correct, n_boot=1000, seed=0, level=0.95):
    records, predictions = graded_questions(list(correct))
    never = {q: "no" for q in predictions}
    row = evaluate.paired_bootstrap(records, predictions, never, n_boot, seed, level).loc[(evaluate.OVERALL, evaluate.AVG)]
    return float(row["delta"]), float(row["low"]), float(row["high"])

check("09.bootstrap_interval", bootstrap_interval)'''

# student -> the cells after HEAD; every trick hands in a wrong or borrowed answer, so a faked PASS shows as points
STUDENTS = {
    "correct": [RIGHT + CHECK],
    "wrong_axis": [WRONG + CHECK],
    "wrong_axis_check_and_allclose": [REDEFINED_CHECK + ALLCLOSE, WRONG + CHECK],
    "redefined_check": [REDEFINED_CHECK, WRONG + CHECK],
    "printed_pass": [WRONG + CHECK + "\nprint('PASS 03.self_attention: your function matches')"],
    "allclose_patched": [ALLCLOSE, WRONG + CHECK],
    "grader_class_patched": [
        "from sasr_lite.labs import implement, judge\nfrom sasr_lite.labs.verdict import Verdict\n"
        "implement.Implement.judge = lambda self, *args, **kwargs: Verdict(True, 'fine')\n"
        "judge.verdict = lambda *args, **kwargs: Verdict(True, 'fine')",
        WRONG + CHECK],
    "package_patched_first": [WRONG + "slt.self_attention = self_attention\n" + CHECK],
    "expected_through_frames": [
        "def self_attention(f):\n    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        for value in list(frame.f_locals.values()):\n"
        "            if hasattr(value, 'expected') and hasattr(value, 'args'):\n                return value.expected\n"
        "        frame = frame.f_back\n    return f\n" + CHECK],
    "default_argument": ["def self_attention(f, impl=slt.self_attention):\n    return impl(f)\n" + CHECK],
    "closure": ["def outer():\n    impl = slt.self_attention\n    def attend(f):\n        return impl(f)\n"
                "    return attend\nself_attention = outer()\n" + CHECK],
    "callable_object": ["class Attend:\n    def __init__(self):\n        self.impl = slt.self_attention\n"
                        "    def __call__(self, f):\n        return self.impl(f)\nself_attention = Attend()\n" + CHECK],
    "partial": ["self_attention = functools.partial(lambda f, impl: impl(f), impl=slt.self_attention)\n" + CHECK],
    "paired_bootstrap": [PAIRED],
    "endless": ["def self_attention(f):\n    while True:\n        pass\n" + CHECK],
    "kernel_dies": [RIGHT + CHECK, "import os\nos._exit(1)", 'check("03.reg_loss_chance", lambda: math.log(22))'],
}
TRICKS = ["redefined_check", "printed_pass", "allclose_patched", "grader_class_patched", "package_patched_first",
          "expected_through_frames", "default_argument", "closure", "callable_object", "partial"]
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SEED = 12345
TIME_LIMIT = 5


def write_notebook(path, cells) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every submission graded in one command: the notebooks above, plus a student's folder
    holding a lesson-named notebook with a failing cell and a notebook that is not JSON."""
    root = tmp_path_factory.mktemp("grade")
    paths = []
    for student, cells in STUDENTS.items():
        write_notebook(root / "in" / f"{student}.ipynb", [HEAD, *cells])
        paths.append(root / "in" / f"{student}.ipynb")
    folder = root / "in" / "folder_student"
    write_notebook(folder / "03_source_tokens.ipynb", [HEAD, "1 / 0", RIGHT + CHECK])
    (folder / "scratch.ipynb").write_text("{ not json", encoding="utf-8")
    paths.append(folder)
    out = root / "out"
    code = cli.main(["grade", *map(str, paths), "--out", str(out), "--seed", str(SEED), "--time-limit", str(TIME_LIMIT)])
    assert code == 0
    return out, pd.read_csv(out / "grades.csv")


def row(grades: pd.DataFrame, student: str, exercise: str = "03.self_attention") -> pd.Series:
    rows = grades[(grades["student"] == student) & (grades["exercise"] == exercise)]
    assert len(rows) == 1, (student, exercise, grades)
    return rows.iloc[0]


# --- the "done when" --------------------------------------------------------------------------
def test_three_students_in_one_command_get_full_points_0_and_0(graded):
    out, grades = graded
    assert list(grades.columns) == COLUMNS
    max_points = EXERCISES["03.self_attention"].points
    assert max_points > 0
    right, wrong, cheat = (row(grades, s) for s in ("correct", "wrong_axis", "wrong_axis_check_and_allclose"))
    assert (right["points"], right["max_points"], right["verdict"]) == (max_points, max_points, "PASS")
    assert (wrong["points"], wrong["verdict"]) == (0, "FAIL") and WRONG_AXIS in wrong["reason"]
    assert (cheat["points"], cheat["verdict"]) == (0, "FAIL") and WRONG_AXIS in cheat["reason"]


def test_feedback_summary_and_record(graded):
    out, grades = graded
    text = (out / "feedback" / "wrong_axis.md").read_text(encoding="utf-8")
    assert "# Lab feedback: wrong_axis" in text and "0 of 2 points" in text and "## 03.self_attention: FAIL" in text
    assert WRONG_AXIS in text
    assert sorted(p.stem for p in (out / "feedback").glob("*.md")) == sorted([*STUDENTS, "folder_student"])
    summary = pd.read_csv(out / "summary.csv").set_index("exercise")
    mine = grades[grades["exercise"] == "03.self_attention"]
    assert summary.loc["03.self_attention", "passed"] == (mine["verdict"] == "PASS").sum()
    assert summary.loc["03.self_attention", "students"] == mine["student"].nunique()
    assert summary.loc["03.self_attention", "mean_points"] == pytest.approx(mine["points"].mean(), abs=0.01)
    record = json.loads((out / "grading.json").read_text(encoding="utf-8"))
    assert record["seed"] == SEED and record["time_limit"] == TIME_LIMIT
    assert set(record["seconds_per_student"]) == {*STUDENTS, "folder_student"}


# --- each way a student faked a PASS before -----------------------------------------------------------
@pytest.mark.parametrize("student", TRICKS)
def test_a_trick_does_not_fake_a_pass(graded, student):
    found = row(graded[1], student)
    assert (found["points"], found["verdict"]) == (0, "FAIL"), found["reason"]


@pytest.mark.parametrize("student", ["default_argument", "closure", "callable_object", "partial"])
def test_the_package_function_is_blocked_however_it_is_reached(graded, student):
    found = row(graded[1], student)
    assert "your function called the package's own sasr_lite.model.slt.self_attention" in found["reason"]


def test_bootstrap_interval_through_paired_bootstrap_is_refused(graded):
    found = row(graded[1], "paired_bootstrap", "09.bootstrap_interval")
    assert found["points"] == 0 and "the package's own sasr_lite.evaluate.paired_bootstrap" in found["reason"]


# --- notebooks that break -----------------------------------------------------------------------------
def test_an_endless_answer_fails_on_the_time_limit(graded):
    found = row(graded[1], "endless")
    assert found["points"] == 0 and f"within the time limit of {TIME_LIMIT} s" in found["reason"]


def test_a_dead_kernel_keeps_the_grades_before_it(graded):
    out, grades = graded
    assert row(grades, "kernel_dies")["verdict"] == "PASS"
    later = row(grades, "kernel_dies", "03.reg_loss_chance")
    assert later["verdict"] == "MISSING" and "the kernel died" in later["reason"]


def test_a_failing_cell_and_an_unreadable_notebook_leave_the_rest_graded(graded):
    out, grades = graded
    assert row(grades, "folder_student")["verdict"] == "PASS"
    # the lesson the notebook is named after: its exercises without a check call count as missing
    missing = row(grades, "folder_student", "03.token_block")
    assert missing["verdict"] == "MISSING" and 'no check("03.token_block", ...) call' in missing["reason"]
    text = (out / "feedback" / "folder_student.md").read_text(encoding="utf-8")
    assert "03_source_tokens.ipynb: code cell 1 raised ZeroDivisionError: division by zero" in text
    assert "scratch.ipynb: the notebook could not be read" in text


# --- the command's input and output rules (no kernel runs) --------------------------------------------
def test_grade_refuses_an_output_folder_it_did_not_write_and_bad_submissions(tmp_path, capsys):
    notebook = tmp_path / "alice.ipynb"
    write_notebook(notebook, [HEAD])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert cli.main(["grade", str(notebook), "--out", str(out)]) == 1
    assert "holds files that sasr-lite grade did not write, e.g. notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert cli.main(["grade", str(tmp_path / "nobody.ipynb"), "--out", str(tmp_path / "o2")]) == 1
    assert "nobody.ipynb: not a submission" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    write_notebook(tmp_path / "b" / "alice.ipynb", [HEAD])
    assert cli.main(["grade", str(notebook), str(tmp_path / "b" / "alice.ipynb"), "--out", str(tmp_path / "o3")]) == 1
    assert "both name student 'alice'" in capsys.readouterr().err


def test_answers_are_found_in_check_calls_however_the_cell_is_written():
    nb = new_notebook(cells=[
        new_code_cell('%matplotlib inline\nok = check("03.self_attention", answers["mine"])'),
        new_code_cell('labs.check(answer=lambda: 3.09, exercise_id="03.reg_loss_chance")\nprint(check)'),
        new_code_cell('def f():\n    check("03.token_block", g)\ncheck("99.unknown", f)'),  # inside a def; unknown id
        new_code_cell("def broken(:"),
    ])
    answers, notes = answers_in(nb)
    assert [(a.cell, a.exercise, a.expression) for a in answers] == [
        (0, "03.self_attention", 'answers["mine"]'), (1, "03.reg_loss_chance", "lambda: 3.09")]
    assert notes == ["code cell 3 is not valid Python (invalid syntax, line 1)."]


# --- the guard ----------------------------------------------------------------------------------------
def _closure():
    scale = 2

    def scaled(x):
        return x * scale

    return scaled


def test_the_guard_blocks_every_function_with_the_code_however_it_is_held():
    original = _closure()  # its code has a free variable: the blocker's must take one too
    copy = types.FunctionType(original.__code__, original.__globals__, "copy", None, original.__closure__)
    held = [functools.partial(original), lambda x, f=copy: f(x)]
    code = original.__code__
    assert guard.block([(code.co_filename, code.co_qualname, "tests.scaled")]) == 2
    guard.CALLS.clear()
    for f in (original, copy, *held):
        with pytest.raises(guard.PackageCalled, match="the package's own tests.scaled is blocked"):
            f(3)
    assert guard.CALLS == ["tests.scaled"] * 4
    guard.CALLS.clear()


# --- the self-check in the student's own process ------------------------------------------------------
def said(capsys) -> str:
    """What check printed, on one line."""
    return " ".join(capsys.readouterr().out.split())


def self_attention(f):
    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-1) @ f


def wrong_axis(f):
    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-2) @ f


def test_self_check_ignores_a_patched_allclose_and_a_patched_package(monkeypatch, capsys):
    monkeypatch.setattr(torch, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(slt, "self_attention", wrong_axis)
    assert not check("03.self_attention", wrong_axis)
    assert WRONG_AXIS in said(capsys)
    assert check("03.self_attention", self_attention)


def _borrowed() -> dict:
    impl = slt.self_attention

    class Attend:
        def __call__(self, f):
            return impl(f)

    return {"default argument": lambda f, g=impl: g(f), "closure": lambda f: impl(f), "callable object": Attend(),
            "partial": functools.partial(lambda f, g: g(f), g=impl)}


@pytest.mark.parametrize("how", sorted(_borrowed()))
def test_self_check_blocks_the_package_function_however_it_is_reached(capsys, how):
    assert not check("03.self_attention", _borrowed()[how])
    assert "your function called the package's own sasr_lite.model.slt.self_attention" in said(capsys)


def test_self_check_survives_an_endless_loop_and_an_exit(capsys):
    def endless(f):
        while True:
            pass

    assert not check("03.self_attention", endless, time_limit=2)
    assert "did not finish within the time limit of 2 s" in said(capsys)
    assert not check("03.self_attention", lambda f: sys.exit(3))
    assert "your function raised SystemExit: 3" in said(capsys)
    assert not check("03.reg_loss_chance", lambda: __import__("os")._exit(4))
    assert "ended the process (exit status 4)" in said(capsys)


def test_the_paired_bootstrap_solution_is_right_but_refused(capsys):
    namespace = {"check": lambda *args: None}
    exec(PAIRED, namespace)
    interval = namespace["bootstrap_interval"]
    correct = torch.rand(80, generator=torch.Generator().manual_seed(0)).numpy() < 0.6
    records, predictions = graded_questions(list(correct))
    table = evaluate.bootstrap_table(records, predictions, n_boot=100, seed=2)
    expected = [float(table.loc[("model", s), (evaluate.OVERALL, evaluate.AVG)]) for s in ("accuracy", "low", "high")]
    assert interval(correct, 100, 2) == pytest.approx(expected)  # the trick computes the right numbers
    assert not check("09.bootstrap_interval", interval)
    assert "the package's own sasr_lite.evaluate.paired_bootstrap" in said(capsys)


# --- the committed notebooks' own solutions -----------------------------------------------------------
@pytest.mark.slow
def test_every_notebook_solution_passes_its_exercise(tmp_path):
    """The lesson notebooks, solved as committed, graded as the instructor would (whole notebooks
    at the test scale, about two minutes): every exercise's solution must PASS."""
    folder = tmp_path / "solutions"
    folder.mkdir()
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if any(e.notebook == path.stem for e in EXERCISES.values()):
            (folder / path.name).write_bytes(path.read_bytes())
    assert cli.main(["grade", str(folder), "--out", str(tmp_path / "out"), "--seed", "7"]) == 0
    grades = pd.read_csv(tmp_path / "out" / "grades.csv").set_index("exercise")
    assert sorted(grades.index) == sorted(EXERCISES), "every exercise is checked in its notebook"
    failed = {exercise: found["reason"] for exercise, found in grades.iterrows() if found["verdict"] != "PASS"}
    assert failed == {}


# --- an experiment graded on its runs --------------------------------------------------------------------
TINY_RUNS = '''\
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.loading import load_data
from sasr_lite.labs import check
from sasr_lite.notebook_utils import overall_test_accuracy
from sasr_lite.synth.generate import generate
from sasr_lite.train import train

data = load_data(generate("data/tiny", size="tiny", seed=0), splits=("train", "val", "test"))
schedule = TrainConfig(epochs=1, max_batches=1, batch_size=8, device="cpu", progress=False, verbose=False,
                       tensorboard=False)
accuracy = {folder: overall_test_accuracy(train(data, config, schedule, out_dir=folder).model, data, run_dir=folder)
            for folder, config in (("runs/full", SaSRConfig.tiny()), ("runs/no_match", SaSRConfig.tiny(lambda_match=0.0)))}
'''
REPORT = ('report = dict(setting="lambda_match", value=0.0, before=accuracy["runs/full"], after={after}, '
          'baseline="runs/full", run="runs/no_match", explanation="Without the match loss nothing teaches the spatial '
          'attention where the sound comes from, so location questions should suffer most.")\n'
          'check("07.loss_weights", report)')


def test_an_experiment_is_graded_on_the_runs_its_notebook_trained(tmp_path):
    """Relative run folders resolve from where the grader ran the notebook; the measured numbers
    pass, a made-up one fails naming the recorded file."""
    write_notebook(tmp_path / "in" / "measured.ipynb", [TINY_RUNS, REPORT.format(after='accuracy["runs/no_match"]')])
    write_notebook(tmp_path / "in" / "made_up.ipynb", [TINY_RUNS, REPORT.format(after="97.5")])
    out = tmp_path / "out"
    assert cli.main(["grade", str(tmp_path / "in" / "measured.ipynb"), str(tmp_path / "in" / "made_up.ipynb"),
                     "--out", str(out), "--seed", "1"]) == 0
    grades = pd.read_csv(out / "grades.csv")
    measured, made_up = row(grades, "measured", "07.loss_weights"), row(grades, "made_up", "07.loss_weights")
    assert measured["verdict"] == "PASS" and "numbers as recorded" in measured["reason"], measured["reason"]
    assert made_up["verdict"] == "FAIL", made_up["reason"]
    assert "after=97.50 is not the measured accuracy" in made_up["reason"]
    assert "runs/no_match/test_result.json recorded" in made_up["reason"]


def test_graded_questions_mark_each_question_right_or_wrong_and_refuse_a_length_mismatch():
    from sasr_lite.data.taxonomy import TEMPLATES

    records, predictions = graded_questions([True, False, True], [TEMPLATES[1]] * 3)
    assert [r.template for r in records] == [TEMPLATES[1]] * 3
    assert [predictions[r.question_id] == r.answer for r in records] == [True, False, True]
    with pytest.raises(ValueError, match="3 answers marked right or wrong but 2 templates"):
        graded_questions([True, False, True], [TEMPLATES[1]] * 2)
