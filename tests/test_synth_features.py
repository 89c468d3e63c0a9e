"""Which modality carries what: counterfactual scenes rendered with the same random draws.

If changing a fact of the scene leaves a modality's features bit-identical, that modality
cannot answer questions about the fact; this is how the benchmark makes audio, the maps and
time each necessary.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sasr_lite.synth.features import FeatureRenderer, make_world
from sasr_lite.synth.questions import resolve
from sasr_lite.synth.scenes import Instrument, Scene, kept_segments

SEGMENTS = kept_segments(6)


def blocks(*on: int) -> str:
    return "".join("111111" if b in on else "000000" for b in range(10))


def violin(**changes) -> Instrument:
    base = Instrument(cls="violin", visible=True, x=0.2, side="left", box=(2, 1, 10, 4),
                      sounding=blocks(*range(10)), loudness=0.8, rhythm=0.3)
    return replace(base, **changes)


def piano(**changes) -> Instrument:
    base = Instrument(cls="piano", visible=True, x=0.75, side="right", box=(3, 9, 12, 12),
                      sounding=blocks(3, 4, 5, 6, 7, 8, 9), loudness=0.5, rhythm=0.7)
    return replace(base, **changes)


def scene(*instruments: Instrument, background: str = "indoor") -> Scene:
    return Scene("00000001", background, tuple(instruments), blocks(2, 3))


@pytest.fixture(scope="module")
def renderer():
    return FeatureRenderer(SEGMENTS, difficulty=1.0, seed=0, bank_size=1 << 22)


def render(renderer, s: Scene):
    return renderer.render(s, np.random.default_rng(7))


def test_loudness_and_rhythm_live_in_the_audio_only(renderer):
    base = render(renderer, scene(violin(), piano()))
    louder = render(renderer, scene(violin(loudness=0.4), piano(rhythm=0.1)))
    np.testing.assert_array_equal(base.maps, louder.maps)
    assert np.abs(base.audio - louder.audio).max() > 0.1
    question = ["violin", "piano"]
    assert resolve(scene(violin(), piano()), "a_comp_louder", question).answer == "yes"
    assert resolve(scene(violin(loudness=0.4), piano()), "a_comp_louder", question).answer == "no"


def test_off_screen_sound_lives_in_the_audio_only(renderer):
    drum = Instrument(cls="drum", visible=False, x=None, side=None, box=None,
                      sounding=blocks(0, 1), loudness=0.6, rhythm=0.9)
    alone, with_drum = scene(violin(), piano()), scene(violin(), piano(), drum)
    np.testing.assert_array_equal(render(renderer, alone).maps, render(renderer, with_drum).maps)
    assert np.abs(render(renderer, alone).audio - render(renderer, with_drum).audio).max() > 0.1
    assert resolve(alone, "av_ext_from_video", []).answer == "yes"
    assert resolve(with_drum, "av_ext_from_video", []).answer == "no"


def test_positions_and_background_live_in_the_maps_only(renderer):
    base = scene(violin(), piano())
    moved = scene(violin(x=0.5, side="middle", box=(2, 6, 10, 9)), piano())
    outdoor = scene(violin(), piano(), background="outdoor")
    for other in (moved, outdoor):
        np.testing.assert_array_equal(render(renderer, base).audio, render(renderer, other).audio)
        assert np.abs(render(renderer, base).maps.astype(np.float32)
                      - render(renderer, other).maps.astype(np.float32)).max() > 0.5
    assert resolve(base, "av_loc_where_ll", ["loudest"]).answer == "left"
    assert resolve(moved, "av_loc_where_ll", ["loudest"]).answer == "middle"
    assert resolve(outdoor, "v_loc_where_perf", []).answer == "outdoor"


def test_order_in_time_is_lost_by_pooling_over_time():
    """Swapping who plays first permutes the segments: time-pooled features cannot tell."""
    clean = FeatureRenderer(SEGMENTS, difficulty=0.0, bank_size=1 << 22)
    early, late = blocks(0, 1, 2, 3, 4), blocks(5, 6, 7, 8, 9)
    first = scene(violin(sounding=early, rhythm=0.0), piano(sounding=late, rhythm=0.0))
    second = scene(violin(sounding=late, rhythm=0.0), piano(sounding=early, rhythm=0.0))
    first, second = replace(first, voiceover="0" * 60), replace(second, voiceover="0" * 60)
    a, b = render(clean, first), render(clean, second)
    np.testing.assert_array_equal(np.roll(a.audio, 5, axis=0), b.audio)
    np.testing.assert_array_equal(np.roll(a.maps, 5, axis=0), b.maps)
    np.testing.assert_allclose(a.audio.mean(0), b.audio.mean(0), rtol=1e-6)
    assert resolve(first, "av_temp_th_comes_in", ["first"]).answer == "violin"
    assert resolve(second, "av_temp_th_comes_in", ["first"]).answer == "piano"


def test_timbre_follows_the_look_of_a_class():
    """timbre_c = ReLU(W (V_c - mean V)): classes that look alike sound alike."""
    world = make_world()

    def cosines(x):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return (x @ x.T)[np.triu_indices(len(x), 1)]

    centred = world.visual_protos - world.visual_protos.mean(axis=0)
    assert np.corrcoef(cosines(centred), cosines(world.timbre))[0, 1] > 0.2
    assert world.visual_protos.min() >= 0 and world.timbre.min() >= 0


def test_difficulty_scales_the_noise():
    s = scene(violin(), piano())
    maps = {d: FeatureRenderer(SEGMENTS, difficulty=d, bank_size=1 << 22).render(s, np.random.default_rng(1))
            for d in (0.0, 1.0, 2.0)}
    clean = maps[0.0].maps.astype(np.float32)
    error = [np.abs(maps[d].maps.astype(np.float32) - clean).mean() for d in (1.0, 2.0)]
    assert 0 < error[0] < error[1]
    with pytest.raises(ValueError, match="difficulty must be >= 0"):
        FeatureRenderer(SEGMENTS, difficulty=-0.5)
