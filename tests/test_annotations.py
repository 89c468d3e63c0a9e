"""Annotation loading: the question-token rule, every parse error, releases, and the real files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sasr_lite.data.annotations import (
    PAD,
    QUESTION_LEN,
    RELEASE_SIZES,
    describe_annotations,
    detect_release,
    fill_question,
    load_annotations,
    question_tokens,
    split_from_path,
)
from sasr_lite.data.loader_speed import random_raw_records
from sasr_lite.data.taxonomy import ANSWER_WORDS, MORE_THAN_TEN, NO, NUMBER_WORDS, SUBTYPES, TEMPLATES, YES
from sasr_lite.data.vocab import build_vocabularies
from real_data import real_annotations



def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def raw(**changes) -> dict:
    record = {
        "video_id": "00000086", "question_id": 28, "type": '["Audio-Visual", "Existential"]',
        "question_content": "Is the <Object> in the video always playing?", "templ_values": '["violin"]',
        "question_deleted": 0, "anser": "no",
    }
    return {**record, **changes}


# --- the question rule -------------------------------------------------------------------------
def test_placeholders_filled_in_order_and_question_mark_removed():
    content = "Is the <Object> on the <LR> louder than the <Object> on the <LR>?"
    values = ["cello", "left", "piano", "right"]
    assert fill_question(content, values) == "Is the cello on the left louder than the piano on the right"
    # the same given as the JSON string the files hold
    assert fill_question(content, json.dumps(values)) == fill_question(content, values)


@pytest.mark.parametrize("ending", ["?", "\uff1f", "? ", "\uff1f  ", "?\n"])
def test_every_question_ending_is_removed(ending):
    tokens = question_tokens("How many sounding <Object> in the video" + ending, ["violin"])
    words = ["How", "many", "sounding", "violin", "in", "the", "video"]
    assert tokens == words + [PAD] * (QUESTION_LEN - len(words))


def test_tokens_keep_case_pad_and_truncate_to_14():
    tokens = question_tokens("Is there a voiceover?", "[]")
    assert tokens[:4] == ["Is", "there", "a", "voiceover"] and tokens[4:] == [PAD] * 10
    long_question = " ".join(f"w{i}" for i in range(20)) + "?"
    assert question_tokens(long_question, []) == [f"w{i}" for i in range(QUESTION_LEN)]
    assert len(question_tokens("Where is the performance?", [], max_len=3)) == 3


def test_wrong_number_of_fillers_is_an_error():
    with pytest.raises(ValueError, match="2 placeholders but templ_values gives 1"):
        fill_question("Is the <Object> louder than the <Object>?", ["cello"])


# --- loading -----------------------------------------------------------------------------------
def test_load_parses_every_field(tmp_path):
    raws = random_raw_records([f"{i:08d}" for i in range(6)], questions_per_video=5, seed=3)
    records = load_annotations(write_json(tmp_path / "avqa-train.json", raws))
    assert len(records) == len(raws)
    for record, item in zip(records, raws):
        group, subtype = json.loads(item["type"])
        values = json.loads(item["templ_values"])
        assert (record.video_id, record.question_id, record.answer) == (item["video_id"], item["question_id"], item["anser"])
        assert (record.group, record.subtype) == (group, subtype)
        assert record.subtype_index == SUBTYPES.index((group, subtype))
        assert record.template.text == item["question_content"] and record.templ_values == values
        assert record.question == fill_question(item["question_content"], values)
        assert record.tokens == tuple(question_tokens(item["question_content"], values))


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[", "not valid JSON"),
        ('{"a": 1}', "expected a JSON list of records, got dict"),
        ("[1]", "record 0: expected a JSON object, got int"),
    ],
)
def test_malformed_files_name_the_file(tmp_path, content, expected):
    path = tmp_path / "avqa-val.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=expected) as err:
        load_annotations(path)
    assert str(path) in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="avqa-test.json"):
        load_annotations(tmp_path / "avqa-test.json")


@pytest.mark.parametrize(
    "bad, expected",
    [
        ({"anser": None}, r"missing key\(s\) \['anser'\] \('anser' is the dataset's own spelling\)"),
        ({"question_content": "Is the cat purring?"}, "not one of the 33 MUSIC-AVQA templates"),
        ({"type": "Audio-Visual"}, "type is not a list"),
        ({"type": '["Audio", "Temporal"]'}, "unknown question type 'Audio'/'Temporal'"),
        ({"templ_values": "[]"}, "1 placeholders but templ_values gives 0"),
        ({"templ_values": "violin"}, "templ_values is not a list"),
        ({"question_id": "twelve"}, "question_id must be an integer, got 'twelve'"),
    ],
)
def test_bad_records_name_file_record_and_problem(tmp_path, bad, expected):
    good = raw(question_id=1)
    broken = {k: v for k, v in raw(**bad).items() if v is not None}
    path = write_json(tmp_path / "avqa-val.json", [good, broken])
    with pytest.raises(ValueError, match=expected) as err:
        load_annotations(path)
    assert f"{path} record 1" in str(err.value)


@pytest.mark.parametrize("answer", [None, 3, "", ["no"]])
def test_an_answer_that_is_not_a_string_is_refused(tmp_path, answer):
    path = write_json(tmp_path / "avqa-train.json", [raw(question_id=1), raw(question_id=2, anser=answer)])
    with pytest.raises(ValueError, match=r"'anser' must be a non-empty string, got") as err:
        load_annotations(path)
    assert f"{path} record 1 (question_id 2)" in str(err.value)


def test_a_question_id_used_twice_is_refused(tmp_path):
    path = write_json(tmp_path / "avqa-test.json", [raw(question_id=7), raw(question_id=8), raw(question_id=7)])
    with pytest.raises(ValueError, match=r"record 2: question_id 7 is used twice \(first by record 0\)") as err:
        load_annotations(path)
    assert str(path) in str(err.value)


def test_type_that_disagrees_with_template_warns_and_keeps_file_type(tmp_path):
    path = write_json(tmp_path / "a.json", [raw(type='["Audio", "Counting"]'), raw(question_id=29)])
    with pytest.warns(UserWarning, match="1 records have a type that differs"):
        records = load_annotations(path)
    assert (records[0].group, records[0].subtype) == ("Audio", "Counting")


def test_single_quoted_fillers_are_accepted(tmp_path):
    # the reference reads templ_values with ast.literal_eval, which also takes Python quoting
    records = load_annotations(write_json(tmp_path / "a.json", [raw(templ_values="['violin']")]))
    assert records[0].templ_values == ["violin"]


# --- releases ------------------------------------------------------------------------------------
def test_release_named_from_count_and_split():
    for release, sizes in RELEASE_SIZES.items():
        for split, count in sizes.items():
            assert detect_release(count, split) == release
            assert detect_release(count) == release
    assert detect_release(RELEASE_SIZES["original"]["val"], "test") == "custom"
    assert detect_release(123, "train") == "custom"


def test_split_from_path():
    assert split_from_path("data/avqa-train.json") == "train"
    assert split_from_path("avqa-val.json") == "val"
    assert split_from_path("x/avqa_test.json") == "test"
    assert split_from_path("interval.json") is None


def test_describe_records_what_results_need(tmp_path):
    raws = random_raw_records(["v1", "v2", "v3"], questions_per_video=2)
    path = write_json(tmp_path / "avqa-val.json", raws)
    info = describe_annotations(path)
    assert info["split"] == "val" and info["release"] == "custom"
    assert info["records"] == 6 and info["videos"] == 3 and len(info["sha256"]) == 64


# --- the real files ------------------------------------------------------------------------------
@pytest.mark.parametrize("split, records, videos", [("val", 4568, 3815), ("test", 9129, 6399)])
def test_real_annotations(split, records, videos):
    (path,) = real_annotations(f"avqa-{split}.json")
    loaded = load_annotations(path)
    assert len(loaded) == records and len({r.video_id for r in loaded}) == videos
    assert describe_annotations(path, loaded)["release"] == "json_update"
    assert {(r.group, r.subtype) for r in loaded} == set(SUBTYPES)
    assert {r.template.key for r in loaded} == {t.key for t in TEMPLATES}
    assert all((r.group, r.subtype) == (r.template.group, r.template.subtype) for r in loaded)
    answers = Counter(r.answer for r in loaded)
    assert set(answers) <= set(ANSWER_WORDS), set(answers) - set(ANSWER_WORDS)
    # the question form fixes the answer's class
    for r in loaded:
        if r.tokens[0] in ("Is", "Are"):
            assert r.answer in (YES, NO), r
        if r.tokens[:2] == ("How", "many"):
            assert r.answer in NUMBER_WORDS + (MORE_THAN_TEN,), r
    assert all(len(r.tokens) == QUESTION_LEN and "?" not in r.question and "\uff1f" not in r.question for r in loaded)


def test_real_vocabulary_matches_the_official_size():
    paths = real_annotations("avqa-val.json", "avqa-test.json")
    records = [r for p in paths for r in load_annotations(p)]
    question_vocab, answer_vocab = build_vocabularies(records)
    # official: 93 = '<pad>' + 92 case-kept words; ours adds '<unk>'. 41 answers in val+test.
    assert len(question_vocab) == 94
    assert len(answer_vocab) == 41
