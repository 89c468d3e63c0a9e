"""One source per exercise: every notebook's exercise cells say what the exercise's definition
(`sasr_lite.labs.exercise.Exercise`) says: heading (id, kind, minutes), objective, the stub's
signature and docstring, the solution between the markers, and the `check` call."""

from __future__ import annotations

import pytest

from sasr_lite.labs.registry import EXERCISES

from exercise_cells import NOTEBOOKS, drift

PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))  # all of them: a cell without a definition shows too


def test_every_registered_exercise_has_its_notebook():
    missing = sorted({e.notebook for e in EXERCISES.values()} - {p.stem for p in PATHS})
    assert not missing, f"exercises are registered for notebooks that {NOTEBOOKS} lacks: {missing}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_the_notebook_cells_agree_with_the_definitions(path):
    problems = drift(path)
    assert not problems, "\n".join(problems) + "\n(edit the definition in sasr_lite/labs/ or the cell, then " \
                                                "`jupytext --update --to ipynb` the notebook)"


# (what to change in 06_temporal_attention.py, the exercise, what the message must say)
DRIFTS = [
    ("### Exercise `06.ablated_weights` · predict · 5 min", "### Exercise `06.ablated_weights` · predict · 6 min",
     "06.ablated_weights", "the heading's minutes is 6, the definition's 5"),
    ("### Exercise `06.unscaled_logits` · predict", "### Exercise `06.unscaled_logits` · implement",
     "06.unscaled_logits", "the heading's kind is 'implement', the definition's 'predict'"),
    ("# Write question-guided temporal attention over the T segments.", "# Write temporal attention.",
     "06.temporal_attention", "the heading's objective is 'Write temporal attention.'"),
    ("    q [B, D] question vectors,", "    q [B, D] the question vectors,",
     "06.temporal_attention", "the code before the solution differs from the stub's signature and docstring"),
    ("    return 1 / 10  # uniform over T = 10 segments", "    return 0.1",
     "06.ablated_weights", "the code between the markers differs from the definition's solution"),
    ('check("06.unscaled_logits", answer)', 'check("06.ablated_weights", answer)',
     "06.unscaled_logits", 'the cell should end with check("06.unscaled_logits", answer)'),
    ("### Exercise `06.unscaled_logits`", "### Exercise `06.unscaled_logit`",
     "06.unscaled_logits", "is registered for this notebook but has no"),
]


@pytest.mark.parametrize("old, new, exercise_id, said", DRIFTS, ids=[d[3][:40] for d in DRIFTS])
def test_a_drifted_cell_is_reported_with_the_notebook_the_exercise_and_the_difference(tmp_path, old, new,
                                                                                      exercise_id, said):
    original = NOTEBOOKS / "06_temporal_attention.py"
    text = original.read_text()
    assert text.count(old) == 1, old
    copy = tmp_path / original.name  # drift reads which exercises to expect from the file's name
    copy.write_text(text.replace(old, new))
    problems = drift(copy)
    assert any(str(copy) in p and exercise_id in p and said in p for p in problems), problems
    assert not drift(original)
