"""README quotes the notebooks' measured numbers from the files they wrote (sasr_lite.results)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sasr_lite.data.files import read_json
from sasr_lite.results import main, quote, record

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- result: (\S+) -->\n(.*?)<!-- /result -->", re.S)


def test_record_writes_the_values_in_order_and_quote_renders_them(tmp_path):
    path = record("lesson", "09_evaluation", {"test accuracy (%)": 58.8, "interval": "[57.1, 60.5]", "epochs": 9},
                  note="how it was measured.", root=tmp_path)
    assert path == tmp_path / "lesson" / "09_evaluation.json"
    saved = read_json(path)
    assert list(saved["values"]) == ["test accuracy (%)", "interval", "epochs"]
    text = quote(saved, "x.json")
    assert text.splitlines()[0].startswith("From `x.json` (notebook 09_evaluation, lesson scale, written ")
    assert text.splitlines()[0].endswith("how it was measured.")
    assert text.splitlines()[-3:] == ["| test accuracy (%) | 58.8 |", "| interval | [57.1, 60.5] |", "| epochs | 9 |"]


def test_record_refuses_values_that_are_not_numbers_or_text(tmp_path):
    with pytest.raises(TypeError, match=r"record\('n'\): values must be numbers or text; got \{'table': 'list'"):
        record("test", "n", {"table": [1, 2]}, note="", root=tmp_path)
    assert not (tmp_path / "test" / "n.json").exists()


def test_quote_names_a_file_that_is_not_a_result(tmp_path):
    with pytest.raises(ValueError, match="other.json: not a result file written by sasr_lite.results.record"):
        quote({"format": "something else"}, "other.json")


def test_the_command_prints_the_readme_block(tmp_path, capsys):
    path = record("lesson", "n", {"a": 1}, note="n.", root=tmp_path)
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"<!-- result: {path} -->\n") and out.endswith("| a | 1 |\n<!-- /result -->\n")


def test_readme_quotes_the_committed_lesson_results_unchanged():
    """Every number README's result blocks show is the committed file's, rendered by `quote`."""
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    sources = [source for source, _ in blocks]
    assert {"notebooks/results/lesson/09_evaluation.json", "notebooks/results/lesson/10_ablations.json"} <= set(sources)
    for source, body in blocks:
        result = read_json(ROOT / source)
        assert result["scale"] == "lesson", source
        assert body == quote(result, source), f"README's block for {source} differs from the file: rerun " \
                                              f"`python -m sasr_lite.results {source}` and paste its output"
