"""The synthetic AVQA-Yang benchmark: record schema, balance (positions, candidate values), answers
against the scenes, store shapes, determinism and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sasr_lite.cli import main as cli_main
from sasr_lite.data.avqa_yang import (
    CHOICE_LEN, QUESTION_LEN, QUESTION_TYPES, load_records, position_balance, split_file,
)
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.outputs import MARKER
from sasr_lite.synth.avqa_yang import (
    AVQA_SYNTH_FORMAT, FAMILY, ONSETS, TEMPLATES, candidate_domain, generate_avqa_yang,
    make_avqa_yang_questions, template_of, with_article,
)
from sasr_lite.synth.presets import AVQA_YANG_PRESETS, DEMO_INSTRUMENTS
from sasr_lite.synth.scenes import NUM_POSITIONS, load_scenes, scene_index, side_of

SPLITS = ("train", "val", "test")
RECORD_KEYS = ["id", "video_name", "video_id", "question_text", "multi_choice", "answer", "question_type",
               "question_relation"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return generate_avqa_yang(tmp_path_factory.mktemp("avqa") / "tiny", "tiny", seed=0)


@pytest.fixture(scope="module")
def small():
    """small's questions without features (a couple of seconds)."""
    return make_avqa_yang_questions("small", seed=0)


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file but the output marker (it records the files' modification times)."""
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*")) if f.is_file() and f.name != MARKER}


def test_records_have_the_avqa_yang_schema_and_parse(bench):
    ids = set()
    for split in SPLITS:
        raw = json.loads((bench / split_file(split)).read_text())
        records = load_records(bench / split_file(split))  # the real parser, unchanged
        assert len(records) == len(raw) > 0
        for item, record in zip(raw, records):
            assert list(item) == RECORD_KEYS
            assert isinstance(item["id"], int) and isinstance(item["video_id"], int)
            assert item["video_name"] == f"synth_{item['video_id']:08d}_0"
            assert item["question_text"].endswith("?") and "_" not in item["question_text"]
            choices = item["multi_choice"]
            assert len(choices) == len(set(choices)) == 4 and all("_" not in c for c in choices)
            assert item["question_relation"] in ("Audio", "Visual", "Both")
            assert record.choices[record.answer_index] == choices[item["answer"]]
        assert {r.subtype for r in records} == set(QUESTION_TYPES)  # all eight types in every split
        ids |= {r.question_id for r in records}
    assert len(ids) == sum(len(load_records(bench / split_file(s))) for s in SPLITS)  # unique across splits


def test_answer_positions_are_balanced_per_split_and_type(bench, small):
    for split in SPLITS:
        records = load_records(bench / split_file(split))
        counts = position_balance(records)
        assert max(counts.values()) - min(counts.values()) <= 1, (split, counts)
        questions = [q for _, qs in small[split] for q in qs]
        counts = Counter(q.answer_index for q in questions)
        assert max(counts.values()) - min(counts.values()) <= 1, (split, counts)
        for qtype in QUESTION_TYPES:  # nor does the question type tell the position
            for positions in ([r.answer_index for r in records if r.subtype == qtype],
                              [q.answer_index for q in questions if q.template.qtype == qtype]):
                counts = Counter(positions)
                assert max(counts[k] for k in range(4)) - min(counts[k] for k in range(4)) <= 2, (split, qtype)


def test_candidates_are_of_the_answers_kind_and_never_the_named_instrument(small):
    for split in SPLITS:
        for _, questions in small[split]:
            for q in questions:
                domain = candidate_domain(q.template.kind, DEMO_INSTRUMENTS)
                assert len(set(q.choices)) == 4 and set(q.choices) <= set(domain)
                assert q.choices[q.answer_index] == q.answer
                assert template_of(q.text) == (q.template, q.filler)
                if q.template.qtype == "Before Next":
                    assert q.filler.replace("_", " ") not in q.choices


def test_every_candidate_value_is_right_a_quarter_of_the_times_it_is_shown(small):
    for split in ("train", "test"):
        questions = [q for _, qs in small[split] for q in qs]
        for group in (lambda q: q.template.qtype, lambda q: q.template.key):
            right, shown = Counter(), Counter()
            for q in questions:
                shown.update((group(q), c) for c in q.choices)
                right[(group(q), q.answer)] += 1
            shares = {k: right[k] / n for k, n in shown.items() if n >= 40}
            assert len(shares) > 30
            assert all(0.17 < s < 0.33 for s in shares.values()), sorted(shares.items(), key=lambda kv: kv[1])[:3]
            pooled = sum(right[k] for k in shares) / sum(shown[k] for k in shares)
            assert abs(pooled - 0.25) < 0.01


def test_text_alone_scores_chance(small):
    """The rule "pick the candidate that was right most often in train for this question" is at
    chance on test: neither the candidate nor the question gives the answer away."""
    right, shown = Counter(), Counter()
    for _, questions in small["train"]:
        for q in questions:
            shown.update((q.text, c) for c in q.choices)
            right[(q.text, q.answer)] += 1
    hits = []
    for _, questions in small["test"]:
        for q in questions:
            rate = [(right[(q.text, c)] + 1) / (shown[(q.text, c)] + 4) for c in q.choices]
            hits.append(int(np.argmax(rate)) == q.answer_index)
    assert len(hits) > 1000 and 0.21 < np.mean(hits) < 0.29


def test_val_and_test_use_only_words_and_values_of_train(small):
    words = {w for _, qs in small["train"] for q in qs for w in q.text.split()}
    values = {(q.template.key, c) for _, qs in small["train"] for q in qs for c in q.choices}
    for split in ("val", "test"):
        for _, questions in small[split]:
            for q in questions:
                assert set(q.text.split()) <= words, q.text
                assert {(q.template.key, c) for c in q.choices} <= values, q.choices


# --- answers recomputed from the scene files, independently of the generator's resolvers ----------
def heard(scene):
    return [i for i in scene.instruments if "1" in i.sounding]


def onset_second(inst):
    return inst.sounding.index("1") // 6


def name(cls):
    return cls.replace("_", " ")


def expected_answer(scene, key, filler):
    """The right answer of a few templates, from the scene's fields alone (None: not checked here)."""
    if key == "where_is":
        (inst,) = [i for i in scene.instruments if i.cls == filler]
        return side_of(inst.x) if inst.visible else "off-screen"
    if key == "which_side":
        (inst,) = [i for i in scene.instruments if i.visible and side_of(i.x) == filler]
        return name(inst.cls)
    if key == "come_from":
        (cls,) = {i.cls for i in heard(scene)}
        return name(cls)
    if key == "used_for_side":
        (inst,) = [i for i in scene.instruments if i.visible and side_of(i.x) == filler]
        return FAMILY[inst.cls]
    if key == "when_instrument":
        (inst,) = [i for i in scene.instruments if i.cls == filler]
        if "1" not in inst.sounding:
            return ONSETS[3]
        second = onset_second(inst)
        return ONSETS[0] if second == 0 else ONSETS[1] if second <= 2 else ONSETS[2]
    if key == "after":
        (inst,) = [i for i in heard(scene) if i.cls == filler]
        later = [i for i in heard(scene) if onset_second(i) > onset_second(inst)]
        first = min(onset_second(i) for i in later)
        (nxt,) = [i for i in later if onset_second(i) == first]
        return name(nxt.cls)
    if key == "happening":
        return " and ".join(with_article(c) for c in sorted({i.cls for i in heard(scene)}, key=INSTRUMENTS.index)) \
            + " playing"
    return None


def test_answers_agree_with_the_scenes(bench):
    checked = Counter()
    for split in SPLITS:
        scenes = scene_index(load_scenes(bench / "scenes" / f"{split}.json"))
        for record in load_records(bench / split_file(split)):
            template, filler = template_of(record.question + "?")
            assert template.qtype == record.subtype and template.relation == record.relation
            expected = expected_answer(scenes[record.video_id], template.key, filler)
            if expected is not None:
                assert record.choices[record.answer_index] == expected, (record.video_id, record.question)
                checked[template.key] += 1
    assert set(checked) == {"where_is", "which_side", "come_from", "used_for_side", "when_instrument", "after",
                            "happening"}, checked


def test_store_holds_one_row_per_second_keyed_by_video_name(bench):
    info = json.loads((bench / "synth.json").read_text())
    assert (info["format"], info["dataset"], info["size"], info["seed"]) == (AVQA_SYNTH_FORMAT, "avqa-yang", "tiny", 0)
    assert info["clip_seconds"] == 10 and info["segments"] == list(range(0, 60, 6))
    assert sum(c["videos"] for c in info["counts"].values()) == AVQA_YANG_PRESETS["tiny"].clips
    for split in SPLITS:
        store = FeatureStore.open(bench / "store" / split)
        scenes = load_scenes(bench / "scenes" / f"{split}.json")
        records = load_records(bench / split_file(split))
        assert store.ids == [s.video_id for s in scenes]
        assert {r.video_id for r in records} <= set(store.ids)
        assert (store.T, store.P, store.stride) == (10, NUM_POSITIONS, 1)
        assert store.audio.shape == (len(scenes), 10, 128) and store.maps.shape[-1] == 512
        assert store.manifest["segments"] == info["segments"] and store.manifest["num_frames"] == 10
        assert info["counts"][split] == {"videos": len(scenes), "questions": len(records)}


def test_same_seed_same_bytes_other_seed_other_bytes(bench, tmp_path):
    # the CLI, in a fresh process with another string-hash seed: no set order leaks into the files
    env = dict(os.environ, PYTHONHASHSEED="123")
    subprocess.run([sys.executable, "-m", "sasr_lite.cli", "synth", "--dataset", "avqa-yang", "--size", "tiny",
                    "--out", str(tmp_path / "again"), "--seed", "0"], check=True, env=env, capture_output=True)
    assert digests(tmp_path / "again") == digests(bench)
    other = digests(generate_avqa_yang(tmp_path / "other", "tiny", seed=1))
    assert other.keys() == digests(bench).keys()
    for name in ("train_qa.json", "test_qa.json", "scenes/val.json", "store/train/maps.npy", "store/test/audio.npy"):
        assert other[name] != digests(bench)[name], name


def test_cli_refuses_music_only_options_and_bad_arguments(tmp_path, capsys):
    assert cli_main(["synth", "--dataset", "avqa-yang", "--size", "tiny", "--out", str(tmp_path / "x"),
                     "--stride", "6"]) == 1
    assert "--stride: music-avqa only" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="size must be one of"):
        generate_avqa_yang(tmp_path, "huge")
    with pytest.raises(ValueError, match="difficulty must be >= 0"):
        generate_avqa_yang(tmp_path, "tiny", difficulty=-1)


def test_domains_follow_the_palette():
    """full draws from all 22 classes: every way of playing is a candidate there, but a value no
    class of the palette has would never be right, so small's domain leaves it out."""
    assert candidate_domain("use", INSTRUMENTS) == ("bowing strings", "plucking strings", "blowing air",
                                                    "pressing keys", "striking")
    assert "striking" not in candidate_domain("use", DEMO_INSTRUMENTS)
    assert len(candidate_domain("happening", DEMO_INSTRUMENTS)) == 8 + 28
    assert (with_article("accordion"), with_article("ukulele"), with_article("congas")) == (
        "an accordion", "a ukulele", "congas")
    assert {t.qtype for t in TEMPLATES} == set(QUESTION_TYPES)
    for t in TEMPLATES:  # nothing is cut off by the loader's padding to fixed lengths
        assert max(len(v.split()) for v in candidate_domain(t.kind, INSTRUMENTS)) <= CHOICE_LEN
        assert len(t.question("acoustic_guitar" if t.slot == "instrument" else "middle").split()) <= QUESTION_LEN
