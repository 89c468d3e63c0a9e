"""The committed notebooks carry lesson-scale outputs that show a trained model (read, never executed).

`make notebooks` executes the sequence at the lesson scale and records the scale in each
notebook's metadata; nbval re-runs them at the test scale without comparing most outputs, so
only this test notices committed outputs from another scale, a lesson model that learned
nothing, or a broken ablation table.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pytest

from sasr_lite.labs.registry import EXERCISES

from exercise_cells import HEADING

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
PREDICTS = sorted(i for i, e in EXERCISES.items() if e.kind == "predict")


def _outputs(nb, cells=None) -> list[str]:
    """Every text output of every cell (stream text and the plain-text form of results), or of ``cells``."""
    texts = []
    for cell in nb.cells if cells is None else cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            texts.append("".join(text) if isinstance(text, list) else text)
    return texts


def _row_last_number(texts: list[str], row: str) -> float:
    """The last number on the first output line that starts with ``row`` (a DataFrame's row label)."""
    for text in texts:
        for line in text.splitlines():
            if line.startswith(row):
                return float(re.findall(r"-?\d+\.\d+", line)[-1])
    raise AssertionError(f"no output line starts with {row!r}")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_committed_outputs_come_from_the_lesson_scale(path):
    nb = nbformat.read(path, as_version=4)
    scale = nb.metadata.get("sasr_lite", {}).get("scale")
    # (that every cell ran, top to bottom, without an error: test_notebooks_paired.py)
    assert scale == "lesson", f"{path.name} was executed at the {scale!r} scale; run `make notebooks`"


def _printed_forms(exercise) -> set[str]:
    """How an output may print a predict exercise's answer: plain roundings (and thousands separators
    for a whole number), those close enough to the reference that the check would accept them."""
    value, spec = exercise.spec.expected(), exercise.spec
    forms = {str(value), f"{value:g}", f"{value:.3g}"} | {f"{value:.{n}f}" for n in range(5)}
    if value == int(value):
        forms |= {str(int(value)), f"{int(value):,}"}
    return {f for f in forms if math.isclose(float(f.replace(",", "")), value, rel_tol=spec.rel_tol,
                                                   abs_tol=spec.abs_tol)}


@pytest.mark.parametrize("exercise_id", PREDICTS)
def test_no_output_above_a_predict_exercise_prints_its_answer(exercise_id):
    exercise = EXERCISES[exercise_id]
    nb = nbformat.read(NOTEBOOKS / f"{exercise.notebook}.ipynb", as_version=4)
    heading = next(k for k, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
                   and (match := HEADING.fullmatch(cell.source.strip())) and match["id"] == exercise_id)
    # a form counts as a whole number, not the digits inside a longer one (0.1 in 0.15 or 10.1, 33 in 33.9)
    pattern = re.compile(r"(?<![\d.])(" + "|".join(map(re.escape, _printed_forms(exercise))) + r")(?!\.?\d)")
    leaks = [(k, match.group(0)) for k, cell in enumerate(nb.cells[:heading])
             for text in _outputs(nb, [cell]) if (match := pattern.search(text))]
    assert not leaks, (f"{exercise.notebook}.ipynb prints the answer to {exercise_id} above its exercise "
                       f"(cell index, as printed): {leaks}")


def test_lesson_model_beats_the_answer_prior_in_09():
    texts = _outputs(nbformat.read(NOTEBOOKS / "09_evaluation.ipynb", as_version=4))
    ours, prior = _row_last_number(texts, "SaSR-Net (ours)"), _row_last_number(texts, "answer prior")
    assert ours > prior, f"notebook 09 shows SaSR-Net at {ours}% overall, not above the answer prior's {prior}%"


def test_ablation_tables_in_10_hold_no_nan():
    texts = _outputs(nbformat.read(NOTEBOOKS / "10_ablations.ipynb", as_version=4))
    interval = re.compile(r"[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\]")  # "-2.2 [-3.5, -0.9]"
    assert any("Overall/Avg" in t and interval.search(t) for t in texts), "notebook 10 shows no table of differences"
    bad = [t for t in texts if re.search(r"\bNaN\b|\bnan\b", t)]
    assert not bad, f"notebook 10 has NaN in its outputs: {bad[0][:300]}"


def test_12_shows_both_networks_trained_with_every_seed_and_their_difference():
    texts = _outputs(nbformat.read(NOTEBOOKS / "12_official_network.ipynb", as_version=4))
    assert any("total                                          65,117,283" in t for t in texts)
    assert any(re.search(r"official - paper, Overall: [+-]\d+\.\d+ points, 95% paired-bootstrap interval", t)
               for t in texts), "notebook 12 shows no difference with an interval"
    bad = [t for t in texts if re.search(r"\bNaN\b|\bnan\b", t)]
    assert not bad, f"notebook 12 has NaN in its outputs: {bad[0][:300]}"


def test_13_multiple_choice_model_clears_chance_and_both_text_only_floors():
    text = "\n".join(_outputs(nbformat.read(NOTEBOOKS / "13_avqa_yang.ipynb", as_version=4)))
    overall = dict(re.findall(r"(SaSR-Net|question \+ candidates only|position prior|chance) (\d+\.\d)%",
                              re.search(r"^overall: .*$", text, flags=re.M).group(0)))
    assert set(overall) == {"SaSR-Net", "question + candidates only", "position prior", "chance"}
    floor = max(float(v) for name, v in overall.items() if name != "SaSR-Net")
    assert float(overall["SaSR-Net"]) > floor + 20, overall  # a clear margin, learnt from the clips
    assert "SaSR-Net (published, Table 4)" in text and "89.9" in text


def test_every_exercise_passes_with_its_solution_in_the_committed_notebooks():
    from sasr_lite.labs import exercises

    passed, failed = set(), set()
    for path in PATHS:
        text = "\n".join(_outputs(nbformat.read(path, as_version=4)))
        passed |= set(re.findall(r"^PASS (\d\d\.[a-z_]+):", text, flags=re.M))
        failed |= set(re.findall(r"^FAIL (\d\d\.[a-z_]+):", text, flags=re.M))
    assert not failed, f"exercises failing with their solutions: {sorted(failed)}"
    assert passed == set(exercises()["id"])


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_solution_markers_appear_only_in_code_cells(path):
    """nbgrader (tried: 0.9.6) reads a BEGIN/END SOLUTION line in any cell, markdown included, and
    stops when a markdown cell quotes one; only exercise code cells may hold the markers."""
    nb = nbformat.read(path, as_version=4)
    quoted = [k for k, cell in enumerate(nb.cells) if cell.cell_type != "code"
              and any(marker in cell.source.upper() for marker in ("BEGIN SOLUTION", "END SOLUTION"))]
    assert not quoted, f"{path.name}: markdown cells {quoted} quote a solution marker; say 'solution markers' instead"


def test_notebook_10s_record_holds_converged_runs_and_the_cue_experiment():
    """results/lesson/ablations.json, written by notebook 10: every run converged by its rule, every
    required variant and the cue experiment's two settings, each cell low <= delta <= high."""
    from sasr_lite.ablations import REQUIRED_VARIANTS

    record = json.loads((NOTEBOOKS / "results" / "lesson" / "ablations.json").read_text())
    assert record["scale"] == "lesson" and record["converged"] and all(record["converged"].values())
    assert all(record["cue_experiment"]["converged"].values()) and len(record["cue_experiment"]["deltas"]) == 2
    assert set(REQUIRED_VARIANTS) <= set(record["deltas"])
    for cells in [*record["deltas"].values(), *(c for s in record["cue_experiment"]["deltas"].values() for c in s.values())]:
        assert all(low <= delta <= high for delta, low, high in cells.values())
