"""Evaluation: Table 1 layout and arithmetic, matching by question id, attention grading, `sasr-lite eval`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from sasr_lite import cli
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.annotations import load_annotations, parse_record
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.evaluate import (
    TABLE_COLUMNS,
    ModelPredictions,
    accuracy_table,
    bootstrap_table,
    fit_table,
    grade_attention,
    predict,
    prior_accuracy,
    published_table,
    question_counts,
    template_table,
)
from sasr_lite.model import SaSRNet
from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask
from sasr_lite.synth.scenes import kept_segments, load_scenes, scene_index
from sasr_lite.train import train
from real_data import real_annotations


PAPER_LAYOUT = [
    ("Audio", "Counting"), ("Audio", "Comparative"), ("Audio", "Avg"),
    ("Visual", "Counting"), ("Visual", "Location"), ("Visual", "Avg"),
    ("Audio-Visual", "Existential"), ("Audio-Visual", "Location"), ("Audio-Visual", "Counting"),
    ("Audio-Visual", "Comparative"), ("Audio-Visual", "Temporal"), ("Audio-Visual", "Avg"),
    ("Overall", "Avg"),
]


def _record(qid: int, group: str, subtype: str, content: str, values: list[str], answer: str):
    return parse_record({
        "video_id": f"{qid:08d}", "question_id": qid, "type": json.dumps([group, subtype]),
        "question_content": content, "templ_values": json.dumps(values), "question_deleted": 0, "anser": answer,
    })


# six questions; predictions: 1 of 2 audio counting right, 1 of 1 audio comparative, 0 of 2 visual
# location, 1 of 1 audio-visual temporal -> Audio avg 2/3 (not the subtype mean 75), overall 3/6
HAND_RECORDS = [
    _record(11, "Audio", "Counting", "Is there a <Object> sound?", ["violin"], "yes"),
    _record(12, "Audio", "Counting", "Is there a <Object> sound?", ["piano"], "no"),
    _record(13, "Audio", "Comparative", "Is the <Object> louder than the <Object>?", ["violin", "piano"], "yes"),
    _record(14, "Visual", "Location", "Where is the performance?", [], "indoor"),
    _record(15, "Visual", "Location", "What kind of musical instrument is it?", [], "tuba"),
    _record(16, "Audio-Visual", "Temporal", "Where is the <FL> sounding instrument?", ["first"], "left"),
]
HAND_PREDICTIONS = {16: "left", 15: "piano", 14: "outdoor", 13: "yes", 12: "yes", 11: "yes"}


def test_table_has_the_papers_layout_and_hand_counted_numbers():
    table = accuracy_table(HAND_RECORDS, HAND_PREDICTIONS, name="hand")
    assert list(table.columns) == PAPER_LAYOUT and list(TABLE_COLUMNS) == PAPER_LAYOUT
    assert table.columns.names == ["group", "type"] and list(table.index) == ["hand"]
    row = table.loc["hand"]
    assert row[("Audio", "Counting")] == pytest.approx(50.0)
    assert row[("Audio", "Comparative")] == pytest.approx(100.0)
    assert row[("Audio", "Avg")] == pytest.approx(200 / 3)  # over questions, as AVST's test code
    assert row[("Visual", "Location")] == 0.0 and row[("Visual", "Avg")] == 0.0
    assert np.isnan(row[("Visual", "Counting")]) and np.isnan(row[("Audio-Visual", "Existential")])
    assert row[("Audio-Visual", "Temporal")] == 100.0 and row[("Audio-Visual", "Avg")] == 100.0
    assert row[("Overall", "Avg")] == pytest.approx(50.0)
    templates = template_table(HAND_RECORDS, HAND_PREDICTIONS)
    assert templates.loc["a_count_is_there", "questions"] == 2
    assert templates.loc["a_count_is_there", "accuracy"] == pytest.approx(50.0)
    assert templates["questions"].sum() == len(HAND_RECORDS)


def test_fit_table_sets_training_accuracy_beside_test_accuracy_per_template():
    # "training" split: HAND_RECORDS; "test" split: three new questions of two of its templates
    test_records = [
        _record(21, "Audio", "Counting", "Is there a <Object> sound?", ["flute"], "no"),
        _record(22, "Audio", "Counting", "Is there a <Object> sound?", ["cello"], "yes"),
        _record(23, "Audio-Visual", "Temporal", "Where is the <FL> sounding instrument?", ["last"], "right"),
    ]
    # run 1 answers every training question right, run 2 as HAND_PREDICTIONS; on test: run 1 gets 21 and 23
    # right, run 2 none of them
    fitted = {r.question_id: r.answer for r in HAND_RECORDS}
    runs_test = [{21: "no", 22: "no", 23: "right"}, {21: "yes", 22: "no", 23: "left"}]
    table = fit_table(HAND_RECORDS, [fitted, HAND_PREDICTIONS], test_records, runs_test)
    assert list(table.index) == ["a_count_is_there", "av_temp_where_fl"]  # the test split's templates
    assert list(table.columns) == ["group", "type", "train", "test", "gap"]
    counting, where = table.loc["a_count_is_there"], table.loc["av_temp_where_fl"]
    assert counting["train"] == pytest.approx((100 + 50) / 2) and counting["test"] == pytest.approx((50 + 0) / 2)
    assert where["train"] == 100.0 and where["test"] == pytest.approx(50.0)  # (100 + 0) / 2
    assert where["gap"] == pytest.approx(50.0) and counting["gap"] == pytest.approx(50.0)
    assert (where["group"], where["type"]) == ("Audio-Visual", "Temporal")
    with pytest.raises(ValueError, match="2 training and 1 test prediction sets"):
        fit_table(HAND_RECORDS, [fitted, HAND_PREDICTIONS], test_records, runs_test[:1])


def test_predictions_are_joined_by_question_id_not_position():
    frame = pd.DataFrame({"question_id": list(HAND_PREDICTIONS), "prediction": list(HAND_PREDICTIONS.values())})
    shuffled = frame.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(accuracy_table(HAND_RECORDS, shuffled), accuracy_table(HAND_RECORDS, HAND_PREDICTIONS))
    with pytest.raises(ValueError, match="1 of 6 records have no prediction, e.g. question ids \\[16\\]"):
        accuracy_table(HAND_RECORDS, {k: v for k, v in HAND_PREDICTIONS.items() if k != 16})
    with pytest.raises(ValueError, match="match no record, e.g. question ids \\[99\\]"):
        accuracy_table(HAND_RECORDS, {**HAND_PREDICTIONS, 99: "yes"})


def test_unknown_answers_count_as_wrong_and_are_reported():
    from sasr_lite.data.vocab import Vocabulary

    vocab = Vocabulary(["indoor", "left", "no", "outdoor", "piano", "yes"])  # no "tuba"
    table = accuracy_table(HAND_RECORDS, HAND_PREDICTIONS, answer_vocab=vocab)
    assert table.attrs["unknown_answers"] == 1 and table.attrs["questions"] == 6


def test_published_avst_averages_are_question_weighted_on_the_real_test_split():
    """Our Avg rule, applied to AVST's published per-type numbers with the real test split's
    counts, gives back AVST's published averages: the rule is the one the paper's table uses."""
    (path,) = real_annotations("avqa-test.json")
    counts = question_counts(load_annotations(path)).iloc[0]
    avst = published_table().iloc[0]
    assert "json_update" in published_table().index[0]
    for group in ("Audio", "Visual", "Audio-Visual", "Overall"):
        cols = [c for c in PAPER_LAYOUT if c[1] != "Avg" and (group == "Overall" or c[0] == group)]
        weighted = sum(avst[c] * counts[c] for c in cols) / sum(counts[c] for c in cols)
        assert weighted == pytest.approx(avst[(group, "Avg")], abs=0.01), group
    sasr = published_table().iloc[1]
    assert sasr[("Overall", "Avg")] == 74.21 and sasr[("Audio", "Avg")] == 73.56


# --- on the tiny synthetic benchmark ---------------------------------------------------------------
pytestmark = pytest.mark.usefixtures("one_thread")  # fixtures in conftest.py


@pytest.fixture(scope="module")
def tiny_model(tiny):
    torch.manual_seed(0)
    config = SaSRConfig.tiny(question_vocab_size=len(tiny.question_vocab), num_answers=len(tiny.answer_vocab))
    return SaSRNet(config).eval()


def test_shuffled_batches_give_each_question_its_own_prediction(tiny, tiny_model):
    dataset = tiny.dataset("test")
    shuffled = BatchLoader(dataset, batch_size=7, shuffle=True, seed=5, device="cpu")
    frame = predict(tiny_model, shuffled, tiny.answer_vocab).frame.set_index("question_id")
    assert sorted(frame.index) == sorted(r.question_id for r in tiny.records["test"])
    with torch.no_grad():  # one question at a time, in file order: the reference answer per id
        for i in range(len(dataset)):
            item = dataset[i]
            logits = tiny_model(item["audio"][None], item["visual"][None], item["visual_maps"][None],
                                item["question"][None]).answer_logits
            assert frame.loc[int(item["question_id"]), "answer_index"] == int(logits.argmax())


def test_attention_grading_against_the_scene_ground_truth(tiny, tiny_model):
    store = tiny.stores["test"]
    scenes = scene_index(load_scenes(tiny.root / "scenes" / "test.json"))
    segments = kept_segments(store.stride)
    records = tiny.records["test"]
    masks = {row: sounding_box_mask(scenes[vid], segments) for row, vid in enumerate(store.ids)}
    asked = {r.question_id: question_segments(scenes[r.video_id], r, segments) for r in records}
    T, P = store.T, store.P

    def graded(spatial, temporal):
        preds = ModelPredictions(frame=pd.DataFrame(), spatial=spatial, temporal_a=temporal, temporal_v=temporal)
        return grade_attention(records, preds, store, scenes)

    oracle = graded({row: np.where(m, 1.0, 0.0) + 1e-3 for row, m in masks.items()},
                    {q: a / a.sum() for q, a in asked.items()})
    expected_chance = 100 * np.mean([m[t].mean() for m in masks.values() for t in range(T) if m[t].any()])
    assert oracle["pointing_accuracy"] == 100.0
    assert oracle["pointing_chance"] == pytest.approx(expected_chance)
    assert oracle["pointing_segments"] == sum(int(m.any(axis=1).sum()) for m in masks.values())
    assert oracle["temporal_mass_audio"] == pytest.approx(100.0)
    partial = [a for a in asked.values() if 0 < a.sum() < T]
    assert oracle["temporal_questions"] == len(partial) > 0

    # a peak on a cell no instrument ever covers never points right; uniform time weights give the uniform rate
    covered = np.any([m.any(axis=0) for m in masks.values()], axis=0)
    outside = int(np.flatnonzero(~covered)[0])
    blind = graded({row: np.eye(P)[outside][None].repeat(T, 0) for row in masks}, {q: np.full(T, 1 / T) for q in asked})
    assert blind["pointing_accuracy"] == 0.0
    assert blind["temporal_mass_audio"] == pytest.approx(blind["temporal_mass_uniform"])
    assert blind["temporal_mass_uniform"] == pytest.approx(100 * np.mean([a.mean() for a in partial]))

    real = predict(tiny_model, BatchLoader(tiny.dataset("test"), 16, shuffle=False, device="cpu"),
                   tiny.answer_vocab, keep_attention=True)
    assert set(real.spatial) == set(masks) and set(real.temporal_a) == set(asked)
    assert 0 <= grade_attention(records, real, store, scenes)["pointing_accuracy"] <= 100


def test_eval_command_writes_tables_with_the_release(tiny, tmp_path, capsys):
    config = TrainConfig(epochs=1, batch_size=8, max_batches=2, progress=False, tensorboard=False)
    result = train(tiny, SaSRConfig.tiny(), config, out_dir=tmp_path / "run")
    assert cli.main(["eval", str(result.checkpoint), str(tiny.root), "--split", "test",
                     "--out", str(tmp_path / "eval"), "--ci", "--n-boot", "50", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "Audio-Visual" in printed and "pointing accuracy" in printed
    results = json.loads((tmp_path / "eval" / "test_results.json").read_text())
    assert results["release"] == "synthetic" and results["annotations"]["split"] == "test"
    assert results["questions"] == len(tiny.records["test"])
    table = pd.read_csv(tmp_path / "eval" / "test_table.csv", header=[0, 1], index_col=0)
    assert [tuple(c) for c in table.columns] == PAPER_LAYOUT
    predictions = pd.read_csv(tmp_path / "eval" / "test_predictions.csv")
    recount = accuracy_table(tiny.records["test"], predictions)
    assert table.iloc[0].to_numpy() == pytest.approx(recount.iloc[0].to_numpy(), nan_ok=True)
    # --ci: the bootstrap table of the same predictions, seed and resamples as asked
    ci = pd.read_csv(tmp_path / "eval" / "test_ci.csv", header=[0, 1], index_col=[0, 1])
    expected = bootstrap_table(tiny.records["test"], predictions, "SaSR-Net", n_boot=50, seed=3)
    assert ci.to_numpy() == pytest.approx(expected.to_numpy(), nan_ok=True)
    assert "percentile bootstrap, 50 resamples" in printed
    # the answer prior, fit on the train file the eval run does not otherwise load
    prior = prior_accuracy(tiny.records["train"], tiny.records["test"])
    assert results["prior_accuracy"] == pytest.approx(prior)
    overall = results["accuracy"]["Overall/Avg"]
    assert (results["warning"] is not None) == (overall <= prior)
    assert (results["warning"] or "") in printed
    # `python -m sasr_lite.evaluate` is the same command
    done = subprocess.run([sys.executable, "-m", "sasr_lite.evaluate", str(result.checkpoint), str(tiny.root),
                           "--out", str(tmp_path / "eval-m")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    again = json.loads((tmp_path / "eval-m" / "test_results.json").read_text())
    assert again["accuracy"] == results["accuracy"]
