"""Synthetic questions: every answer re-derived by a second path, balance, and weak priors."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from sasr_lite.data.annotations import question_tokens
from sasr_lite.data.taxonomy import INSTRUMENTS, NUMBER_WORDS, TEMPLATES
from sasr_lite.synth.generate import make_questions, preset_instruments, preset_questions_per_video
from sasr_lite.synth.presets import DEMO_INSTRUMENTS, PRESETS, SIZES
from sasr_lite.synth.questions import RAW_TEXT, QuestionPicker, resolve

NUM_VIDEOS = 1500  # questions only (no features): about 7.5k questions in a second or two


@pytest.fixture(scope="module")
def splits():
    return make_questions(NUM_VIDEOS, seed=11)


def all_questions(splits, split=None):
    names = [split] if split else list(splits)
    return [(scene, q) for name in names for scene, qs in splits[name] for q in qs]


# --- a second, independent reading of every template, on the scene's JSON form -----------------
def single(items):
    assert len(items) == 1, f"expected exactly one instrument, got {len(items)}"
    return items[0]


def oracle(scene: dict, key: str, v: list[str]) -> str:
    """The answer, computed from the scene dict with plain string operations."""
    insts = scene["instruments"]
    vis = sorted((i for i in insts if i["visible"]), key=lambda i: i["x"])
    heard = [i for i in insts if "1" in i["sounding"]]
    vis_heard = [i for i in vis if "1" in i["sounding"]]
    onset = lambda i: i["sounding"].index("1")  # noqa: E731
    yn = lambda b: "yes" if b else "no"  # noqa: E731
    word = lambda n: NUMBER_WORDS[n]  # noqa: E731

    def extreme(items, which):  # unique earliest / latest onset, or None on a tie
        assert len(heard) >= 2, "an order needs two heard instruments"
        target = (min if which == "first" else max)(onset(i) for i in items)
        hits = [i for i in items if onset(i) == target]
        return hits[0] if len(hits) == 1 else None

    def next_to(inst, lr):
        left = [i for i in vis if i["x"] < inst["x"]]
        right = [i for i in vis if i["x"] > inst["x"]]
        return left[-1] if lr == "left" else right[0]

    if key == "a_count_is_there":
        return yn(v[0] in {i["class"] for i in heard})
    if key == "a_count_are_there":
        return yn({v[0], v[1]} <= {i["class"] for i in heard})
    if key == "a_count_how_many":
        return word(len(heard))
    if key in ("a_comp_louder", "a_comp_rhythmic", "a_comp_longer"):
        a = single([i for i in heard if i["class"] == v[0]])
        b = single([i for i in heard if i["class"] == v[1]])
        if key == "a_comp_longer":
            return yn(a["sounding"].count("1") > b["sounding"].count("1"))
        field = "loudness" if key == "a_comp_louder" else "rhythm"
        return yn(a[field] > b[field])
    if key == "v_count_is_there":
        return yn(any(i["class"] == v[0] for i in vis))
    if key == "v_count_are_there":
        return yn({v[0], v[1]} <= {i["class"] for i in vis})
    if key == "v_count_how_many_obj":
        return word(sum(i["class"] == v[0] for i in vis))
    if key == "v_count_types":
        return word(len({i["class"] for i in vis}))
    if key == "v_loc_side_of":
        return next_to(single([i for i in vis if i["class"] == v[1]]), v[0])["class"]
    if key == "v_loc_lrer":
        return (vis[0] if v[0] == "leftest" else vis[-1])["class"]
    if key == "v_loc_what_kind":
        return single(sorted({i["class"] for i in vis}))
    if key == "v_loc_where_perf":
        return scene["background"]
    if key == "av_ext_always":
        return yn("0" not in single([i for i in vis if i["class"] == v[0]])["sounding"])
    if key == "av_ext_voiceover":
        return yn("1" in scene["voiceover"])
    if key == "av_ext_from_video":
        return yn(all(i["visible"] for i in heard))
    if key == "av_count_sounding":
        return word(len(vis_heard))
    if key == "av_count_not_whole":
        return word(sum("0" in i["sounding"] for i in vis))
    if key == "av_count_sounding_obj":
        return word(sum(i["class"] == v[0] for i in vis_heard))
    if key == "av_count_types":
        return word(len({i["class"] for i in vis_heard}))
    if key == "av_loc_fl_from_lr":
        src = extreme(heard, v[0])
        assert src["visible"]
        return yn(src is single([i for i in vis if i["side"] == v[1]]))
    if key == "av_loc_lr_of_fl":
        return next_to(extreme(heard, v[1]), v[0])["class"]
    if key == "av_loc_where_ll":
        inst = (max if v[0] == "loudest" else min)(heard, key=lambda i: i["loudness"])
        return inst["side"]
    if key == "av_loc_same_time":
        inst = single([i for i in vis_heard if i["class"] == v[0]])
        overlap = {id(j): sum(a == b == "1" for a, b in zip(inst["sounding"], j["sounding"]))
                   for j in vis_heard if j is not inst}
        best = max(overlap.values())
        return single([j for j in vis_heard if overlap.get(id(j)) == best])["class"]
    if key.startswith("av_comp_"):
        if key.startswith("av_comp_obj"):
            a = single([i for i in vis if (i["class"], i["side"]) == (v[0], v[1])])
            b = single([i for i in vis if (i["class"], i["side"]) == (v[2], v[3])])
        else:
            a = single([i for i in vis if i["side"] == v[0]])
            b = single([i for i in vis if i["side"] == v[1]])
        field = "loudness" if key.endswith("louder") else "rhythm"
        return yn(a[field] > b[field])
    if key == "av_temp_th_comes_in":
        rank = ["first", "second", "third", "fourth", "fifth"].index(v[0])
        ordered = sorted(heard, key=onset)
        assert sum(onset(i) == onset(ordered[rank]) for i in heard) == 1
        return ordered[rank]["class"]
    if key == "av_temp_where_fl":
        return extreme(heard, v[0])["side"]
    if key == "av_temp_which_obj_fl":
        inst = extreme([i for i in vis_heard if i["class"] == v[0]], v[1])
        return "simultaneously" if inst is None else inst["side"]
    if key == "av_temp_before_after":
        inst = single([i for i in heard if i["class"] == v[1]])
        if v[0] == "before":
            return extreme([i for i in heard if onset(i) < onset(inst)], "last")["class"]
        return extreme([i for i in heard if onset(i) > onset(inst)], "first")["class"]
    raise AssertionError(f"no oracle for {key}")


def test_every_template_is_asked_and_answered_as_the_scene_says(splits):
    seen = Counter()
    for scene, q in all_questions(splits):
        expected = oracle(scene.to_dict(), q.template.key, q.templ_values)
        assert q.answer == expected, (scene.video_id, q.template.text, q.templ_values)
        seen[q.template.key] += 1
    assert set(seen) == {t.key for t in TEMPLATES}
    assert min(seen.values()) >= 100, seen.most_common()[-3:]


def test_resolve_agrees_with_the_oracle_on_fillers_never_asked(splits):
    """Not only the picked questions: every well-posed filler of a few scenes."""
    rng = np.random.default_rng(0)
    from sasr_lite.synth.questions import candidates

    for scene, _ in splits["val"][:40]:
        for t in TEMPLATES:
            for answer, fillers in candidates(scene, t.key, rng).items():
                for values in fillers:
                    assert oracle(scene.to_dict(), t.key, values) == answer, (t.key, values)


def test_resolve_rejects_fillers_that_do_not_fit_the_template(splits):
    scene = splits["train"][0][0]
    with pytest.raises(ValueError, match="do not fit"):
        resolve(scene, "a_count_is_there", ["left"])
    with pytest.raises(ValueError, match="do not fit"):
        resolve(scene, "av_comp_side_louder", ["left"])


def test_answers_are_balanced_per_template(splits):
    for split in ("train", "test"):
        by_template = defaultdict(Counter)
        for _, q in all_questions(splits, split):
            by_template[q.template.key][q.answer] += 1
        for key, answers in by_template.items():
            share = max(answers.values()) / sum(answers.values())
            if set(answers) <= {"yes", "no"} or set(answers) <= {"indoor", "outdoor"}:
                assert 0.4 <= share <= 0.6, (split, key, answers)
            else:  # open questions: no answer above half
                assert share <= 0.5, (split, key, answers)


def test_question_only_priors_score_about_half_or_less(splits):
    train, test = all_questions(splits, "train"), all_questions(splits, "test")
    per_template, per_question = defaultdict(Counter), defaultdict(Counter)
    for _, q in train:
        per_template[q.template.key][q.answer] += 1
        per_question[q.template.key, tuple(q.templ_values)][q.answer] += 1

    def accuracy(table, key_of):
        hits = [bool(table[key_of(q)]) and table[key_of(q)].most_common(1)[0][0] == q.answer for _, q in test]
        return float(np.mean(hits))

    template_prior = accuracy(per_template, lambda q: q.template.key)
    question_prior = accuracy(per_question, lambda q: (q.template.key, tuple(q.templ_values)))
    assert template_prior <= 0.45, template_prior
    assert question_prior <= 0.5, question_prior  # even knowing the fillers (e.g. "violin")


def test_questions_per_video_and_words_like_music_avqa(splits):
    per_video = [len(qs) for items in splits.values() for _, qs in items]
    assert 4.5 <= np.mean(per_video) <= 5.5 and min(per_video) >= 4
    words = {split: {w for _, q in all_questions(splits, split)
                     for w in question_tokens(RAW_TEXT[q.template.key], q.templ_values)} for split in splits}
    assert words["val"] <= words["train"] and words["test"] <= words["train"]


# --- a fixed number of questions per video (the small preset: 20) ----------------------------------
@pytest.fixture(scope="module")
def twelve():
    return make_questions(80, seed=11, questions_per_video=12)


@pytest.fixture(scope="module")
def twenty():
    """The small preset's rate, on fewer videos: most templates a scene can pose get asked."""
    return make_questions(300, seed=5, questions_per_video=20)


def test_size_presets_set_videos_and_questions_per_video():
    assert SIZES == {"tiny": 60, "small": 1000, "full": 9288, "lesson": 960}  # lesson: 420 + 60 + 480
    assert {name: p.questions_per_video for name, p in PRESETS.items()} == {"tiny": None, "small": 20, "full": None,
                                                                             "lesson": 20}
    assert preset_questions_per_video("small") == 20
    assert preset_questions_per_video("tiny") is None and preset_questions_per_video(80) is None
    with pytest.raises(ValueError, match="questions_per_video must be"):
        make_questions(20, questions_per_video=0)
    with pytest.raises(ValueError, match="questions_per_video must be"):
        QuestionPicker(questions_per_video=2.5)
    assert preset_instruments("small") == DEMO_INSTRUMENTS and len(DEMO_INSTRUMENTS) == 8
    assert preset_instruments("tiny") == preset_instruments("full") == preset_instruments(80) == INSTRUMENTS


# --- a benchmark drawn from some of the 22 classes (the small preset: 8) -------------------------
@pytest.fixture(scope="module")
def eight():
    return make_questions(300, seed=5, questions_per_video=20, instruments=DEMO_INSTRUMENTS)


def test_a_palette_limits_scenes_fillers_and_answers_to_its_classes(eight):
    seen = Counter()
    for scene, q in all_questions(eight):
        assert {i.cls for i in scene.instruments} <= set(DEMO_INSTRUMENTS), scene.video_id
        named = [v for v in q.templ_values if v in INSTRUMENTS]
        assert set(named) <= set(DEMO_INSTRUMENTS), (q.template.key, q.templ_values)
        assert q.answer not in INSTRUMENTS or q.answer in DEMO_INSTRUMENTS, (q.template.key, q.answer)
        assert q.answer == oracle(scene.to_dict(), q.template.key, q.templ_values)
        seen[q.template.key] += 1
    assert set(seen) == {t.key for t in TEMPLATES}  # every template can still be asked
    # every class of the palette turns up, as a scene's instrument and as an answer
    assert {i.cls for scene, _ in eight["train"] for i in scene.instruments} == set(DEMO_INSTRUMENTS)
    assert {q.answer for _, q in all_questions(eight, "train")} >= set(DEMO_INSTRUMENTS)


def test_a_bad_palette_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"unknown instrument classes \['kazoo'\]"):
        make_questions(20, instruments=DEMO_INSTRUMENTS[:7] + ("kazoo",))
    with pytest.raises(ValueError, match="must be distinct"):
        make_questions(20, instruments=DEMO_INSTRUMENTS + ("violin",))
    with pytest.raises(ValueError, match="at least 7 instrument classes .* got 6"):
        QuestionPicker(instruments=DEMO_INSTRUMENTS[:6])


def test_fixed_questions_per_video_asks_up_to_k_distinct_templates(twelve, twenty):
    for splits, k in ((twelve, 12), (twenty, 20)):
        per_video = []
        for items in splits.values():
            for _, qs in items:
                keys = [q.template.key for q in qs]
                assert len(keys) <= k and len(set(keys)) == len(keys), keys  # no template twice
                per_video.append(len(qs))
        assert np.mean(per_video) >= k - 1.5, (k, np.mean(per_video))
        assert min(per_video) >= k // 2
    for scene, q in all_questions(twelve):  # and still answered as the scene says
        assert q.answer == oracle(scene.to_dict(), q.template.key, q.templ_values)


def test_fixed_questions_per_video_keeps_answers_balanced(twelve, twenty, eight):
    for splits, least in ((twelve, 15), (twenty, 30), (eight, 30)):
        for split in ("train", "test"):
            by_template = defaultdict(Counter)
            for _, q in all_questions(splits, split):
                by_template[q.template.key][q.answer] += 1
            for key, answers in by_template.items():
                if sum(answers.values()) < least:
                    continue  # too few to judge (e.g. the test split of 80 videos)
                share = max(answers.values()) / sum(answers.values())
                if set(answers) <= {"yes", "no"} or set(answers) <= {"indoor", "outdoor"}:
                    assert 0.35 <= share <= 0.65, (split, key, answers)
                else:
                    assert share <= 0.5, (split, key, answers)


def test_fixed_questions_per_video_keeps_val_and_test_words_in_train(twenty):
    words = {split: {w for _, q in all_questions(twenty, split)
                     for w in question_tokens(RAW_TEXT[q.template.key], q.templ_values)} for split in twenty}
    assert words["val"] <= words["train"] and words["test"] <= words["train"]
    answers = {split: {q.answer for _, q in all_questions(twenty, split)} for split in twenty}
    assert answers["val"] <= answers["train"] and answers["test"] <= answers["train"]
