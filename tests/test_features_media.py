"""Decoding: 1 fps frames at each second's start, 16 kHz mono audio, clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from features_helpers import frame_index, two_instrument_scene, write_counter_video

from sasr_lite.features import media
from sasr_lite.synth.media import render_audio, render_scene


@pytest.mark.parametrize(
    "num_frames, fps, expected",
    [
        (12, 4, [0, 4, 8]),  # 3.0 s: the frames shown at t = 0, 1, 2 s
        (10, 4, [0, 4, 8]),  # 2.5 s: the partial third second still gets its start frame
        (30, 10, [0, 10, 20]),
        (6, 2, [0, 2, 4]),
    ],
)
def test_frame_at_each_second_start(tmp_path, num_frames, fps, expected):
    path = write_counter_video(tmp_path / "counter.mp4", num_frames, fps)
    frames = media.read_frames(path)
    assert frames.dtype == np.uint8 and frames.shape == (len(expected), 48, 64, 3)
    assert [frame_index(f) for f in frames] == expected


def test_max_seconds_stops_early(tmp_path):
    path = write_counter_video(tmp_path / "counter.mp4", 40, 8)
    frames = media.read_frames(path, max_seconds=2)
    assert [frame_index(f) for f in frames] == [0, 8]


def test_rendered_mp4_decodes_to_frames_and_the_wav_audio(tmp_path):
    scene = two_instrument_scene()
    mp4 = render_scene(scene, tmp_path, seconds=3, fps=5)
    clip = media.read_media(mp4)
    assert clip.frames.shape == (3, 240, 320, 3) and clip.frames.dtype == np.uint8
    assert clip.has_audio and clip.audio.dtype == np.float32 and clip.sample_rate == 16000
    # AAC pads the end by less than one 1024-sample frame and keeps the start aligned
    assert 3 * 16000 <= len(clip.audio) < 3 * 16000 + 1024
    wav = media.read_audio(tmp_path / f"{scene.video_id}.wav")
    np.testing.assert_allclose(wav, render_audio(scene, 3), atol=1 / 32768 + 1e-6)  # PCM-16 rounding
    corr = np.corrcoef(clip.audio[: len(wav)], wav)[0, 1]
    assert corr > 0.99, f"decoded AAC audio does not line up with the WAV (corr {corr:.3f})"


def test_stereo_44k_wav_becomes_16k_channel_mean(tmp_path):
    t = np.arange(2 * 44100) / 44100
    left, right = np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 900 * t)
    sf.write(tmp_path / "stereo.wav", np.stack([left, right], 1).astype(np.float32), 44100, subtype="FLOAT")
    audio = media.read_audio(tmp_path / "stereo.wav")
    expected = AF.resample(torch.from_numpy(((left + right) / 2).astype(np.float32)), 44100, 16000).numpy()
    assert audio.dtype == np.float32 and audio.shape == (32000,)
    np.testing.assert_allclose(audio, expected, atol=1e-5)


def test_video_without_audio_track(tmp_path):
    path = write_counter_video(tmp_path / "silent.mp4", 8, 4)
    clip = media.read_media(path)
    assert not clip.has_audio and clip.audio.shape == (0,)
    assert clip.frames.shape[0] == 2


def test_corrupt_and_truncated_files_name_the_file(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(media.MediaError, match="garbage.mp4"):
        media.read_media(garbage)
    good = write_counter_video(tmp_path / "good.mp4", 8, 4, audio=True)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(media.MediaError, match="truncated.mp4"):
        media.read_media(truncated)
    bad_wav = tmp_path / "bad.wav"
    bad_wav.write_bytes(b"RIFF0000WAVEnot really")
    with pytest.raises(media.MediaError, match="bad.wav"):
        media.read_audio(bad_wav)


def test_missing_file_and_missing_video_stream(tmp_path):
    with pytest.raises(media.MediaError, match="not found: .*nowhere.mp4"):
        media.read_media(tmp_path / "nowhere.mp4")
    sf.write(tmp_path / "tone.wav", np.zeros(1600, np.float32), 16000)
    with pytest.raises(media.MediaError, match="tone.wav has no video stream"):
        media.read_frames(tmp_path / "tone.wav")
