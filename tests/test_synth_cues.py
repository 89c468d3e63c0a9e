"""Each cue knob changes exactly what it claims, checked on generated scenes and rendered features."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sasr_lite.synth.cues import CLASSIC_CUES, KNOBS, LESSON_CUES, Cues, resolve_cues
from sasr_lite.synth.features import FeatureRenderer, make_world, time_code
from sasr_lite.synth.generate import generate, make_questions, preset_cues
from sasr_lite.synth.presets import PRESETS
from sasr_lite.synth.scenes import BLOCK, Instrument, Scene, kept_segments, sample_scene

SEGMENTS = kept_segments(6)


def blocks(*on: int) -> str:
    return "".join("1" * BLOCK if b in on else "0" * BLOCK for b in range(10))


def violin(**changes) -> Instrument:
    base = Instrument(cls="violin", visible=True, x=0.2, side="left", box=(2, 1, 10, 4),
                      sounding=blocks(*range(10)), loudness=0.8, rhythm=0.3)
    return replace(base, **changes)


def scene(*instruments: Instrument) -> Scene:
    return Scene("00000001", "indoor", tuple(instruments))


def render(cues: Cues, s: Scene, difficulty: float = 0.0):
    renderer = FeatureRenderer(SEGMENTS, difficulty=difficulty, seed=0, bank_size=1 << 22, cues=cues)
    return renderer.render(s, np.random.default_rng(7))


def box_mean(maps: np.ndarray, inst: Instrument) -> np.ndarray:
    """[T, 512]: the mean of the instrument's box cells, what attention on it reads."""
    return maps[:, inst.cells()].astype(np.float32).mean(axis=1)


def test_defaults_are_the_classic_benchmark_and_presets_resolve():
    assert Cues() == CLASSIC_CUES == resolve_cues("classic") == preset_cues("small") == preset_cues(500)
    assert resolve_cues("lesson") == LESSON_CUES == preset_cues("lesson")
    assert not LESSON_CUES.position_in_pooled and not LESSON_CUES.playing_in_pooled and LESSON_CUES.time_in_features
    assert LESSON_CUES.several_at_once
    assert resolve_cues({"offscreen": False}) == Cues(offscreen=False)
    with pytest.raises(ValueError, match="unknown knobs \\['loud'\\]"):
        Cues.from_dict({"loud": True})
    with pytest.raises(ValueError, match="non-boolean values for \\['offscreen'\\]"):
        Cues().replace(offscreen="no")
    with pytest.raises(ValueError, match="unknown cue preset 'easy'"):
        resolve_cues("easy")


@pytest.mark.parametrize("position_in_pooled", [True, False])
def test_position_in_pooled_decides_whether_pooling_keeps_the_place(position_in_pooled):
    cues = Cues(position_in_pooled=position_in_pooled)
    left, right = violin(), violin(x=0.75, side="right", box=(2, 9, 10, 12))
    at_left, at_right = render(cues, scene(left)), render(cues, scene(right))
    pooled_gap = np.abs(at_left.visual - at_right.visual).max()
    # the cells of the instrument say where it stands either way (what spatial attention reads)
    assert np.abs(box_mean(at_left.maps, left) - box_mean(at_right.maps, right)).max() > 0.1
    if position_in_pooled:
        assert pooled_gap > 0.05  # the pooled vector tells left from right
    else:
        assert pooled_gap < 1e-5  # the same vector wherever it stands: the code pools to a constant


@pytest.mark.parametrize("playing_in_pooled", [True, False])
def test_playing_in_pooled_decides_whether_the_picture_shows_who_plays(playing_in_pooled):
    cues = Cues(playing_in_pooled=playing_in_pooled)
    plays_late = violin(sounding=blocks(5, 6, 7, 8, 9))
    f = render(cues, scene(plays_late))
    idle, playing = f.visual[:5], f.visual[5:]  # segments 0-4 silent, 5-9 playing (stride 6)
    np.testing.assert_allclose(idle, idle[:1].repeat(5, 0), atol=1e-6)  # a clean render: constant while idle
    assert np.abs(f.audio[5:].mean(0) - f.audio[:5].mean(0)).max() > 0.1  # the audio always hears it
    gap = np.abs(playing.mean(0) - idle.mean(0)).max()
    assert gap > 0.1 if playing_in_pooled else gap < 1e-6


@pytest.mark.parametrize("time_in_features", [True, False])
def test_time_in_features_adds_the_same_drift_to_every_video_and_cell(time_in_features):
    """On: audio and every map cell of segment t gain drift_t = (1 - s) start + s end, s = t / 59, the
    same in every video (so it says when, never what or where); off: nothing changes."""
    world = make_world()
    one, other = scene(violin()), scene(violin(cls="cello", x=0.75, side="right", box=(2, 9, 10, 12)))
    for s in (one, other):
        base, drifted = render(CLASSIC_CUES, s), render(Cues(time_in_features=time_in_features), s)
        audio_drift = time_code(world.time_audio, np.array(SEGMENTS)) if time_in_features else 0
        visual_drift = time_code(world.time_visual, np.array(SEGMENTS)) if time_in_features else 0
        np.testing.assert_allclose(drifted.audio - base.audio, audio_drift + 0 * base.audio, atol=1e-5)
        cell_gap = drifted.maps.astype(np.float32) - base.maps.astype(np.float32)  # [T, P, 512]
        np.testing.assert_allclose(cell_gap, np.broadcast_to(np.asarray(visual_drift)[..., None, :] if time_in_features
                                                              else 0, cell_gap.shape), atol=2e-2)  # float16 maps
        np.testing.assert_allclose(drifted.visual - base.visual, visual_drift + 0 * base.visual, atol=1e-4)
    if time_in_features:
        drift = time_code(world.time_audio, np.array(SEGMENTS))
        np.testing.assert_allclose(drift[0], world.time_audio[0], atol=1e-6)  # segment 0: the start pattern
        assert np.linalg.norm(drift[-1] - drift[0]) > 1.0  # early and late segments are far apart


def test_feature_knobs_leave_scenes_and_questions_alone():
    """position, playing and time change the rendering only: the same scenes, questions and answers."""
    classic = make_questions("tiny", seed=2, cues=CLASSIC_CUES)
    lesson = make_questions("tiny", seed=2, cues=LESSON_CUES)
    for split in classic:
        assert [s.to_dict() for s, _ in classic[split]] == [s.to_dict() for s, _ in lesson[split]]
        assert [q for _, qs in classic[split] for q in qs] == [q for _, qs in lesson[split] for q in qs]


def draw(cues: Cues, n: int = 600) -> list[Scene]:
    rng = np.random.default_rng(11)
    return [sample_scene(rng, f"{i:08d}", cues=cues) for i in range(n)]


def test_scene_knobs_switch_silent_offscreen_and_leaving():
    classic = draw(CLASSIC_CUES)
    assert any(not i.sounds for s in classic for i in s.visible)
    assert any(s.offscreen for s in classic)
    assert any(i.sounds and not i.mask[-1] for s in classic for i in s.instruments)  # some leave early
    assert all(i.sounds for s in draw(Cues(silent_visible=False)) for i in s.visible)
    assert not any(s.offscreen for s in draw(Cues(offscreen=False)))
    staying = draw(Cues(order_in_time_average=True))
    assert all(i.mask[-1] for s in staying for i in s.instruments if i.sounds)  # all play to the end
    # with everyone staying, the earlier entry always plays longer (pauses are at most 3 blocks)
    pairs = [(a, b) for s in staying for a in s.heard for b in s.heard if a.onset + 4 * BLOCK <= b.onset]
    assert pairs and all(a.duration > b.duration for a, b in pairs)


def test_several_at_once_off_lets_one_source_play_per_block_and_keeps_the_other_draws():
    together, turns = draw(CLASSIC_CUES), draw(Cues(several_at_once=False))
    assert any(np.sum([i.mask for i in s.instruments], axis=0).max() > 1 for s in together)
    for a, b in zip(together, turns):
        assert np.sum([i.mask for i in b.instruments], axis=0).max() <= 1  # never two at once
        # who stands where, how loud and which blocks anyone plays in: the same draws
        assert [(i.cls, i.visible, i.x, i.box, i.loudness, i.rhythm) for i in a.instruments] == \
            [(i.cls, i.visible, i.x, i.box, i.loudness, i.rhythm) for i in b.instruments]
        assert np.array_equal(np.any([i.mask for i in a.instruments], axis=0),
                              np.any([i.mask for i in b.instruments], axis=0))
        for i, j in zip(a.instruments, b.instruments):  # a source plays only where it played before
            assert not (j.mask & ~i.mask).any()
    # the turns are drawn per block: a source that shared blocks is sometimes heard in them
    shared = [(i, j) for a, b in zip(together, turns) for i, j in zip(a.instruments, b.instruments)
              if (i.mask & (np.sum([k.mask for k in a.instruments], axis=0) > 1)).any()]
    assert any(0 < j.duration < i.duration for i, j in shared)


def test_synth_json_records_the_cues_and_a_preset_or_override_applies(tmp_path):
    out = generate(tmp_path / "lesson", size=10, seed=0, cues="lesson")
    info = json.loads((out / "synth.json").read_text())
    assert info["cues"] == LESSON_CUES.to_dict() and set(info["cues"]) == set(KNOBS)
    assert PRESETS["lesson"].cues == "lesson" and PRESETS["small"].cues == "classic"
    classic = json.loads((generate(tmp_path / "classic", size=10, seed=0) / "synth.json").read_text())
    assert classic["cues"] == CLASSIC_CUES.to_dict()
