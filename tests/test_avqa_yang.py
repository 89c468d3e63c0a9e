"""AVQA-Yang behind the dataset seam: records, the multiple-choice head, loading, training, evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sasr_lite.baselines import AnswerPrior, QuestionOnly
from sasr_lite.cli import main
from sasr_lite.config import SaSRConfig
from sasr_lite.data import avqa_yang
from sasr_lite.data.avqa_yang import CHOICE_LETTERS, QUESTION_TYPES, load_records, parse_record
from sasr_lite.data.loader_speed import random_raw_records, write_random_store
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.data.datasets import benchmark_for_file, benchmark_of, detect_benchmark, get_benchmark
from sasr_lite.data.inspect import summarize_file
from sasr_lite.data.loading import load_data
from sasr_lite.data.vocab import PAD_INDEX
from sasr_lite.evaluate import OVERALL, AVG, accuracy_table, bootstrap_table, table_columns
from sasr_lite.model import build_model
from sasr_lite.model.answer import MISSING_CHOICE_LOGIT, MultipleChoiceHead

OBJECTS = ("violin", "piano", "dog", "car", "guitar", "flute")


def raw_record(i: int, video: str, qtype: str = "Which", answer: int = 0, **changes) -> dict:
    choices = [OBJECTS[(i + k) % len(OBJECTS)] for k in range(4)]
    record = {"id": i, "video_name": video, "video_id": i, "question_text": f"Which object makes the sound number {i % 3}?",
              "multi_choice": choices, "answer": answer, "question_type": qtype, "question_relation": "Both"}
    record.update(changes)
    return record


def write_split(folder, split, records) -> None:
    (folder / avqa_yang.split_file(split)).write_text(json.dumps(records))


def make_dataset(folder, videos: int = 8, per_video: int = 4, seed: int = 0):
    """A tiny AVQA-Yang folder: train/val records over random features, every type and position used."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    number = 0
    for split, first in (("train", 0), ("val", videos)):
        records = []
        for v in range(videos):
            for _ in range(per_video):
                records.append(raw_record(number, f"{v:08d}", QUESTION_TYPES[number % 8], int(rng.integers(4))))
                number += 1
        write_split(folder, split, records)
        write_random_store(folder / "store" / split, videos, seed=first)
    return folder


# --- records ---------------------------------------------------------------------------------------
def test_a_record_parses_with_its_letter_text_and_tokens():
    r = parse_record(raw_record(7, "abc_30", "Come From", answer=2, multi_choice=["a dog", "the piano", "car", None]))
    assert (r.video_id, r.question_id, r.subtype, r.relation) == ("abc_30", 7, "Come From", "Both")
    assert r.subtype_index == QUESTION_TYPES.index("Come From") and r.group == "AVQA-Yang"
    assert r.answer == "C" and r.answer_text == "car" and r.choices[3] is None
    assert len(r.tokens) == avqa_yang.QUESTION_LEN and r.tokens[0] == "Which" and r.tokens[-1] == "<pad>"
    assert r.choice_tokens[1][:2] == ("the", "piano") and set(r.choice_tokens[3]) == {"<pad>"}
    assert r.template_key == "Come From/Both" and r.template_index == -1


@pytest.mark.parametrize("change, message", [
    ({"question_type": "How"}, "unknown question_type 'How'"),
    ({"answer": 4}, "'answer' must be a candidate position 0-3, got 4"),
    ({"answer": True}, "'answer' must be a candidate position"),
    ({"multi_choice": ["a", "b", "c"]}, "'multi_choice' must be a list of 4 candidates"),
    ({"multi_choice": ["a", "b", "a", "c"]}, "candidates repeat ['a']"),
    ({"multi_choice": ["a", "b", "", "c"]}, "every candidate must be a non-empty string or null"),
    ({"multi_choice": [None, "b", "c", "d"], "answer": 0}, "'answer' 0 points at a null candidate"),
    ({"question_text": " "}, "'question_text' must be a non-empty string"),
    ({"id": "x1"}, "'id' must be a non-negative integer"),
    ({"video_name": 12}, "'video_name' must be a non-empty string"),
])
def test_bad_records_are_refused_naming_file_record_and_id(tmp_path, change, message):
    path = tmp_path / "train_qa.json"
    path.write_text(json.dumps([raw_record(0, "v0"), raw_record(1, "v1", **change)]))
    with pytest.raises(ValueError) as err:
        load_records(path)
    assert str(err.value).startswith(f"{path} record 1 (id ")
    assert message in str(err.value)


def test_file_level_errors_name_the_file(tmp_path):
    path = tmp_path / "val_qa.json"
    path.write_text(json.dumps([raw_record(3, "v0"), raw_record(3, "v1")]))
    with pytest.raises(ValueError, match=r"val_qa.json record 1: id 3 is used twice \(first by record 0\)"):
        load_records(path)
    path.write_text(json.dumps({"id": 1}))
    with pytest.raises(ValueError, match=r"val_qa.json: expected a JSON list of records, got dict"):
        load_records(path)
    path.write_text('[{"id": 1,')
    with pytest.raises(ValueError, match="val_qa.json"):
        load_records(path)
    bad = raw_record(0, "v0")
    del bad["multi_choice"]
    path.write_text(json.dumps([bad]))
    with pytest.raises(ValueError, match=r"record 0: missing key\(s\) \['multi_choice'\]"):
        load_records(path)


def test_weak_source_labels_come_from_question_and_right_answer_words():
    r = parse_record(raw_record(0, "clip", question_text="Is the dog barking?", multi_choice=["piano", "car", "bell", "flute"],
                                answer=1))
    names = list(avqa_yang.SOURCE_CLASSES)
    labels = avqa_yang.weak_source_labels([r])["clip"]
    assert labels.shape == (22,) and {names[k] for k in np.flatnonzero(labels)} == {"dog", "car"}


# --- the seam ----------------------------------------------------------------------------------------
def test_the_seam_tells_the_benchmarks_apart(tmp_path):
    assert benchmark_for_file(tmp_path / "val_qa.json").name == "avqa-yang"
    assert benchmark_for_file(tmp_path / "avqa-val.json").name == "music-avqa"
    assert detect_benchmark(tmp_path).name == "music-avqa"  # nothing there: the default
    write_split(tmp_path, "val", [raw_record(0, "v")])
    assert detect_benchmark(tmp_path).name == "avqa-yang"
    (tmp_path / "synth.json").write_text(json.dumps({"dataset": "music-avqa"}))
    assert detect_benchmark(tmp_path).name == "music-avqa"  # a synthetic benchmark says what it is
    with pytest.raises(ValueError, match="unknown dataset 'vqa'; known: music-avqa, avqa-yang"):
        get_benchmark("vqa")
    yang = get_benchmark("avqa-yang")
    assert yang.answer_format == "multiple_choice" and len(yang.source_classes) == 22
    assert [t for _, t in yang.question_types] == list(QUESTION_TYPES)
    assert yang.table_columns[-1] == (OVERALL, AVG)


# --- the multiple-choice head -----------------------------------------------------------------------
def test_head_scores_each_candidate_as_its_equation_says():
    torch.manual_seed(0)
    head = MultipleChoiceHead(8).eval()
    B, T, K, D = 3, 5, 4, 8
    f_a_ta, f_v_ta, q = torch.randn(B, D), torch.randn(B, D), torch.randn(B, D)
    f_a_g, f_v_sa, cand = torch.randn(B, T, D), torch.randn(B, T, D), torch.randn(B, K, D)
    present = torch.ones(B, K, dtype=torch.bool)
    present[1, 2] = False
    logits = head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q, cand, present)
    f_av = head.fusion(torch.tanh(torch.cat([f_a_ta + f_a_g.mean(1), f_v_ta + f_v_sa.mean(1)], -1)))
    h = head.classifier(torch.tanh(f_av * q))
    expected = torch.stack([(h * torch.tanh(cand[:, k])).sum(-1) for k in range(K)], dim=1)
    expected[1, 2] = MISSING_CHOICE_LOGIT
    torch.testing.assert_close(logits, expected)


@pytest.mark.parametrize("arch", ["paper", "official"])
def test_both_networks_answer_multiple_choice_and_follow_the_candidates(arch):
    torch.manual_seed(0)
    extra = {"visual_dim": 32} if arch == "official" else {}
    model = build_model(SaSRConfig.tiny(arch=arch, answer_head="multiple_choice", **extra)).eval()
    V, T, P, B = 2, 10, 9, 3
    inputs = (torch.randn(V, T, 128), torch.randn(V, T, model.config.visual_dim),
              torch.randn(V, T, P, model.config.visual_dim), torch.randint(2, 40, (B, 14)))
    video_of = torch.tensor([0, 1, 1])
    choices = torch.randint(2, 40, (B, 4, 8))
    choices[2, 1] = PAD_INDEX  # a null candidate
    logits = model(*inputs, video_of=video_of, choices=choices).answer_logits
    assert logits.shape == (B, 4) and logits[2, 1] == MISSING_CHOICE_LOGIT
    order = torch.tensor([3, 0, 2, 1])  # reorder the candidates: their scores move with them
    swapped = model(*inputs, video_of=video_of, choices=choices[:, order]).answer_logits
    torch.testing.assert_close(swapped, logits[:, order])
    with pytest.raises(ValueError, match="answers multiple choice .* pass choices"):
        model(*inputs, video_of=video_of)
    closed = build_model(SaSRConfig.tiny(arch=arch, **extra)).eval()
    with pytest.raises(ValueError, match="choices were given, but this model has a closed answer head"):
        closed(*inputs, video_of=video_of, choices=choices)


# --- loading, training, evaluation -------------------------------------------------------------------
def test_loader_serves_candidates_and_the_vocabularies_hold_their_words(tmp_path):
    data = load_data(make_dataset(tmp_path))
    assert data.benchmark.name == "avqa-yang" and data.release == "custom"
    assert data.answer_vocab.tokens == list(CHOICE_LETTERS)
    assert {"violin", "guitar"} <= set(data.question_vocab.tokens)  # candidate words are read by the encoder
    dataset = data.dataset("train")
    batch = next(iter(BatchLoader(dataset, 5, shuffle=False, device="cpu")))
    records = data.records["train"][:5]
    assert batch["choices"].shape == (5, 4, avqa_yang.CHOICE_LEN)
    assert batch["answer"].tolist() == [r.answer_index for r in records]
    first = [data.question_vocab.index(w) for w in records[0].choice_tokens[2]]
    assert batch["choices"][0, 2].tolist() == first
    assert batch["choice_len"][0].tolist() == [1, 1, 1, 1] and batch["sources"].shape[1] == 22
    assert dataset[0]["choices"].shape == (4, avqa_yang.CHOICE_LEN)


def test_tables_follow_the_avqa_yang_layout(tmp_path):
    records = load_records(make_dataset(tmp_path) / "val_qa.json")
    predictions = {r.question_id: ("A" if r.question_id % 2 else r.answer) for r in records}
    table = accuracy_table(records, predictions)
    assert list(table.columns) == list(table_columns(records)) == [("AVQA-Yang", t) for t in QUESTION_TYPES] + [
        (OVERALL, AVG)]
    for qtype in QUESTION_TYPES:
        mine = [predictions[r.question_id] == r.answer for r in records if r.subtype == qtype]
        assert table[("AVQA-Yang", qtype)].iloc[0] == pytest.approx(100 * np.mean(mine))
    ci = bootstrap_table(records, predictions, n_boot=50)
    assert (ci.loc[("model", "low")] <= ci.loc[("model", "high")]).all()
    assert benchmark_of(records).name == "avqa-yang"


def test_inspect_counts_types_relations_and_answer_positions(tmp_path, capsys):
    path = make_dataset(tmp_path) / "train_qa.json"
    records = load_records(path)
    summary = summarize_file(path)
    assert summary["dataset"] == "avqa-yang" and summary["records"] == len(records) == 32
    assert summary["types"] == {f"AVQA-Yang/{t}": 4 for t in QUESTION_TYPES}
    assert summary["relations"] == {"Both": 32}
    positions = {letter: sum(r.answer == letter for r in records) for letter in CHOICE_LETTERS}
    assert summary["answer_positions"] == positions
    assert main(["inspect", str(path)]) == 0
    assert "right answer at position: A" in capsys.readouterr().out


def test_text_baselines_read_question_and_candidates(tmp_path):
    """A text signal (the right candidate is always "yes") is learnt by the question-and-candidates
    baseline; the prior over positions cannot see it."""
    rng = np.random.default_rng(0)
    raw = []
    for i in range(240):
        k = int(rng.integers(4))
        choices = [OBJECTS[(i + j) % 6] for j in range(4)]
        choices[k] = "yes"
        raw.append(raw_record(i, f"v{i % 9}", QUESTION_TYPES[i % 8], k, multi_choice=choices))
    write_split(tmp_path, "train", raw[:200])
    write_split(tmp_path, "val", raw[200:])
    train, val = load_records(tmp_path / "train_qa.json"), load_records(tmp_path / "val_qa.json")
    baseline = QuestionOnly(epochs=15, d_model=16, seed=0, device="cpu").fit(train)
    predicted = baseline.predict(val)
    assert set(predicted.values()) <= set(CHOICE_LETTERS)
    assert np.mean([predicted[r.question_id] == r.answer for r in val]) == 1.0
    prior = AnswerPrior().fit(train).predict(val)
    assert np.mean([prior[r.question_id] == r.answer for r in val]) < 0.6


def test_train_and_eval_commands_run_on_avqa_yang(tmp_path, capsys):
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", str(data), "--tiny", "--epochs", "1", "--batch_size", "8", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["answer_head"] == "multiple_choice" and config["model"]["num_answers"] == 4
    assert main(["eval", str(out / "checkpoint.pt"), str(data), "--split", "val", "--ci", "--n-boot", "20"]) == 0
    printed = capsys.readouterr().out
    assert "Which" in printed and "Used For" in printed and "SaSR-Net (published, Table 4)" in printed
    results = json.loads((out / "eval" / "val_results.json").read_text())
    assert results["questions"] == 32 and set(results["accuracy"]) >= {"AVQA-Yang/Why", "Overall/Avg"}
    predictions = (out / "eval" / "val_predictions.csv").read_text().splitlines()
    assert len(predictions) == 33 and all(line.split(",")[-1] in CHOICE_LETTERS for line in predictions[1:])
    music = tmp_path / "music"
    music.mkdir()
    (music / "avqa-test.json").write_text(json.dumps(random_raw_records(["00000000", "00000001"])))
    write_random_store(music / "store" / "test", 2)
    assert main(["eval", str(out / "checkpoint.pt"), str(music)]) == 1
    assert "has a 'multiple_choice' answer head, but" in capsys.readouterr().err
    eval_dir = str(out / "eval")
    assert main(["compare", eval_dir, eval_dir, "--data", str(data), "--split", "val", "--n-boot", "20"]) == 0
    compared = capsys.readouterr().out
    assert "Used For" in compared and "no interval excludes 0" in compared  # a run against itself


def test_notebook_13_data_switch_finds_a_prepared_folder_and_names_a_wrong_one(tmp_path, monkeypatch):
    from sasr_lite.notebook_utils import avqa_yang_data, sizes

    prepared = make_dataset(tmp_path / "avqa_yang")
    monkeypatch.setenv("SASR_LITE_AVQA_YANG_DATA", str(prepared))
    assert avqa_yang_data(sizes("test")) == prepared
    with pytest.raises(FileNotFoundError, match=r"DATA=.*nowhere: no train_qa.json there"):
        avqa_yang_data(sizes("test"), tmp_path / "nowhere")
    monkeypatch.setenv("SASR_LITE_AVQA_YANG_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"SASR_LITE_AVQA_YANG_DATA=.*empty: no train_qa.json"):
        avqa_yang_data(sizes("test"))
