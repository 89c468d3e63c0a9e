"""`sasr-lite demo` at the test scale (tiny benchmark, tiny model): every output is written and consistent."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sasr_lite import cli
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.evaluate import accuracy_table
from sasr_lite.synth.generate import generate
from sasr_lite.data.loading import load_data


def test_smoke_demo_writes_the_report_metrics_and_figures(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SASR_LITE_SCALE", "test")
    data = generate(tmp_path / "tiny", size="tiny", seed=0)
    out = tmp_path / "demo"
    assert cli.main(["demo", "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paper Table 1 layout" in printed and "pointing accuracy" in printed

    for name in ("report.md", "metrics.csv", "table.csv", "templates.csv", "results.json", "curves.png",
                 "accuracy_by_type.png", "spatial_attention.png", "temporal_attention.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "table.csv", header=[0, 1], index_col=0)
    assert list(table.index) == ["answer prior", "question only", "SaSR-Net w/o SLT & SaSR", "SaSR-Net"]

    # the prior's row is what a fresh prior fit on the same train split scores
    from sasr_lite.baselines import AnswerPrior

    tiny = load_data(data, splits=("train", "test"))
    prior = accuracy_table(tiny.records["test"], AnswerPrior().fit(tiny.records["train"]).predict(tiny.records["test"]))
    assert table.loc["answer prior"].to_numpy() == pytest.approx(prior.iloc[0].to_numpy(), nan_ok=True)

    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["model"]) == {"SaSR-Net", "SaSR-Net w/o SLT & SaSR"}
    results = json.loads((out / "results.json").read_text())
    assert results["release"] == "synthetic" and results["model"]["d_model"] == 32
    ours = results["accuracy"]["SaSR-Net"]["Overall/Avg"]
    report = (out / "report.md").read_text()
    assert f"{ours:.1f}" in report and "![spatial_attention.png](spatial_attention.png)" in report
    assert 0 <= results["attention"]["SaSR-Net"]["pointing_accuracy"] <= 100
    assert results["instruments"] == list(INSTRUMENTS) and "drawn from all 22 instrument classes" in report


def test_the_report_names_a_reduced_palette():
    from sasr_lite.demo import _palette_note
    from sasr_lite.synth.presets import DEMO_INSTRUMENTS

    note = _palette_note(list(DEMO_INSTRUMENTS))
    assert note.startswith("Scenes are drawn from 8 of the 22 instrument classes (violin, piano, cello,")
