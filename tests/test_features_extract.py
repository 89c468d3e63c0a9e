"""`sasr-lite extract` on rendered synthetic clips: layout, values, resume, shards, weights policy."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from features_helpers import two_instrument_scene, write_counter_video

from sasr_lite.cli import main as cli
from sasr_lite.features import extract, media, vggish
from sasr_lite.features import weights as wt
from sasr_lite.features.resnet import frame_features, torchvision_resnet18
from sasr_lite.synth.media import render_scene


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two rendered 3-second clips (ids a0000001, a0000002) in one folder."""
    folder = tmp_path_factory.mktemp("videos")
    for vid, bg in (("a0000001", "indoor"), ("a0000002", "outdoor")):
        render_scene(two_instrument_scene(vid, bg), folder, seconds=3, fps=5, wav=False)
    return folder


def test_random_weights_need_the_flag(clips, tmp_path, capsys):
    out = tmp_path / "feats"
    rc = cli(["extract", str(clips), "--out", str(out), "--weights-dir", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "weight files not found" in err and "resnet18-f37072fd.pth" in err and "vggish-10086976.pth" in err
    assert "--allow-random-weights" in err
    assert not (out / "vggish").exists()


def test_official_layout_values_padding_and_manifest(clips, tmp_path, capsys):
    out = tmp_path / "feats"
    args = ["extract", str(clips / "a0000001.mp4"), "--out", str(out), "--allow-random-weights",
            "--weights-dir", str(tmp_path / "none")]  # fmt: skip
    assert cli(args) == 0
    err = capsys.readouterr().err
    assert "WARNING: RANDOM WEIGHTS for resnet18, vggish" in err
    audio = np.load(out / "vggish" / "a0000001.npy")
    maps = np.load(out / "res18_14x14" / "a0000001.npy")
    assert audio.shape == (60, 128) and audio.dtype == np.float32
    assert maps.shape == (60, 512, 14, 14) and maps.dtype == np.float32
    # padding rule: seconds 3..59 repeat second 2
    assert (audio[3:] == audio[2]).all() and (maps[3:] == maps[2]).all()
    assert not np.allclose(audio[0], audio[2])  # the violin alone vs silence: different seconds differ

    # direct recomputation with the same (seeded random) networks
    clip = media.read_media(clips / "a0000001.mp4")
    expected_audio = vggish.embed(wt.random_vggish(), vggish.waveform_to_segment_examples(clip.audio, 16000))
    expected_maps, _ = frame_features(wt.random_resnet18(), clip.frames)
    np.testing.assert_allclose(audio[:3], expected_audio.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(maps[:3], expected_maps.numpy(), rtol=1e-4, atol=1e-5)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["random_weights"] is True and "RANDOM WEIGHTS" in manifest["warning"]
    assert manifest["weights"]["vggish"] == {"random": True, "seed": wt.RANDOM_SEED}
    entry = manifest["videos"]["a0000001"]
    assert entry["status"] == "done" and entry["video_seconds"] == 3 and entry["padded_frames"] == 57
    assert entry["padded_audio"] == 57 and entry["has_audio"]


def test_resume_skips_finished_videos_and_redoes_broken_ones(clips, tmp_path, capsys):
    out = tmp_path / "feats"
    args = ["extract", str(clips), "--out", str(out), "--allow-random-weights", "--weights-dir", str(tmp_path)]
    assert cli(args) == 0
    files = sorted(out.rglob("*.npy"))
    assert [f.name for f in files] == ["a0000001.npy", "a0000002.npy"] * 2
    before = {f: f.stat().st_mtime_ns for f in files}
    capsys.readouterr()
    assert cli(args) == 0
    assert "extracted 0, skipped 2 already done" in capsys.readouterr().err
    assert {f: f.stat().st_mtime_ns for f in files} == before
    # a truncated (wrong-shape) file counts as not done; only that video is recomputed
    broken = out / "res18_14x14" / "a0000002.npy"
    np.save(broken, np.zeros((3, 512, 14, 14), np.float32))
    assert cli(args) == 0
    assert "extracted 1, skipped 1 already done" in capsys.readouterr().err
    assert np.load(broken).shape == (60, 512, 14, 14)
    assert (out / "vggish" / "a0000001.npy").stat().st_mtime_ns == before[out / "vggish" / "a0000001.npy"]
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporary files behind


def test_shards_split_the_videos(clips, tmp_path):
    out = tmp_path / "feats"
    common = ["--out", str(out), "--allow-random-weights", "--weights-dir", str(tmp_path)]
    assert cli(["extract", str(clips), "--shard", "1/2", *common]) == 0
    assert sorted(p.name for p in (out / "vggish").iterdir()) == ["a0000002.npy"]
    manifest = json.loads((out / "manifest-shard1-of-2.json").read_text())
    assert list(manifest["videos"]) == ["a0000002"]
    assert extract.parse_shard("0/3") == (0, 3)
    for bad in ("3/3", "1", "a/b"):
        with pytest.raises(ValueError, match="--shard"):
            extract.parse_shard(bad)


def test_corrupt_video_fails_alone_and_silent_video_gets_silence(clips, tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "b0000001.mp4").write_bytes(b"\x00\x01garbage" * 100)
    write_counter_video(videos / "b0000002.mp4", 8, 4)  # 2 s, no audio track
    out = tmp_path / "feats"
    rc = cli(["extract", str(videos), "--out", str(out), "--allow-random-weights", "--weights-dir", str(tmp_path)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "b0000001.mp4" in err and "failed 1" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["videos"]["b0000001"]["status"] == "failed"
    assert "b0000001.mp4" in manifest["videos"]["b0000001"]["error"]
    silent = manifest["videos"]["b0000002"]
    assert silent["status"] == "done" and silent["has_audio"] is False and silent["padded_audio"] == 60
    audio = np.load(out / "vggish" / "b0000002.npy")
    silence = vggish.waveform_to_segment_examples(np.zeros(16000, np.float32), 16000)
    expected = np.repeat(vggish.embed(wt.random_vggish(), silence).numpy(), 60, axis=0)
    np.testing.assert_allclose(audio, expected, rtol=1e-4, atol=1e-5)


def test_weight_files_are_checked_recorded_and_never_mixed_with_random(clips, tmp_path, capsys):
    weights = tmp_path / "weights"
    weights.mkdir()
    torch.manual_seed(3)
    torch.save(torchvision_resnet18().state_dict(), weights / "resnet18-f37072fd.pth")
    torch.save(vggish.VGGish().state_dict(), weights / "vggish-10086976.pth")
    out = tmp_path / "feats"
    base = ["extract", str(clips / "a0000001.mp4"), "--out", str(out), "--weights-dir", str(weights)]
    # our test files are not the upstream checkpoints: the SHA-256 check stops them
    assert cli(base) == 2
    assert "SHA-256 mismatch" in capsys.readouterr().err
    digests = {k: wt.sha256_file(weights / wt.KNOWN_WEIGHTS[k].filename) for k in ("resnet18", "vggish")}
    trusted = [f"--sha256=resnet18={digests['resnet18']}", f"--sha256=vggish={digests['vggish']}"]
    assert cli(base + trusted) == 0
    assert "RANDOM" not in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["random_weights"] is False and manifest["warning"] is None
    assert manifest["weights"]["resnet18"]["sha256"] == digests["resnet18"]
    # the same folder refuses features from other (random) weights
    rc = cli(["extract", str(clips), "--out", str(out), "--allow-random-weights", "--weights-dir", str(tmp_path)])
    assert rc == 2 and "already holds features made with other settings" in capsys.readouterr().err
