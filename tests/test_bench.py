"""`sasr-lite bench`: samples/s, FLOP per sample, this machine's matmul peak and the roofline, noisy rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from sasr_lite import cli
from sasr_lite.bench import NOISY, benchmark, data_speed, flops_per_sample, model_speed, random_store, speed_ratios
from sasr_lite.config import SaSRConfig
from sasr_lite.presets import preset

pytestmark = pytest.mark.usefixtures("one_thread")  # fixtures in conftest.py


def test_bench_measures_the_model_and_the_data_path(tmp_path):
    for per_video in (1, 2):  # 4 questions about 4 videos, then about 2
        model = model_speed(SaSRConfig.tiny(), batch_size=4, device=torch.device("cpu"), steps=1, warmup=1,
                            questions_per_video=per_video)
        assert model["train_samples_per_s"] > 0 and model["infer_samples_per_s"] > 0
    store = random_store(tmp_path / "store", num_videos=6)
    assert (store.T, store.P, len(store)) == (10, 196, 6)
    data = data_speed(store, batch_size=4, device=torch.device("cpu"), batches=3)
    assert data["samples_per_s"] == pytest.approx(4 * data["batches_per_s"])


def test_flops_per_sample_are_per_question():
    """Doubling the batch leaves the FLOP per question (nearly: the random questions' lengths change
    the LSTM's share), training costs 2-5x an inference (backward, negatives), and asking five
    questions about each video runs the video path once for five."""
    config = SaSRConfig.tiny()
    small, large = flops_per_sample(config, 2), flops_per_sample(config, 4)
    assert small["train"] == pytest.approx(large["train"], rel=0.02)
    assert small["infer"] == pytest.approx(large["infer"], rel=0.02)
    assert 2 * small["infer"] < small["train"] < 5 * small["infer"]
    assert flops_per_sample(config, 10, questions_per_video=5)["train"] < flops_per_sample(config, 10)["train"]


def test_bench_rows_give_the_roofline_from_the_measured_peak():
    table = benchmark("cpu", batch_sizes=(2,), steps=1, data_batches=1, num_videos=4, questions_per_video=(1,),
                      rounds=2, precisions=("fp32",), peak_size=256)
    peak = table.attrs["peaks_gflops"]["fp32"]
    assert peak > 0
    models = table[table["model"] != "-"]
    assert set(models["precision"]) == {"fp32"} and set(models["model"]) == {"paper", "official", "lesson"}
    # the lesson model as notebook 08 trains it: the lesson preset's width, batch size and questions per video
    lesson = preset("lesson")
    rows_of_lesson = models[models["model"] == "lesson"]
    assert set(rows_of_lesson["batch"]) == {lesson.train.batch_size}
    assert set(rows_of_lesson["questions/video"]) == {lesson.train.group}
    assert rows_of_lesson["GFLOP/sample"].tolist() == pytest.approx(
        [v / 1e9 for v in flops_per_sample(lesson.model, lesson.train.batch_size, lesson.train.group).values()])
    # roofline = peak / FLOP per sample; % roofline = samples/s over it (direct computation)
    expected_roofline = peak * 1e9 / (models["GFLOP/sample"] * 1e9)
    assert models["roofline samples/s"].to_numpy() == pytest.approx(expected_roofline.to_numpy())
    assert models["% roofline"].to_numpy() == pytest.approx(
        (100 * models["samples/s"] / expected_roofline).to_numpy())
    assert (models["spread"] >= 1).all()
    ratios = speed_ratios(table).set_index("what")
    rows = table.set_index(["model", "what"])["samples/s"]
    for what in ("model training", "model inference"):
        if ratios.loc[what, "noisy"]:
            assert pd.isna(ratios.loc[what, "paper / official"])
        else:
            assert ratios.loc[what, "paper / official"] == pytest.approx(rows[("paper", what)] / rows[("official", what)])


def _row(model, spread, speed):
    return {"model": model, "what": "model training", "precision": "fp32", "batch": 16, "questions/video": 1,
            "samples/s": speed, "spread": spread}


def test_a_ratio_of_a_noisy_row_is_not_given():
    quiet = pd.DataFrame([_row("paper", 1.05, 90.0), _row("official", 1.1, 10.0)])
    assert speed_ratios(quiet)["paper / official"].iloc[0] == pytest.approx(9.0)
    assert not speed_ratios(quiet)["noisy"].iloc[0]
    noisy = pd.DataFrame([_row("paper", NOISY + 0.01, 90.0), _row("official", 1.0, 10.0)])
    out = speed_ratios(noisy)
    assert out["noisy"].iloc[0] and pd.isna(out["paper / official"].iloc[0])


def test_bench_json_keeps_the_rows_schema_and_adds_precision_and_the_peaks(tmp_path, monkeypatch):
    import sasr_lite.bench as bench

    real = bench.benchmark
    monkeypatch.setattr(bench, "benchmark", lambda *a, **k: real(
        "cpu", batch_sizes=(2,), steps=1, data_batches=1, num_videos=4, questions_per_video=(1,), rounds=2,
        precisions=("fp32",), peak_size=256))
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--threads", "1", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["threads"] == 1 and saved["peaks_gflops"]["fp32"] > 0
    for row in saved["rows"]:
        assert {"model", "what", "batch", "questions/video", "samples/s", "batches/s", "precision"} <= set(row)
    assert {r["what"] for r in saved["ratios"]} == {"model training", "model inference"}
    assert cli.main(["bench", "--quick", "--threads", "1", "--json", str(out)]) == 0  # its own result: replaced


def test_bench_json_never_replaces_a_file_it_did_not_write(tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}')
    assert cli.main(["bench", "--quick", "--json", str(notes)]) == 1  # refused before any measuring
    assert "exists and is not a result of sasr-lite bench; refusing to overwrite it" in capsys.readouterr().err
    assert notes.read_text() == '{"mine": true}'


def test_readme_speed_table_is_the_committed_result_file():
    """README quotes the bench's numbers from the file the bench wrote, never typed by hand."""
    import re
    from pathlib import Path

    from sasr_lite.bench import summary_markdown
    from sasr_lite.data.files import read_json

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    match = re.search(r"<!-- bench-summary: (\S+) -->\n(.*?)<!-- /bench-summary -->", readme, re.S)
    assert match, "README has no bench-summary block"
    source = match.group(1)
    assert match.group(2) == summary_markdown(read_json(root / source), source)
