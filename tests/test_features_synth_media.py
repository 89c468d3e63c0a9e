"""Synthetic scenes rendered to media: pictures and sounds follow the scene's ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from features_helpers import mask, two_instrument_scene

from sasr_lite.cli import main as cli
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.features import media
from sasr_lite.features.vggish import log_mel_spectrogram
from sasr_lite.synth import media as render
from sasr_lite.synth.scenes import Instrument, Scene, save_scenes

SR = 16000


def rms_per_second(audio: np.ndarray) -> np.ndarray:
    return np.sqrt((audio[: len(audio) // SR * SR].reshape(-1, SR) ** 2).mean(axis=1))


def solo(cls: str, loudness: float = 1.0, rhythm: float = 0.3, sounding: str = "1" * 60) -> Scene:
    inst = Instrument(cls, True, 0.5, "middle", (4, 6, 10, 9), sounding, loudness, rhythm)
    return Scene("00000007", "indoor", (inst,))


def test_audio_follows_sounding_masks_and_loudness():
    scene = two_instrument_scene()  # violin in seconds 0-1 (loudness 0.8), drum in second 1 (0.5)
    loud = rms_per_second(render.render_audio(scene, seconds=4))
    assert loud[2] < 0.05 * loud[0] and loud[3] < 0.05 * loud[0]  # nobody plays: room tone only
    assert loud[1] > loud[0]  # the drum joins the violin
    quiet = rms_per_second(render.render_audio(solo("cello", loudness=0.4), seconds=2))
    full = rms_per_second(render.render_audio(solo("cello", loudness=0.8), seconds=2))
    np.testing.assert_allclose(full / quiet, 2.0, rtol=0.05)  # loudness is a linear gain


@pytest.mark.parametrize("cls", ["violin", "piano", "drum"])
@pytest.mark.parametrize("rhythm", [0.3, 0.6, 1.0])
def test_rhythm_sets_the_note_rate(cls, rhythm):
    voice = render.instrument_voice(solo(cls, rhythm=rhythm).instruments[0], 4, SR, np.random.default_rng(0))
    envelope = np.sqrt((voice.reshape(-1, 160) ** 2).mean(axis=1))  # 100 Hz loudness envelope
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean()))
    freqs = np.fft.rfftfreq(len(envelope), d=0.01)
    band = freqs > 0.75  # ignore the melody's slow drift
    assert freqs[band][spectrum[band].argmax()] == pytest.approx(render.note_rate(rhythm), abs=0.3)


def test_every_class_has_its_own_timbre():
    profiles = []
    for cls in INSTRUMENTS:
        voice = render.instrument_voice(solo(cls).instruments[0], 2, SR, np.random.default_rng(0))
        profile = log_mel_spectrogram(torch.from_numpy(voice)).mean(dim=0).numpy()  # mean log-mel
        profiles.append((profile - profile.mean()) / np.linalg.norm(profile - profile.mean()))
    similarity = np.array(profiles) @ np.array(profiles).T
    np.fill_diagonal(similarity, -1)
    assert similarity.max() < 0.99, "two classes sound (almost) the same"


def test_every_class_has_its_own_drawing():
    drawings = [render.class_drawing(cls) for cls in INSTRUMENTS]
    assert len({(shape, stripes) for shape, _, stripes in drawings}) == len(INSTRUMENTS)
    colours = np.array([colour for _, colour, _ in drawings])
    distances = np.linalg.norm(colours[:, None] - colours[None], axis=-1) + np.eye(len(INSTRUMENTS)) * 1e9
    assert distances.min() > 10  # no two classes share a colour either


def test_frames_draw_instruments_in_their_boxes_bright_when_playing():
    scene = two_instrument_scene()
    frames = list(render.render_frames(scene, seconds=3, fps=1))  # t = 0, 1, 2: no bobbing offset
    violin, drum = scene.visible
    _, violin_colour, _ = render.class_drawing("violin")
    _, drum_colour, _ = render.class_drawing("drum")

    def centre(frame, inst):
        """Median colour over the drawing's own pixels (stripes are a minority)."""
        y0, x0, y1, x1 = render.box_pixels(inst.box, *render.SIZE)
        inside = render.shape_mask(render.class_drawing(inst.cls)[0], y1 - y0, x1 - x0)
        return np.median(frame[y0:y1, x0:x1][inside].astype(float), axis=0)

    np.testing.assert_allclose(centre(frames[0], violin), violin_colour, atol=1)  # playing: full colour
    np.testing.assert_allclose(centre(frames[0], drum), drum_colour * 0.5, atol=1)  # silent: dimmed
    np.testing.assert_allclose(centre(frames[1], drum), drum_colour, atol=1)
    np.testing.assert_allclose(centre(frames[2], violin), violin_colour * 0.5, atol=1)
    # indoor wall vs outdoor sky at the top middle of the frame
    indoor = frames[0][5, render.SIZE[0] // 2].astype(float)
    outdoor = next(render.render_frames(two_instrument_scene(background="outdoor"), 1, 1))[5, render.SIZE[0] // 2]
    assert outdoor[2] > outdoor[0] + 60 and indoor[0] > indoor[2]  # blue sky, warm wall


def test_render_command_writes_mp4_and_wav(tmp_path, capsys):
    scenes = [two_instrument_scene("00000001"), solo("flute", sounding=mask("1"))]
    save_scenes(tmp_path / "bench" / "scenes" / "val.json", "val", scenes)
    out = tmp_path / "media"
    args = ["render", str(tmp_path / "bench"), "--split", "val", "--out", str(out), "--seconds", "2",
            "--fps", "4", "--size", "160x120", "--ids", "00000007"]  # fmt: skip
    assert cli(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["00000007.mp4", "00000007.wav"]
    clip = media.read_media(out / "00000007.mp4")
    assert clip.frames.shape == (2, 120, 160, 3)
    loud = rms_per_second(media.read_audio(out / "00000007.wav"))
    assert loud[1] < 0.05 * loud[0]  # the flute plays in second 0 only
    assert cli(["render", str(tmp_path / "bench"), "--split", "val", "--out", str(out), "--ids", "nope"]) == 2
    assert "ids not in" in capsys.readouterr().err
    with pytest.raises(ValueError, match="seconds must be in 1..60"):
        render.render_scene(scenes[0], out, seconds=0)
