"""`sasr_lite.synth.cache.ensure_benchmark`, the one benchmark cache of the demo and the notebooks."""

from __future__ import annotations

import json

import pytest

import sasr_lite.synth.cache as cache
from sasr_lite.outputs import MARKER, read_marker
from sasr_lite.synth.cache import STAMP, ensure_benchmark


def test_a_benchmark_is_made_once_and_again_when_the_generator_code_changes(tmp_path, capsys, monkeypatch):
    root = ensure_benchmark(tmp_path / "b", 10, seed=0)
    assert (root / STAMP).read_text() == cache.generator_fingerprint() and read_marker(root) is not None
    made = (root / "synth.json").stat().st_mtime_ns
    assert "generating" in capsys.readouterr().out
    ensure_benchmark(root, 10, seed=0)
    assert (root / "synth.json").stat().st_mtime_ns == made and "generat" not in capsys.readouterr().out
    monkeypatch.setattr(cache, "generator_fingerprint", lambda: "0" * 64)  # as after an edit of sasr_lite/synth
    ensure_benchmark(root, 10, seed=0)
    assert f"regenerating {root}: the generator's code changed" in capsys.readouterr().out
    assert (root / STAMP).read_text() == "0" * 64


def test_other_cues_or_bias_make_another_benchmark(tmp_path, capsys):
    root = ensure_benchmark(tmp_path / "b", 10, seed=0)
    capsys.readouterr()
    ensure_benchmark(root, 10, seed=0, bias=0.8)
    assert "bias None, not 0.8" in capsys.readouterr().out
    assert json.loads((root / "synth.json").read_text())["bias"] == 0.8
    ensure_benchmark(root, 10, seed=0, bias=0.8, cues={"position_in_pooled": False})
    out = capsys.readouterr().out
    assert "regenerating" in out and "cues {" in out
    assert json.loads((root / "synth.json").read_text())["cues"]["position_in_pooled"] is False


def test_avqa_yang_has_its_own_format_and_is_never_taken_for_music_avqa(tmp_path, capsys):
    root = ensure_benchmark(tmp_path / "yang", "tiny", seed=0, dataset="avqa-yang")
    assert (root / "train_qa.json").is_file()
    capsys.readouterr()
    assert ensure_benchmark(root, "tiny", seed=0, dataset="avqa-yang") == root
    assert "generat" not in capsys.readouterr().out
    with pytest.raises(ValueError, match=rf"{root}/synth.json is not a sasr-lite-synthetic-benchmark manifest; "
                                         f"refusing to overwrite {root}"):
        ensure_benchmark(root, "tiny", seed=0)


def test_a_folder_of_the_earlier_notebook_cache_is_regenerated_not_refused(tmp_path, capsys, monkeypatch):
    """Before the cache kept markers, the notebooks' folders held only the generator stamp."""
    root = ensure_benchmark(tmp_path / "b", 10, seed=0)
    (root / MARKER).unlink()
    monkeypatch.setattr(cache, "generator_fingerprint", lambda: "1" * 64)
    ensure_benchmark(root, 10, seed=0)
    assert "the generator's code changed" in capsys.readouterr().out and read_marker(root) is not None
