"""The generated benchmark: files, MUSIC-AVQA schema, store, features, ground truth, determinism."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sasr_lite.cli import main as cli_main
from sasr_lite.data.annotations import load_annotations
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.taxonomy import INSTRUMENTS, TEMPLATE_BY_KEY
from sasr_lite.data.vocab import build_vocabularies
from sasr_lite.synth.features import FeatureRenderer, make_world
from sasr_lite.synth.cache import ensure_benchmark
from sasr_lite.outputs import MARKER, record_outputs
from sasr_lite.synth.generate import SYNTH_VERSION, generate, make_questions
from sasr_lite.synth.presets import DEMO_INSTRUMENTS, SPLITS
from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask
from sasr_lite.synth.questions import RAW_TEXT
from sasr_lite.synth.scenes import GRID, NUM_POSITIONS, kept_segments, load_scenes, scene_index
from real_data import optional_real_folder, real_annotations



@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("synth") / "tiny", "tiny", seed=0)


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file, byte for byte (store manifests included: they hold no time stamp), but the
    output marker (it records the files' modification times)."""
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*")) if f.is_file() and f.name != MARKER}


def test_layout_and_manifest(bench):
    for split in SPLITS:
        assert (bench / f"avqa-{split}.json").is_file()
        assert (bench / "scenes" / f"{split}.json").is_file()
        assert (bench / "store" / split / "manifest.json").is_file()
    info = json.loads((bench / "synth.json").read_text())
    assert (info["size"], info["seed"], info["difficulty"], info["stride"]) == ("tiny", 0, 1.0, 6)
    assert info["version"] == SYNTH_VERSION
    assert info["questions_per_video"] is None  # tiny's preset: about 5, drawn per video
    assert sum(c["videos"] for c in info["counts"].values()) == 60
    for split in SPLITS:
        records = json.loads((bench / f"avqa-{split}.json").read_text())
        assert info["counts"][split] == {"videos": len({r["video_id"] for r in records}), "questions": len(records)}


def test_annotations_have_the_exact_music_avqa_schema(bench):
    folder = optional_real_folder()
    real = json.loads((folder / "avqa-val.json").read_text())[0] if folder else None
    question_ids = set()
    for split in SPLITS:
        raw = json.loads((bench / f"avqa-{split}.json").read_text())
        records = load_annotations(bench / f"avqa-{split}.json")  # the real loader, unchanged
        assert len(records) == len(raw)
        for item, record in zip(raw, records):
            assert list(item) == ["video_id", "question_id", "type", "question_content",
                                  "templ_values", "question_deleted", "anser"]
            if real is not None:
                assert [type(v) for v in item.values()] == [type(v) for v in real.values()]
            assert item["question_deleted"] == 0
            assert json.loads(item["type"]) == [record.group, record.subtype]
            assert item["question_content"] == RAW_TEXT[record.template.key]
            assert (record.group, record.subtype) == (record.template.group, record.template.subtype)
            assert record.answer == item["anser"] and len(record.tokens) == 14
            assert "<" not in record.question  # every placeholder filled
        question_ids |= {r.question_id for r in records}
    assert len(question_ids) == sum(len(load_annotations(bench / f"avqa-{s}.json")) for s in SPLITS)
    text = (bench / "avqa-val.json").read_text()
    assert '"type": "[\\"' in text and "\\uff1f" in text  # stringified lists; escaped full-width mark


def test_val_and_test_use_only_words_and_answers_learnt_from_train(bench):
    question_vocab, answer_vocab = build_vocabularies(load_annotations(bench / "avqa-train.json"))
    for split in ("val", "test"):
        for record in load_annotations(bench / f"avqa-{split}.json"):
            assert all(word in question_vocab for word in record.tokens), record.question
            assert record.answer in answer_vocab, record.answer


def test_question_texts_are_those_of_the_real_files():
    real = {r["question_content"] for path in real_annotations("avqa-val.json", "avqa-test.json")
            for r in json.loads(path.read_text())}
    assert set(RAW_TEXT.values()) == real


def test_store_matches_scenes_and_shapes(bench):
    for split in SPLITS:
        store = FeatureStore.open(bench / "store" / split)
        scenes = load_scenes(bench / "scenes" / f"{split}.json")
        assert store.ids == [s.video_id for s in scenes]
        assert (store.T, store.P) == (10, NUM_POSITIONS) and store.stride == 6
        assert store.audio.shape == (len(scenes), 10, 128) and store.maps.shape[-1] == 512
        assert {r.video_id for r in load_annotations(bench / f"avqa-{split}.json")} == set(store.ids)
    maps = np.asarray(store.maps[:4], dtype=np.float32)
    assert maps.min() >= 0 and 0.2 < maps.mean() < 1.5 and maps.max() < 10  # post-ReLU ResNet-like
    np.testing.assert_allclose(store.visual[:4], maps.mean(axis=2), atol=2e-3)  # pooled = spatial mean
    audio = np.asarray(store.audio, dtype=np.float32)
    assert audio.min() >= 0 and audio.max() < 5


def test_same_seed_same_bytes_other_seed_other_bytes(bench, tmp_path):
    # a fresh process with another string-hash seed: no set or dict order leaks into the files
    env = dict(os.environ, PYTHONHASHSEED="123")
    subprocess.run([sys.executable, "-m", "sasr_lite.cli", "synth", "--out", str(tmp_path / "again"),
                    "--size", "tiny", "--seed", "0"], check=True, env=env, capture_output=True)
    assert digests(tmp_path / "again") == digests(bench)
    assert cli_main(["synth", "--out", str(tmp_path / "other"), "--size", "tiny", "--seed", "1"]) == 0
    other = digests(tmp_path / "other")
    assert other.keys() == digests(bench).keys()
    for name in ("avqa-train.json", "scenes/test.json", "store/train/maps.npy", "store/val/audio.npy"):
        assert other[name] != digests(bench)[name], name


def test_questions_per_video_overrides_the_preset_and_is_recorded(tmp_path):
    root = generate(tmp_path / "ten", 10, seed=0, questions_per_video=3)
    info = json.loads((root / "synth.json").read_text())
    assert info["questions_per_video"] == 3
    for split in SPLITS:
        per_video = {}
        for record in load_annotations(root / f"avqa-{split}.json"):
            per_video[record.video_id] = per_video.get(record.video_id, 0) + 1
        assert set(per_video.values()) <= {1, 2, 3} and len(per_video) == info["counts"][split]["videos"]
    assert sum(c["questions"] for c in info["counts"].values()) >= 25  # 10 videos, nearly all asked 3
    assert cli_main(["synth", "--out", str(tmp_path / "cli"), "--size", "tiny", "--questions-per-video", "8"]) == 0
    info = json.loads((tmp_path / "cli" / "synth.json").read_text())
    assert info["size"] == "tiny" and info["questions_per_video"] == 8
    assert 7 * 60 <= sum(c["questions"] for c in info["counts"].values()) <= 8 * 60
    palette = ",".join(DEMO_INSTRUMENTS[:7])
    assert cli_main(["synth", "--out", str(tmp_path / "seven"), "--size", "tiny", "--instruments", palette]) == 0
    assert json.loads((tmp_path / "seven" / "synth.json").read_text())["instruments"] == list(DEMO_INSTRUMENTS[:7])
    classes = {i.cls for scene in load_scenes(tmp_path / "seven" / "scenes" / "train.json") for i in scene.instruments}
    assert classes and classes <= set(DEMO_INSTRUMENTS[:7])


def test_a_bad_instrument_list_is_a_usage_error(tmp_path, capsys):
    for palette, reason in (("violin,kazoo", "unknown instrument classes ['kazoo']"),
                            ("violin,piano,cello", "a benchmark needs at least 7 instrument classes")):
        with pytest.raises(SystemExit) as exit_info:
            cli_main(["synth", "--out", str(tmp_path / "bad"), "--size", "tiny", "--instruments", palette])
        assert exit_info.value.code == 2
        assert f"argument --instruments: {reason}" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_ensure_benchmark_regenerates_a_stale_folder(tmp_path, capsys):
    root = generate(tmp_path / "bench", 10, seed=0)
    old = json.loads((root / "synth.json").read_text())
    assert ensure_benchmark(root, 10, seed=0) == root  # current: kept as it is
    assert "generat" not in capsys.readouterr().out
    (root / "synth.json").write_text(json.dumps(old | {"version": 1}))  # a folder from an older kit
    record_outputs(root, "synth")  # ... whose generator recorded what it wrote
    (root / "store" / "train" / "stale.txt").write_text("a file of the user's beside the benchmark")
    with pytest.raises(FileExistsError, match=rf"{root} needs regenerating \(format version 1, not {SYNTH_VERSION}; "
                                              r"size 10, not 'tiny'\), but .*store/train/stale.txt was not written by "
                                              r"sasr-lite synth"):
        ensure_benchmark(root, "tiny", seed=0)
    assert (root / "store" / "train" / "stale.txt").is_file(), "nothing the generator did not write is deleted"
    (root / "store" / "train" / "stale.txt").unlink()
    ensure_benchmark(root, "tiny", seed=0)
    out = capsys.readouterr().out
    assert "regenerating" in out and f"format version 1, not {SYNTH_VERSION}" in out
    info = json.loads((root / "synth.json").read_text())
    assert (info["version"], info["size"], info["questions_per_video"]) == (SYNTH_VERSION, "tiny", None)
    assert not (root / "store" / "train" / "stale.txt").exists()
    assert len(FeatureStore.open(root / "store" / "train").ids) == info["counts"]["train"]["videos"] == 42
    ensure_benchmark(root, 10, seed=0)  # another size: regenerated too
    assert "size 'tiny', not 10" in capsys.readouterr().out
    assert json.loads((root / "synth.json").read_text())["size"] == 10
    info = json.loads((root / "synth.json").read_text())
    assert info["instruments"] == list(INSTRUMENTS)  # a number of videos: all 22 classes
    (root / "synth.json").write_text(json.dumps(info | {"instruments": list(DEMO_INSTRUMENTS)}))
    with pytest.raises(FileExistsError, match="synth.json was not written by sasr-lite synth or changed since"):
        ensure_benchmark(root, 10, seed=0)  # edited by hand: not the generator's to replace
    record_outputs(root, "synth")
    ensure_benchmark(root, 10, seed=0)  # drawn from other classes: regenerated too
    assert "regenerating" in capsys.readouterr().out
    assert json.loads((root / "synth.json").read_text())["instruments"] == list(INSTRUMENTS)
    (root / "synth.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="refusing to overwrite"):
        ensure_benchmark(root, 10, seed=0)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="size must be one of"):
        generate(tmp_path, "huge")
    with pytest.raises(ValueError, match="difficulty must be >= 0"):
        generate(tmp_path, "tiny", difficulty=-1)
    with pytest.raises(ValueError, match="stride must divide"):
        generate(tmp_path, "tiny", stride=5)
    with pytest.raises(ValueError, match="questions_per_video must be"):
        generate(tmp_path, "tiny", questions_per_video=0)


def test_sounding_box_mask_marks_the_boxes_of_instruments_playing_then(bench):
    scenes = load_scenes(bench / "scenes" / "train.json")
    segments = kept_segments(6)
    for scene in scenes:
        mask = sounding_box_mask(scene, segments)
        assert mask.shape == (10, NUM_POSITIONS) and mask.dtype == bool
        for t, segment in enumerate(segments):
            expected = np.zeros((GRID, GRID), dtype=bool)
            for inst in scene.visible:
                if inst.sounding[segment] == "1":
                    r0, c0, r1, c1 = inst.box
                    expected[r0:r1, c0:c1] = True
            np.testing.assert_array_equal(mask[t], expected.ravel())


def test_question_segments_point_at_the_right_moments(bench):
    scenes = scene_index(load_scenes(bench / "scenes" / "train.json"))
    segments = kept_segments(6)
    checked = set()
    for record in load_annotations(bench / "avqa-train.json"):
        scene = scenes[record.video_id]
        focus = question_segments(scene, record)
        assert focus.shape == (10,) and focus.dtype == bool and focus.any()
        key, values = record.template.key, record.templ_values
        if record.group == "Visual":
            assert focus.all()
        elif key == "a_count_is_there" and record.answer == "yes":  # where the named class sounds
            sounds = np.zeros(10, dtype=bool)
            for inst in scene.instruments:
                if inst.cls == values[0]:
                    sounds |= np.array([inst.sounding[s] == "1" for s in segments])
            np.testing.assert_array_equal(focus, sounds)
        elif key == "av_temp_where_fl":  # the one kept segment where that instrument comes in
            onsets = [i.onset for i in scene.instruments if i.sounds]
            onset = min(onsets) if values[0] == "first" else max(onsets)
            np.testing.assert_array_equal(focus, np.array(segments) == onset)
        else:
            continue
        checked.add(key)
    assert {"a_count_is_there", "av_temp_where_fl", "v_loc_where_perf"} <= checked
    wrong = SimpleNamespace(template=TEMPLATE_BY_KEY["v_loc_what_kind"], templ_values=[])
    crowded = max(scenes.values(), key=lambda s: len({i.cls for i in s.visible}))
    with pytest.raises(ValueError, match="not a well-posed question"):
        question_segments(crowded, wrong)


# --- features carry what the questions need ----------------------------------------------------
def box_mean(maps_t: np.ndarray, inst) -> np.ndarray:
    return maps_t[inst.cells()].mean(axis=0)


def test_maps_show_what_is_where_and_what_plays(bench):
    store = FeatureStore.open(bench / "store" / "train")
    scenes = load_scenes(bench / "scenes" / "train.json")
    world = make_world()
    protos = world.visual_protos / np.linalg.norm(world.visual_protos, axis=1, keepdims=True)
    hits, total, playing, idle = 0, 0, [], []
    for k, scene in enumerate(scenes):
        maps = np.asarray(store.maps[k], dtype=np.float32)  # [T, P, 512]
        for inst in scene.visible:
            col = inst.box[1] + 1
            look = box_mean(maps[0], inst) / world.position_gain[col]  # undo the column's gain
            hits += INSTRUMENTS[int(np.argmax(protos @ look))] == inst.cls  # nearest class prototype
            total += 1
            motion = np.array([box_mean(maps[t], inst) @ world.motion for t in range(10)])
            plays = np.array([inst.sounding[s] == "1" for s in kept_segments(6)])
            playing += list(motion[plays])
            idle += list(motion[~plays])
    assert hits / total > 0.9  # the class of every box is readable from the maps
    assert min(playing) > max(idle)  # a playing instrument's cells change visibly


def test_audio_carries_the_sounding_classes_and_nothing_else_at_difficulty_zero():
    world = make_world()
    renderer = FeatureRenderer(kept_segments(6), difficulty=0.0, bank_size=1 << 22)
    timbre = world.timbre / np.linalg.norm(world.timbre, axis=1, keepdims=True)
    on, off = [], []
    for scene, _ in make_questions(30, seed=2)["train"]:
        f = renderer.render(scene, np.random.default_rng(0))
        assert f.maps.min() >= 0
        for t, segment in enumerate(kept_segments(6)):
            active = [i for i in scene.instruments if i.sounding[segment] == "1"]
            if not active and scene.voiceover[segment] == "0":
                np.testing.assert_allclose(f.audio[t], world.ambience, rtol=1e-6)  # silence is silence
            score = timbre @ (f.audio[t] - world.ambience)
            heard = {INSTRUMENTS.index(i.cls) for i in active}
            on += [score[c] for c in heard]
            off += [score[c] for c in range(len(INSTRUMENTS)) if c not in heard]
    assert np.mean(on) > np.mean(off) + 1.0  # the timbre of a sounding class stands out


def test_template_keys_cover_the_taxonomy():
    assert set(RAW_TEXT) == set(TEMPLATE_BY_KEY)


def test_a_preset_can_give_the_test_split_its_own_size(monkeypatch):
    from sasr_lite.synth import presets

    assert presets.SizePreset(100, 5).split_counts() == {"train": 70, "val": 10, "test": 20}
    assert presets.SizePreset(100, 5, test_videos=50).split_counts() == {"train": 70, "val": 10, "test": 50}
    assert presets.PRESETS["lesson"].split_counts() == {"train": 420, "val": 60, "test": 480}
    assert presets.SIZES["lesson"] == 960
    # make_questions draws the preset's counts, train and val first: a bigger test split adds test
    # videos and leaves the train and val scenes as they were
    monkeypatch.setitem(presets.PRESETS, "tiny", presets.SizePreset(60, None, test_videos=30))
    bigger = make_questions("tiny", seed=3)
    monkeypatch.setitem(presets.PRESETS, "tiny", presets.SizePreset(60, None))
    usual = make_questions("tiny", seed=3)
    assert [len(bigger[s]) for s in SPLITS] == [42, 6, 30] and [len(usual[s]) for s in SPLITS] == [42, 6, 12]
    for split in ("train", "val"):
        assert [s.to_dict() for s, _ in bigger[split]] == [s.to_dict() for s, _ in usual[split]]
