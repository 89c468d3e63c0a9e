"""data_scripts/: help texts, clear failures without a network (file:// URLs, no real host), idempotence."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from features_helpers import two_instrument_scene

from sasr_lite.data.store import FeatureStore
from sasr_lite.features.resnet import torchvision_resnet18
from sasr_lite.synth.media import render_scene

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "data_scripts"
SCRIPTS = sorted(p.stem for p in SCRIPTS_DIR.glob("*.py"))
MISSING = "file:///nonexistent-sasr-lite-test-folder"  # fails at once, contacts no host


@pytest.fixture
def script(monkeypatch):
    """Import a data script as a module (prepare_music_avqa imports its siblings)."""
    monkeypatch.syspath_prepend(str(SCRIPTS_DIR))
    return importlib.import_module


def annotations(video_ids: list[str]) -> list[dict]:
    """MUSIC-AVQA-format records, one question per video."""
    return [
        {"video_id": vid, "question_id": i, "type": '["Audio", "Counting"]',
         "question_content": "Is there a <Object> sound?", "templ_values": '["violin"]',
         "question_deleted": 0, "anser": "yes"}
        for i, vid in enumerate(video_ids)
    ]  # fmt: skip


def test_every_script_is_listed_and_has_help(script, capsys):
    assert SCRIPTS == ["build_avqa_yang_store", "build_store", "download_annotations", "download_avqa_yang_annotations",
                       "download_avqa_yang_videos", "download_music_avqa_v2", "download_videos", "download_weights",
                       "extract_avqa_yang_features",
                       "extract_features", "extract_frames_audio", "prepare_avqa_yang", "prepare_music_avqa"]  # fmt: skip
    for name in SCRIPTS:
        with pytest.raises(SystemExit) as exit_:
            script(name).main(["--help"])
        assert exit_.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_a_script_runs_as_a_file_from_the_repository_root():
    out = subprocess.run([sys.executable, str(SCRIPTS_DIR / "download_weights.py"), "--help"],
                         capture_output=True, text=True, cwd=SCRIPTS_DIR.parent)  # fmt: skip
    assert out.returncode == 0 and "resnet18-f37072fd.pth" in out.stdout


def test_annotations_without_network_fail_naming_the_url(script, tmp_path, capsys):
    rc = script("download_annotations").main(["--out", str(tmp_path), "--base-url", MISSING, "--timeout", "2"])
    err = capsys.readouterr().err
    assert rc == 1 and f"could not download {MISSING}/avqa-train.json" in err
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_annotations_download_validates_and_is_idempotent(script, tmp_path, capsys):
    served = tmp_path / "served"
    served.mkdir()
    (served / "avqa-val.json").write_text(json.dumps(annotations(["00000001", "00000002"])))
    (served / "avqa-test.json").write_text("<html>rate limited</html>")
    out = tmp_path / "data"
    args = ["--out", str(out), "--base-url", served.as_uri(), "--splits", "val"]
    assert script("download_annotations").main(args) == 0
    source = json.loads((out / "SOURCE.json").read_text())
    assert source["val"]["records"] == 2 and source["val"]["release"] == "custom"
    assert source["val"]["sha256"] == hashlib.sha256((served / "avqa-val.json").read_bytes()).hexdigest()
    mtime = (out / "avqa-val.json").stat().st_mtime_ns
    assert script("download_annotations").main(args) == 0
    assert "present (2 questions), skipped" in capsys.readouterr().out
    assert (out / "avqa-val.json").stat().st_mtime_ns == mtime
    # a page that is not an annotation file is refused and not kept
    rc = script("download_annotations").main(["--out", str(out), "--base-url", served.as_uri(), "--splits", "test"])
    assert rc == 1 and "is not a MUSIC-AVQA annotation file" in capsys.readouterr().err
    assert not (out / "avqa-test.json").exists()


def test_weights_download_checks_sha256_and_fails_clearly_offline(script, tmp_path, capsys):
    download = script("download_weights").main
    out = tmp_path / "weights"
    rc = download(["--out", str(out), "--only", "resnet18", "--url", f"resnet18={MISSING}/r.pth", "--timeout", "2"])
    assert rc == 1 and f"could not download {MISSING}/r.pth" in capsys.readouterr().err
    mirror = tmp_path / "mirror.pth"
    torch.save(torchvision_resnet18().state_dict(), mirror)
    digest = hashlib.sha256(mirror.read_bytes()).hexdigest()
    base = ["--out", str(out), "--only", "resnet18", "--url", f"resnet18={mirror.as_uri()}"]
    # the mirror is not torchvision's file: the registry hash rejects it and nothing is kept
    assert download(base) == 1
    err = capsys.readouterr().err
    assert "SHA-256 mismatch" in err and digest in err and "f37072fd47e89c5e" in err
    assert not list(out.iterdir())
    assert download(base + ["--sha256", f"resnet18={digest}"]) == 0
    assert (out / "resnet18-f37072fd.pth").read_bytes() == mirror.read_bytes()
    capsys.readouterr()
    assert download(base + ["--sha256", f"resnet18={digest}"]) == 0
    assert "present, SHA-256 ok, skipped" in capsys.readouterr().out


def test_videos_check_lists_missing_ids(script, tmp_path, capsys):
    ann = tmp_path / "avqa-val.json"
    ann.write_text(json.dumps(annotations(["00000001", "00000002"])))
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "00000001.mp4").write_bytes(b"")
    check = script("download_videos").main
    assert check(["--videos", str(videos), "--annotations", str(ann)]) == 1
    captured = capsys.readouterr()
    assert "drive.google.com" in captured.out and "1 of 2 needed videos present" in captured.out
    assert (tmp_path / "missing_videos.txt").read_text() == "00000002\n"
    (videos / "00000002.mp4").write_bytes(b"")
    assert check(["--videos", str(videos), "--annotations", str(ann)]) == 0


def test_frames_features_and_store_from_a_rendered_video(script, tmp_path, capsys):
    data = tmp_path / "music_avqa"
    render_scene(two_instrument_scene("00000005"), data / "videos", seconds=2, fps=4, wav=False)
    (data / "avqa-val.json").write_text(json.dumps(annotations(["00000005"])))

    assert script("extract_frames_audio").main(["--videos", str(data / "videos"), "--out", str(data)]) == 0
    assert sorted(p.name for p in (data / "frames" / "00000005").iterdir()) == ["000001.jpg", "000002.jpg"]
    assert (data / "audio" / "00000005.wav").is_file()

    feats = ["--videos", str(data / "videos"), "--out", str(data / "feats"), "--allow-random-weights",
             "--weights-dir", str(tmp_path / "no-weights")]  # fmt: skip
    assert script("extract_features").main(feats) == 0
    store_args = ["--data", str(data), "--splits", "val"]
    assert script("build_store").main(store_args) == 0
    store = FeatureStore.open(data / "store" / "val")
    assert store.ids == ["00000005"] and store.T == 10 and store.P == 196
    capsys.readouterr()
    assert script("build_store").main(store_args) == 0
    assert "complete (1 videos), skipped" in capsys.readouterr().out
