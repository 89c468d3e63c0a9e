"""`sasr-lite compare` on predictions files the test writes, against the tiny benchmark's test split."""

from __future__ import annotations

import pandas as pd
import pytest

from sasr_lite import cli
from sasr_lite.evaluate import TABLE_COLUMNS, accuracy_table, paired_bootstrap


def _write(path, predictions: dict[int, str]):
    """A predictions CSV as `sasr-lite eval` writes it (question_id, prediction first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"question_id": list(predictions), "prediction": list(predictions.values())}).to_csv(path, index=False)
    return path


def _printed_rows(text: str) -> dict[tuple[str, str], list[str]]:
    """The printed table's cells after each Table 1 column's row label ("Audio Counting ...")."""
    rows = {}
    for line in text.splitlines():
        for group, subtype in TABLE_COLUMNS:
            if line.startswith(f"{group} {subtype} "):
                rows[(group, subtype)] = line[len(f"{group} {subtype} "):].split()
    return rows


@pytest.fixture()
def runs(tiny, tmp_path):
    """Run A answers everything right; run B only the audio questions and every other visual one."""
    records = tiny.records["test"]
    a = {r.question_id: r.answer for r in records}
    b = {r.question_id: r.answer if r.group == "Audio" or (r.group == "Visual" and i % 2) else "<wrong>"
         for i, r in enumerate(records)}
    folder_a = _write(tmp_path / "a" / "test_predictions.csv", a).parent  # an eval output folder
    file_b = _write(tmp_path / "b.csv", b)  # a predictions file itself
    return records, a, b, folder_a, file_b


def test_compare_prints_the_paired_differences(tiny, runs, capsys):
    records, a, b, folder_a, file_b = runs
    assert cli.main(["compare", str(folder_a), str(file_b), "--data", str(tiny.root), "--n-boot", "300"]) == 0
    out = capsys.readouterr().out
    assert f"A = {folder_a / 'test_predictions.csv'}" in out and f"B = {file_b}" in out
    printed = _printed_rows(out)
    assert list(printed) == list(TABLE_COLUMNS)
    direct = accuracy_table(records, a).iloc[0] - accuracy_table(records, b).iloc[0]
    for column, cells in printed.items():
        assert float(cells[3]) == pytest.approx(direct[column], abs=0.005), column  # questions, A, B, A-B, ...
    assert float(printed[("Audio", "Avg")][3]) == 0.0
    expected = paired_bootstrap(records, a, b, n_boot=300, seed=0)
    clear = [f"{g} {t}" for g, t in expected.index[expected["excludes_zero"]]]
    verdict = next(line for line in out.splitlines() if line.startswith("intervals excluding 0:"))
    assert "Overall Avg" in clear and "Audio Avg" not in clear
    assert [part.rsplit(" (", 1)[0] for part in verdict.split(": ", 1)[1].split(", ")] == clear
    for column, cells in printed.items():
        assert (cells[-1] == "yes") == bool(expected.loc[column, "excludes_zero"]), column


def test_compare_errors_name_the_file(tiny, runs, tmp_path, capsys):
    records, a, b, folder_a, file_b = runs
    data = ["--data", str(tiny.root)]

    def error(*argv) -> str:
        assert cli.main(["compare", *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("sasr-lite compare: error: ")
        return err

    missing = tmp_path / "nowhere.csv"
    assert f"predictions file not found: {missing}" in error(str(folder_a), str(missing), *data)
    empty_run = tmp_path / "empty_run"
    empty_run.mkdir()
    assert f"predictions file not found: {empty_run / 'test_predictions.csv'}" in error(str(empty_run), str(file_b), *data)

    short = _write(tmp_path / "short.csv", {q: p for q, p in b.items() if q != records[0].question_id})
    err = error(str(folder_a), str(short), *data)
    assert f"{short}: 1 of {len(records)} records have no prediction" in err

    no_answers = tmp_path / "no_answers"
    no_answers.mkdir()
    assert f"annotation file not found: {no_answers / 'avqa-test.json'}" in error(
        str(folder_a), str(file_b), "--data", str(no_answers))
