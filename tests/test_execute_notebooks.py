"""`make notebooks` stores what a reader sees (progress-bar redraws collapse to their last state) and
records how long each notebook took."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from sasr_lite.execute_notebooks import CELL_TIMEOUT, as_displayed, keep_what_is_displayed, record_times

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


def test_a_redrawn_line_keeps_only_its_last_state():
    bar = "epoch 1:  10%|#         | 1/10\repoch 1:  50%|#####     | 5/10\repoch 1: 100%|##########| 10/10"
    assert as_displayed(f"start\n{bar}\ndone\n") == "start\nepoch 1: 100%|##########| 10/10\ndone\n"
    assert as_displayed("no redraws\nat all") == "no redraws\nat all"


def test_consecutive_chunks_of_one_stream_merge_before_they_collapse():
    chunks = [nbformat.v4.new_output("stream", name="stderr", text=t) for t in ("\repoch 1: 10%", "\repoch 1: 90%", "\n")]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="loading\n"), *chunks,
        nbformat.v4.new_output("stream", name="stdout", text="done\n")])])
    keep_what_is_displayed(nb)
    assert [(o["name"], o["text"]) for o in nb.cells[0].outputs] == [
        ("stdout", "loading\n"), ("stderr", "epoch 1: 90%\n"), ("stdout", "done\n")]


def test_only_stream_outputs_are_rewritten():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="a\rb\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "c\rd"}, execution_count=1),
    ])])
    keep_what_is_displayed(nb)
    outputs = nb.cells[0].outputs
    assert outputs[0]["text"] == "b\n" and outputs[1]["data"]["text/plain"] == "c\rd"


def test_the_cell_timeout_outlasts_the_longest_training_cell_on_record():
    """Notebook 12's budget cell trains the official network for 6 epochs in one cell; at 900 s per
    cell `make notebooks` stopped it after the first epoch on a 2-core machine."""
    record = Path(__file__).parents[1] / "notebooks" / "results" / "lesson" / "12_official_network.json"
    values = json.loads(record.read_text())["values"]
    budget = next(v for k, v in values.items() if k.startswith("official: epochs to leave the prior"))
    seconds = float(re.search(r"\((\d+) s of training\)", budget).group(1))
    assert CELL_TIMEOUT > 2 * seconds  # room for a machine twice as slow



def _notebook(path: Path, meta: dict | None) -> None:
    nb = nbformat.v4.new_notebook()
    if meta is not None:
        nb.metadata["sasr_lite"] = meta
    path.write_text(nbformat.writes(nb))


def test_notebook_times_collects_each_notebooks_seconds_at_its_scale(tmp_path):
    _notebook(tmp_path / "00_a.ipynb", {"scale": "lesson", "seconds": 12.5, "executed": "2026-12-06"})
    _notebook(tmp_path / "01_b.ipynb", {"scale": "lesson", "seconds": 3.25})  # executed before days were kept
    _notebook(tmp_path / "02_c.ipynb", {"scale": "test", "seconds": 1.0, "executed": "2026-12-06"})
    _notebook(tmp_path / "03_d.ipynb", None)  # never executed by the command
    _notebook(tmp_path / "04_e.ipynb", {"scale": "lesson", "seconds": 7.0, "executed": "2026-12-05"})
    saved = json.loads(record_times(tmp_path, "lesson").read_text())
    assert saved["notebook"] == "notebook_times" and saved["scale"] == "lesson"
    assert saved["values"] == {"00_a (s)": 12.5, "01_b (s)": 3.25, "04_e (s)": 7.0,
                               "all of them, one after the other (s)": 22.8}
    assert "executed 04 on 2026-12-05; 00 on 2026-12-06; 01 on a day not recorded" in saved["note"]
    assert record_times(tmp_path, "paper") is None
    assert not (tmp_path / "results" / "paper").exists()


def test_the_committed_notebook_times_are_those_of_the_committed_notebooks(tmp_path):
    # what README quotes is what the committed notebooks' metadata say, not an older run's
    committed = json.loads((NOTEBOOKS / "results" / "lesson" / "notebook_times.json").read_text())
    for ipynb in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        (tmp_path / ipynb.name).write_text(ipynb.read_text())
    again = json.loads(record_times(tmp_path, "lesson").read_text())
    assert again["values"] == committed["values"] and again["note"] == committed["note"]
