"""Vocabularies (train only, <unk>, -1 answers, JSON round trip) and per-video source labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sasr_lite.data.annotations import PAD, parse_record
from sasr_lite.data.loader_speed import random_records
from sasr_lite.data.sources import (
    class_names,
    load_source_labels,
    multi_hot,
    save_source_labels,
    weak_source_labels,
)
from sasr_lite.data.taxonomy import INSTRUMENTS, match_template
from sasr_lite.data.vocab import UNK, UNKNOWN_INDEX, Vocabulary, build_vocabularies


def record(video_id: str, content: str, values: list[str], answer: str, qid: int = 0):
    template = match_template(content)
    return parse_record({
        "video_id": video_id, "question_id": qid, "type": json.dumps([template.group, template.subtype]),
        "question_content": content, "templ_values": json.dumps(values), "question_deleted": 0, "anser": answer,
    })


# --- vocabularies ------------------------------------------------------------------------------
def test_vocabularies_come_from_train_only():
    train = random_records([f"t{i}" for i in range(20)], questions_per_video=3, seed=1)
    question_vocab, answer_vocab = build_vocabularies(train)
    assert question_vocab.tokens[:2] == [PAD, UNK] and question_vocab.index(PAD) == 0 and question_vocab.index(UNK) == 1
    words = sorted({w for r in train for w in r.tokens} - {PAD})
    assert question_vocab.tokens[2:] == words
    assert answer_vocab.tokens == sorted({r.answer for r in train}) and UNK not in answer_vocab
    # a word or answer train never saw
    assert question_vocab.encode(["Is", "zebra"]) == [question_vocab.tokens.index("Is"), 1]
    assert answer_vocab.index("zebra") == UNKNOWN_INDEX == -1
    assert question_vocab.decode(question_vocab.encode(words)) == words


def test_vocabulary_json_round_trip(tmp_path):
    question_vocab, answer_vocab = build_vocabularies(random_records(["a", "b"], 4))
    for vocab in (question_vocab, answer_vocab):
        path = vocab.save(tmp_path / "vocab.json")
        loaded = Vocabulary.load(path)
        assert loaded == vocab and loaded.unk == vocab.unk and len(loaded) == len(vocab)
        assert Vocabulary.from_dict(vocab.to_dict()) == vocab


def test_vocabulary_errors(tmp_path):
    with pytest.raises(ValueError, match=r"duplicate words: \['a'\]"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="'<unk>' is not in the vocabulary"):
        Vocabulary(["a"], unk=UNK)
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        Vocabulary.load(tmp_path / "vocab.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        Vocabulary.load(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list.json: expected \{'tokens'"):
        Vocabulary.load(tmp_path / "list.json")
    with pytest.raises(ValueError, match="empty list of records"):
        build_vocabularies([])


# --- weak source labels ------------------------------------------------------------------------
def test_weak_labels_are_instruments_named_in_fillers_and_answers():
    records = [
        record("v1", "Is the <Object> louder than the <Object>?", ["cello", "piano"], "no"),
        record("v1", "What is the instrument on the <LR> of <Object>?", ["left", "violin"], "flute", 1),
        record("v1", "Where is the performance?", [], "indoor", 2),
        record("v2", "Is there a <Object> sound?", ["drum"], "yes", 3),
        record("v3", "How many instruments are sounding in the video?", [], "two", 4),
    ]
    labels = weak_source_labels(records)
    assert class_names(labels["v1"]) == sorted(["cello", "piano", "violin", "flute"])
    assert class_names(labels["v2"]) == ["drum"]
    assert not labels["v3"].any()
    assert labels["v1"].dtype == np.float32 and labels["v1"].shape == (len(INSTRUMENTS),)


@pytest.mark.parametrize(
    "content, values, answer",
    [
        ("Is there a <Object> sound?", ["drum"], "no"),
        ("Is there a <Object> in the entire video?", ["drum"], "no"),
        ("Are there <Object> and <Object> sound?", ["drum", "tuba"], "no"),
        ("How many sounding <Object> in the video?", ["drum"], "zero"),
        ("How many <Object> are in the entire video?", ["drum"], "zero"),
    ],
)
def test_instruments_an_answer_says_are_absent_are_dropped(content, values, answer):
    records = [record("v", content, values, answer)]
    assert not weak_source_labels(records)["v"].any()
    # the literal rule keeps them
    assert class_names(weak_source_labels(records, drop_negated=False)["v"]) == sorted(values)


def test_label_file_round_trip(tmp_path):
    labels = {"v1": multi_hot(["cello", "piano"]), "v2": multi_hot([])}
    path = save_source_labels(labels, tmp_path / "labels.json")
    assert json.loads(path.read_text()) == {"v1": ["cello", "piano"], "v2": []}
    loaded = load_source_labels(path)
    assert loaded.keys() == labels.keys()
    for video_id in labels:
        np.testing.assert_array_equal(loaded[video_id], labels[video_id])


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"v1": ["cello", "kazoo"]}', "video 'v1': unknown instrument class 'kazoo'"),
        ('{"v1": "cello"}', "video 'v1': expected a list of class names"),
        ('["cello"]', r"expected a JSON object \{video_id: \[class names\]\}, got list"),
        ('{"v1": [', "not valid JSON"),
    ],
)
def test_label_file_errors_name_file_and_entry(tmp_path, content, expected):
    path = tmp_path / "labels.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=expected) as err:
        load_source_labels(path)
    assert str(path) in str(err.value)


def test_missing_label_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="labels.json"):
        load_source_labels(tmp_path / "labels.json")
