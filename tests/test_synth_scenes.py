"""Synthetic scenes: sampling invariants, schema round-trip, and validation errors."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.synth.scenes import (
    BLOCK, GRID, NUM_SEGMENTS, Scene, kept_segments, load_scenes, sample_scene, save_scenes, side_of,
)


@pytest.fixture(scope="module")
def scenes():
    rng = np.random.default_rng(5)
    return [sample_scene(rng, f"{i:08d}") for i in range(1500)]


def test_scenes_follow_the_documented_rules(scenes):
    for s in scenes:
        assert 1 <= len(s.visible) <= 4 and len(s.offscreen) <= 1
        assert any(i.sounds for i in s.instruments)
        xs = [i.x for i in s.visible]
        assert xs == sorted(xs)
        covered = np.zeros(GRID * GRID, dtype=int)
        for inst in s.visible:
            assert inst.side == side_of(inst.x)
            r0, c0, r1, c1 = inst.box
            assert 0 <= r0 < r1 <= GRID and 0 <= c0 < c1 <= GRID
            assert c0 <= inst.x * GRID < c1  # the box sits where x says
            covered[inst.cells()] += 1
        assert covered.max() <= 1, "boxes never overlap"
        for inst in s.offscreen:
            assert inst.sounds and inst.cls not in {i.cls for i in s.visible}
        for mask in [i.sounding for i in s.instruments] + [s.voiceover]:
            blocks = [mask[k: k + BLOCK] for k in range(0, NUM_SEGMENTS, BLOCK)]
            assert all(len(set(b)) == 1 for b in blocks), "masks change only at block boundaries"
        loud = sorted(i.loudness for i in s.instruments)
        rhythm = sorted(i.rhythm for i in s.instruments)
        assert min(np.diff(loud), default=1) >= 0.099 and min(np.diff(rhythm), default=1) >= 0.139


def test_scenes_cover_what_the_questions_need(scenes):
    """Repeats, off-screen sound, voiceover, entries, exits, silence and both backgrounds occur."""
    counts = Counter()
    for s in scenes:
        classes = Counter(i.cls for i in s.visible)
        counts["repeat"] += max(classes.values()) >= 2
        counts["offscreen"] += bool(s.offscreen)
        counts["voiceover"] += s.has_voiceover
        counts["indoor"] += s.background == "indoor"
        for i in s.visible:
            counts["silent"] += not i.sounds
            counts["always"] += i.always
            counts["enters"] += i.sounds and i.onset > 0
            counts["exits"] += i.sounds and i.sounding.endswith("0")
        counts["together"] += sum(i.sounds for i in s.instruments) >= 2 and any(
            (a.mask & b.mask).any() for a in s.instruments for b in s.instruments if a is not b)
    n = len(scenes)
    for name in ("repeat", "offscreen", "voiceover", "indoor"):
        assert 0.2 * n <= counts[name] <= 0.8 * n, (name, counts[name])
    for name in ("silent", "always", "enters", "exits", "together"):
        assert counts[name] >= 0.1 * n, (name, counts[name])
    assert {i.cls for s in scenes for i in s.instruments} == set(INSTRUMENTS)


def test_scene_files_round_trip(scenes, tmp_path):
    path = save_scenes(tmp_path / "scenes" / "val.json", "val", scenes[:50])
    assert load_scenes(path) == scenes[:50]
    doc = json.loads(path.read_text())
    first = doc["scenes"][0]["instruments"][0]
    assert set(first) == {"class", "visible", "x", "side", "box", "sounding", "loudness", "rhythm"}
    assert doc["num_segments"] == NUM_SEGMENTS and doc["grid"] == GRID and doc["split"] == "val"


def test_bad_scene_files_fail_with_the_file_and_the_problem(scenes, tmp_path):
    path = save_scenes(tmp_path / "s.json", "val", scenes[:3])
    doc = json.loads(path.read_text())
    doc["scenes"][1]["instruments"][0]["class"] = "kazoo"
    doc["scenes"][2]["instruments"][0]["sounding"] = "101"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"bad\.json scene 1 .*unknown class 'kazoo'"):
        load_scenes(bad)
    doc["scenes"][1]["instruments"][0]["class"] = "violin"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="scene 2 .*sounding must be 60 characters"):
        load_scenes(bad)
    with pytest.raises(FileNotFoundError, match="scene file not found"):
        load_scenes(tmp_path / "missing.json")
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a sasr-lite-synthetic-scenes file"):
        load_scenes(bad)
    moved = scenes[0].to_dict()
    moved["instruments"][0]["side"] = "right" if moved["instruments"][0]["side"] != "right" else "left"
    with pytest.raises(ValueError, match="disagrees with x"):
        Scene.from_dict(moved)


def test_kept_segments():
    assert kept_segments() == tuple(range(0, 60, 6))
    assert len(kept_segments(1)) == 60
    with pytest.raises(ValueError, match="stride must divide"):
        kept_segments(4)
