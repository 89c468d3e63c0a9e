"""Render synthetic scenes (`scenes.py`) to real media: MP4 (H.264 + AAC) and 16 kHz WAV.

So notebook 01 and the tests can run the real extractors on real files with no download.

Pictures: an indoor (wall, window, wooden floor) or outdoor (sky, sun, grass) background; each
visible instrument is drawn in its box (the scene's 14x14 grid cells, stretched over the frame)
as its class's own shape and colour with 0-2 dark stripes (22 distinct drawings). A sounding
instrument is bright and bobs up and down at its note rate; a silent one is dimmed and still.

Sound: each class has its own timbre (register, harmonic recipe, note decay, breath/noise and
vibrato by family: bowed, plucked, struck, reed, brass, flute, drum). An instrument plays only in
the seconds its `sounding` mask marks (10 ms fades at the edges), at its `loudness` (a linear
gain), and its `rhythm` sets the note rate (1 to 8 notes per second) and how deep each note's
envelope dips: 0 sounds legato, 1 staccato. A voiceover is a buzzy vowel-formant voice at
about four syllables per second. A quiet room hum or wind noise sits under everything.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from tqdm import tqdm

from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.synth.scenes import GRID, NUM_SEGMENTS, Instrument, Scene, load_scenes

SAMPLE_RATE = 16000
FPS = 10
SIZE = (320, 240)  # width, height
FADE = 0.01  # seconds of fade where a sounding mask switches
PEAK = 0.9  # the mix is scaled so its peak stays below this (no clipping)

# --- sound ----------------------------------------------------------------------------------
# family -> (harmonic amplitudes 1..8, note decay per second (0 = sustained), noise share, vibrato depth)
FAMILIES: dict[str, tuple[tuple[float, ...], float, float, float]] = {
    "bowed": ((1, 0.6, 0.45, 0.35, 0.25, 0.2, 0.15, 0.1), 0.0, 0.02, 0.006),
    "plucked": ((1, 0.5, 0.35, 0.2, 0.12, 0.08, 0.05, 0.03), 6.0, 0.01, 0.0),
    "struck": ((1, 0.1, 0.0, 0.35, 0.0, 0.0, 0.1, 0.0), 9.0, 0.0, 0.0),
    "reed": ((1, 0.15, 0.7, 0.1, 0.5, 0.08, 0.35, 0.05), 0.0, 0.03, 0.003),
    "brass": ((1, 0.9, 0.8, 0.7, 0.55, 0.4, 0.3, 0.2), 0.0, 0.01, 0.002),
    "flute": ((1, 0.2, 0.08, 0.03, 0.0, 0.0, 0.0, 0.0), 0.0, 0.08, 0.004),
    "drum": ((1, 0.3, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0), 14.0, 0.6, 0.0),
}
# class -> (family, fundamental in Hz): distinct registers so two classes of a family differ
CLASS_SOUND: dict[str, tuple[str, float]] = {
    "accordion": ("reed", 262.0), "acoustic_guitar": ("plucked", 196.0), "bagpipe": ("reed", 466.0),
    "banjo": ("plucked", 392.0), "bassoon": ("reed", 98.0), "cello": ("bowed", 131.0),
    "clarinet": ("reed", 175.0), "congas": ("drum", 220.0), "drum": ("drum", 82.0),
    "electric_bass": ("plucked", 55.0), "erhu": ("bowed", 587.0), "flute": ("flute", 698.0),
    "guzheng": ("plucked", 294.0), "piano": ("struck", 349.0), "pipa": ("plucked", 523.0),
    "saxophone": ("brass", 233.0), "suona": ("reed", 622.0), "trumpet": ("brass", 440.0),
    "tuba": ("brass", 73.0), "ukulele": ("plucked", 440.0), "violin": ("bowed", 659.0),
    "xylophone": ("struck", 880.0),
}
MELODY = np.array([0, 2, 4, 7, 5, 4, 2, 0])  # semitone steps cycled note by note


def _rng(scene: Scene, salt: str) -> np.random.Generator:
    """A generator fixed by the scene and a purpose: re-rendering gives the same file."""
    return np.random.default_rng(zlib.crc32(f"{scene.video_id}:{salt}".encode()))


def segment_gate(mask: str, seconds: int, sample_rate: int) -> np.ndarray:
    """float [seconds * sr]: 1 in the seconds `mask` marks, 0 elsewhere, with FADE ramps."""
    gate = np.repeat(np.array([c == "1" for c in mask[:seconds]], dtype=np.float64), sample_rate)
    ramp = max(1, int(FADE * sample_rate))
    kernel = np.ones(ramp) / ramp
    return np.convolve(gate, kernel, mode="same")


def note_rate(rhythm: float) -> float:
    """Notes per second: 1 (rhythm 0) to 8 (rhythm 1)."""
    return 1.0 + 7.0 * rhythm


def instrument_voice(inst: Instrument, seconds: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """float [seconds * sr]: the instrument playing all the time at unit gain (mask applied later)."""
    family, f0 = CLASS_SOUND[inst.cls]
    harmonics, decay, noise_share, vibrato = FAMILIES[family]
    t = np.arange(seconds * sample_rate) / sample_rate
    rate = note_rate(inst.rhythm)
    note = np.floor(t * rate).astype(int)
    since_onset = t - note / rate
    # pitch follows a short melody; phase is integrated so note changes do not click
    freq = f0 * 2.0 ** (MELODY[note % len(MELODY)] / 12.0) * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    tone = sum(a * np.sin(h * phase) for h, a in enumerate(harmonics, start=1) if a and h * f0 < sample_rate / 2)
    tone = tone + noise_share * rng.standard_normal(t.size) * np.sqrt(sum(a * a for a in harmonics) / 2)
    if decay:  # plucked, struck, drum: every note starts loud and dies away
        envelope = np.exp(-decay * since_onset)
    else:  # sustained families: rhythm digs a dip into each note (legato at 0, staccato at 1)
        depth = 0.85 * inst.rhythm
        envelope = 1 - depth + depth * np.exp(-10.0 * since_onset)
    attack = np.clip(since_onset / 0.005, 0, 1)
    voice = tone * envelope * attack
    return voice / (np.sqrt(np.mean(voice**2)) + 1e-9) * 0.1  # unit loudness = 0.1 RMS


def voiceover_voice(seconds: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """float [seconds * sr]: a talking voice (glottal buzz through vowel formants, 4 syllables/s)."""
    t = np.arange(seconds * sample_rate) / sample_rate
    syllable = np.floor(t * 4.0).astype(int)
    vowels = np.array([(730, 1090), (270, 2290), (300, 870), (530, 1840)])  # a, i, u, e
    formants = vowels[rng.integers(0, len(vowels), syllable.max() + 1)][syllable]  # [S, 2]
    f0 = 120.0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voice = np.zeros_like(t)
    for h in range(1, 30):
        hz = h * f0
        weight = sum(np.exp(-((hz - formants[:, j]) ** 2) / (2 * 90.0**2)) for j in range(2))
        voice += weight * np.sin(h * phase) / np.sqrt(h)
    voice *= np.sin(np.pi * (t * 4.0 % 1.0)) ** 2  # syllable envelope
    return voice / (np.sqrt(np.mean(voice**2)) + 1e-9) * 0.1


def render_audio(scene: Scene, seconds: int = NUM_SEGMENTS, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """float32 [seconds * sr] mono mix of the scene's first `seconds` seconds."""
    rng = _rng(scene, "audio")
    n = seconds * sample_rate
    ambience = rng.standard_normal(n)
    if scene.background == "indoor":  # room: low hum plus faint hiss
        ambience = 0.002 * ambience + 0.004 * np.sin(2 * np.pi * 50 * np.arange(n) / sample_rate)
    else:  # outdoor: wind, i.e. low-passed noise
        ambience = 0.03 * np.convolve(ambience, np.ones(40) / 40, mode="same")
    mix = ambience
    for inst in scene.instruments:
        if inst.sounds:
            gate = segment_gate(inst.sounding, seconds, sample_rate)
            mix = mix + inst.loudness * gate * instrument_voice(inst, seconds, sample_rate, rng)
    if scene.has_voiceover:
        gate = segment_gate(scene.voiceover, seconds, sample_rate)
        mix = mix + 0.8 * gate * voiceover_voice(seconds, sample_rate, rng)
    peak = np.abs(mix).max()
    if peak > PEAK:  # scale the whole clip, so relative loudness survives
        mix = mix * (PEAK / peak)
    return mix.astype(np.float32)


# --- pictures -------------------------------------------------------------------------------
SHAPES = ("rect", "ellipse", "triangle", "diamond", "ring", "cross", "hourglass", "bars")


def class_drawing(cls: str) -> tuple[str, np.ndarray, int]:
    """(shape, RGB colour, number of dark stripes): a distinct drawing for each of the 22 classes."""
    k = INSTRUMENTS.index(cls)
    hue = (k * 7 % len(INSTRUMENTS)) / len(INSTRUMENTS)  # neighbours in the list get far-apart hues
    rgb = np.clip(np.abs(((hue * 6 + np.array([0, 4, 2])) % 6) - 3) - 1, 0, 1)  # HSV(hue, 1, 1)
    color = (0.25 + 0.75 * rgb) * 255
    return SHAPES[k % len(SHAPES)], color, k // len(SHAPES)


def shape_mask(shape: str, h: int, w: int) -> np.ndarray:
    """bool [h, w]: the shape filling an h x w box."""
    y, x = np.mgrid[0:h, 0:w]
    u, v = (x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1  # [-1, 1] box coordinates
    masks = {
        "rect": (np.abs(u) < 0.8) & (np.abs(v) < 0.9),
        "ellipse": u**2 + v**2 < 0.85,
        "triangle": (v > -0.9) & (v < 0.9) & (np.abs(u) < (v + 0.9) / 1.8 * 0.9),
        "diamond": np.abs(u) + np.abs(v) < 0.95,
        "ring": (u**2 + v**2 < 0.9) & (u**2 + v**2 > 0.3),
        "cross": ((np.abs(u) < 0.3) | (np.abs(v) < 0.25)) & (np.abs(u) < 0.9) & (np.abs(v) < 0.9),
        "hourglass": (np.abs(u) < np.abs(v) * 0.9 + 0.1) & (np.abs(v) < 0.9),
        "bars": ((np.floor((u + 1) * 2.5) % 2) == 0) & (np.abs(v) < 0.9),
    }
    return masks[shape]


def background(kind: str, width: int, height: int) -> np.ndarray:
    """float [H, W, 3]: indoor (wall, window, wooden floor) or outdoor (sky, sun, grass)."""
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    if kind == "indoor":
        img = np.where(y < 0.72, np.array([196, 170, 140]), np.array([120, 78, 44])) * np.ones_like(x)
        window = (x > 0.06) & (x < 0.24) & (y > 0.12) & (y < 0.42)
        img = np.where(window, np.array([170, 210, 235]), img)
        img = img * (1 - 0.15 * ((x * 12 % 1) < 0.06) * (y >= 0.72))  # floor boards
    else:
        sky = np.array([90, 150, 230]) * (1 - 0.3 * y) + np.array([0, 40, 25]) * y
        img = np.where(y < 0.65, sky, np.array([70, 150, 60]) * (1.05 - 0.2 * y)) * np.ones_like(x)
        sun = (x - 0.85) ** 2 * (width / height) ** 2 + (y - 0.15) ** 2 < 0.006
        img = np.where(sun, np.array([250, 230, 120]), img)
    return img.astype(np.float64)


def box_pixels(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """Grid box (row0, col0, row1, col1) -> pixel box (y0, x0, y1, x1) over the whole frame."""
    r0, c0, r1, c1 = box
    return (round(r0 * height / GRID), round(c0 * width / GRID), round(r1 * height / GRID), round(c1 * width / GRID))


def render_frames(scene: Scene, seconds: int = NUM_SEGMENTS, fps: int = FPS, size: tuple[int, int] = SIZE):
    """Yield uint8 [H, W, 3] frames, `fps` per second for `seconds` seconds."""
    width, height = size
    base = background(scene.background, width, height)
    sprites = []
    for inst in scene.visible:
        y0, x0, y1, x1 = box_pixels(inst.box, width, height)
        shape, color, stripes = class_drawing(inst.cls)
        mask = shape_mask(shape, y1 - y0, x1 - x0)
        paint = np.broadcast_to(color, (*mask.shape, 3)).copy()
        for s in range(stripes):  # dark horizontal stripes tell apart classes sharing a shape
            row = int((s + 1) / (stripes + 1) * mask.shape[0])
            paint[max(0, row - 1) : row + 2] *= 0.35
        sprites.append((inst, (y0, x0, y1, x1), mask, paint))
    for i in range(seconds * fps):
        t, second = i / fps, i // fps
        img = base.copy()
        for inst, (y0, x0, y1, x1), mask, paint in sprites:
            playing = inst.sounding[second] == "1"
            # a playing instrument is bright and bobs at its note rate; a silent one is dim and still
            shift = int(round(2 * np.sin(2 * np.pi * note_rate(inst.rhythm) * t))) if playing else 0
            ys, ye = max(0, y0 + shift), min(height, y1 + shift)
            m = mask[ys - y0 - shift : ye - y0 - shift]
            region = img[ys:ye, x0:x1]
            region[m] = paint[ys - y0 - shift : ye - y0 - shift][m] * (1.0 if playing else 0.5)
        yield np.clip(img, 0, 255).astype(np.uint8)


# --- files ----------------------------------------------------------------------------------
def write_mp4(path: Path, frames, audio: np.ndarray, fps: int, size: tuple[int, int], sample_rate: int) -> None:
    """Mux frames (H.264, yuv420p) and mono audio (AAC) into `path`, via a temp file + rename."""
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    with av.open(str(tmp), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.options = {"crf": "20", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=sample_rate)
        sound.layout = "mono"
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode())
        for start in range(0, len(audio), 1024):
            chunk = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = sample_rate, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode())
    tmp.replace(path)


def render_scene(
    scene: Scene,
    out_dir: str | Path,
    seconds: int = NUM_SEGMENTS,
    fps: int = FPS,
    size: tuple[int, int] = SIZE,
    wav: bool = True,
) -> Path:
    """Write `<out_dir>/<video_id>.mp4` (and `.wav`, 16 kHz PCM-16); return the MP4 path."""
    if not 1 <= seconds <= NUM_SEGMENTS:
        raise ValueError(f"seconds must be in 1..{NUM_SEGMENTS}, got {seconds}")
    if size[0] % 2 or size[1] % 2:
        raise ValueError(f"frame size must be even for yuv420p, got {size[0]}x{size[1]}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    audio = render_audio(scene, seconds, SAMPLE_RATE)
    mp4 = out_dir / f"{scene.video_id}.mp4"
    write_mp4(mp4, render_frames(scene, seconds, fps, size), audio, fps, size, SAMPLE_RATE)
    if wav:
        tmp = out_dir / f".{scene.video_id}.tmp.wav"
        sf.write(str(tmp), audio, SAMPLE_RATE, subtype="PCM_16")
        tmp.replace(out_dir / f"{scene.video_id}.wav")
    return mp4


# --- `sasr-lite render` -----------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenes", type=Path,
                        help="a scenes/<split>.json file, or a synthetic benchmark folder (with --split)")
    parser.add_argument("--split", default="test", help="split to read when SCENES is a folder (default test)")
    parser.add_argument("--out", type=Path, required=True, help="folder for <video_id>.mp4 and .wav")
    parser.add_argument("--ids", nargs="+", help="render only these video ids")
    parser.add_argument("--limit", type=int, default=None, help="render at most this many scenes")
    parser.add_argument("--seconds", type=int, default=NUM_SEGMENTS, help="clip length, 1..60 (default 60)")
    parser.add_argument("--fps", type=int, default=FPS, help=f"frames per second (default {FPS})")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="WIDTHxHEIGHT, even numbers")
    parser.add_argument("--no-wav", action="store_true", help="write the MP4 only")


def run(args: argparse.Namespace) -> int:
    path = args.scenes / "scenes" / f"{args.split}.json" if args.scenes.is_dir() else args.scenes
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        scenes = load_scenes(path)
    except (ValueError, FileNotFoundError) as err:
        print(f"sasr-lite render: error: {err}", file=sys.stderr)
        return 2
    if args.ids:
        unknown = sorted(set(args.ids) - {s.video_id for s in scenes})
        if unknown:
            print(f"sasr-lite render: error: ids not in {path}: {unknown[:10]}", file=sys.stderr)
            return 2
        scenes = [s for s in scenes if s.video_id in set(args.ids)]
    scenes = scenes[: args.limit]
    for scene in tqdm(scenes, desc="render", unit="video"):
        render_scene(scene, args.out, args.seconds, args.fps, (width, height), wav=not args.no_wav)
    print(f"rendered {len(scenes)} scenes from {path} -> {args.out}", file=sys.stderr)
    return 0
