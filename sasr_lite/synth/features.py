"""Features of a synthetic scene, with the shapes and value ranges of the real ones.

Visual maps ``[T, P, 512]`` (like ResNet-18 layer4, post-ReLU, P = 14 x 14, p = row * 14 + col):

- every instrument class c has a non-negative prototype ``V_c`` [512]; an instance paints
  ``V_c`` times its own per-channel variation on its box cells (edge rows blend with the
  background); while it plays, its cells change visibly: ``PLAY_GAIN * V + motion``, so
  audio-guided spatial attention has something to find (with the cue ``playing_in_pooled`` off
  a playing instrument looks as an idle one);
- the background (indoor or outdoor prototype, varied per video) fills the other cells, plus
  clutter patches (random non-instrument vectors) whose number grows with ``difficulty``;
- each column multiplies the channels by a fixed gain pattern (`position_gain`): CNN maps
  carry absolute position, and this is what makes "left"/"right" readable after pooling;
  with the cue ``position_in_pooled`` off (synth/cues.py) the column adds the class-independent
  code ``(position_gain - 1 + POSITION_DEPTH) * mean_c V_c`` (>= 0) instead, which every video pools to the same constant;
- with the cue ``time_in_features`` on, every cell of segment t also gets the drift
  `time_code` (the same in every video and every cell: it says when, never where);
- Gaussian noise (std ``VISUAL_NOISE * difficulty``, drawn once per renderer into a float16
  bank and sliced per video), then ReLU. Values: mean about 0.5, mostly within [0, 3].
- pooled visual ``[T, 512]`` = the spatial mean of the maps (as the reference pipeline; taken
  before the float16 rounding, so it matches the stored maps to about 1e-4).

Audio ``[T, 128]`` (like VGGish embeddings, non-negative, mostly within [0, 3]) at each kept segment:

    a_t = ambience + sum_{i sounding at t} (loudness_i * g_i,t * timbre_i + rhythm_i * R_c(i))
          + voiceover_t * voice + noise [+ drift_t],   g_i,t = 1 + RHYTHM_MOD * rhythm_i * n_i,t

(drift_t: `time_code`, with the cue ``time_in_features`` on).

The timbre of a class is tied to its look by a fixed random linear map followed by ReLU,
``timbre_c ~ ReLU(W (V_c - mean V))``, so the audio-visual match is learnable. ``R_c``
(rhythm signature) is a second such map: louder and more rhythmic are readable per class.
Off-screen instruments add their sound only; a voiceover adds a speech vector tied to no
class. ``difficulty`` scales every noise and the clutter (0 gives clean features).

The "world" (prototypes, timbres, gains) comes from a fixed seed, independent of the
generation seed, so benchmarks generated with different seeds share one physics.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from sasr_lite.data.taxonomy import BACKGROUNDS, INSTRUMENTS
from sasr_lite.synth.cues import CLASSIC_CUES, Cues
from sasr_lite.synth.scenes import GRID, NUM_POSITIONS, NUM_SEGMENTS, Scene

WORLD_SEED = 20241111
AUDIO_DIM, VISUAL_DIM = 128, 512
PLAY_GAIN = 1.25  # an instrument's cells brighten while it plays ...
MOTION_SCALE = 0.6  # ... and gain a "moving hands" pattern shared by all classes
EDGE_BLEND = 0.6  # first and last box rows: 0.6 instrument + 0.4 background
POSITION_DEPTH = 0.35  # column gains lie in 1 +- 0.35
VISUAL_NOISE = 0.3  # map noise std at difficulty 1
CLUTTER_RATE = 1.5  # mean clutter patches per video at difficulty 1
TIMBRE_NORM, RHYTHM_NORM, VOICE_NORM = 4.0, 2.5, 4.0
RHYTHM_MOD = 0.5  # amplitude modulation depth per unit rhythm
AUDIO_NOISE = 0.08  # audio noise std at difficulty 1
TIME_NORM_AUDIO, TIME_NORM_VISUAL = 2.0, 4.0  # size of the drift patterns (cue time_in_features)
TIME_STREAM = 0x7133  # the drift patterns' random stream, apart from the world's first draws
NOISE_BANK = 1 << 24  # float16 noise values drawn once per renderer (32 MB)


@dataclass(frozen=True)
class World:
    """The fixed prototypes every synthetic video is made of."""

    visual_protos: np.ndarray  # [22, 512] >= 0, one per instrument class
    background_protos: np.ndarray  # [2, 512] >= 0, indoor and outdoor
    motion: np.ndarray  # [512] >= 0, added to a playing instrument's cells
    position_gain: np.ndarray  # [14, 512] per-column channel gains
    audio_from_visual: np.ndarray  # [128, 512] W: timbre_c ~ ReLU(W (V_c - mean V))
    timbre: np.ndarray  # [22, 128] >= 0
    rhythm_signature: np.ndarray  # [22, 128] >= 0
    voice: np.ndarray  # [128] >= 0
    ambience: np.ndarray  # [128] >= 0, the audio of silence
    time_audio: np.ndarray  # [2, 128] >= 0: the audio drift's start and end patterns (cue time_in_features)
    time_visual: np.ndarray  # [2, 512] >= 0: the same for every map cell


def _unit_rows(x: np.ndarray, norm: float) -> np.ndarray:
    return (norm * x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=4)
def make_world(seed: int = WORLD_SEED) -> World:
    """The world of ``seed`` (cached; arrays must not be modified)."""
    rng = np.random.default_rng(seed)
    C = len(INSTRUMENTS)
    shared = rng.standard_normal(VISUAL_DIM)  # what all instruments have in common
    visual = np.maximum(0.35 * shared + rng.standard_normal((C, VISUAL_DIM)), 0)
    background = 0.5 * np.maximum(rng.standard_normal((len(BACKGROUNDS), VISUAL_DIM)), 0)
    motion = MOTION_SCALE * np.maximum(rng.standard_normal(VISUAL_DIM), 0)
    # triangular bumps centred on the left, middle and right thirds of the grid, each with a
    # random +-1 channel pattern: a cell's gain says roughly which column it sits in
    cols = np.arange(GRID)[:, None]
    bumps = np.maximum(0, 1 - np.abs(cols - np.array([2.0, 6.5, 11.0])) / 4.5)  # [14, 3]
    signs = rng.choice([-1.0, 1.0], size=(3, VISUAL_DIM))
    gain = 1 + POSITION_DEPTH * np.clip(bumps @ signs, -1, 1)
    centred = visual - visual.mean(axis=0)
    W = rng.standard_normal((AUDIO_DIM, VISUAL_DIM)) / np.sqrt(VISUAL_DIM)
    W_rhythm = rng.standard_normal((AUDIO_DIM, VISUAL_DIM)) / np.sqrt(VISUAL_DIM)
    # a stream of its own, so the arrays above are the same draws as before the time cue existed
    drift = np.random.default_rng([seed, TIME_STREAM])
    return World(
        visual_protos=visual.astype(np.float32),
        background_protos=background.astype(np.float32),
        motion=motion.astype(np.float32),
        position_gain=gain.astype(np.float32),
        audio_from_visual=W.astype(np.float32),
        timbre=_unit_rows(np.maximum(centred @ W.T, 0), TIMBRE_NORM),
        rhythm_signature=_unit_rows(np.maximum(centred @ W_rhythm.T, 0), RHYTHM_NORM),
        voice=_unit_rows(np.maximum(rng.standard_normal(AUDIO_DIM), 0), VOICE_NORM),
        ambience=(0.15 + 0.1 * np.abs(rng.standard_normal(AUDIO_DIM))).astype(np.float32),
        time_audio=_unit_rows(np.maximum(drift.standard_normal((2, AUDIO_DIM)), 0), TIME_NORM_AUDIO),
        time_visual=_unit_rows(np.maximum(drift.standard_normal((2, VISUAL_DIM)), 0), TIME_NORM_VISUAL),
    )


def time_code(patterns: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """[T, dim]: the drift at each kept segment, moving linearly from ``patterns[0]`` (the first
    second) to ``patterns[1]`` (the last), the same in every video (cue ``time_in_features``)."""
    s = (np.asarray(segments, dtype=np.float32) / (NUM_SEGMENTS - 1))[:, None]
    return (1 - s) * patterns[0] + s * patterns[1]


@contextmanager
def one_thread():
    """Run torch on one thread: per-video tensors are small, and extra threads only spin
    against the other processes on a busy machine (25 ms instead of 2 ms per video here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class SceneFeatures:
    audio: np.ndarray  # [T, 128] float32
    visual: np.ndarray  # [T, 512] float32, spatial mean of maps
    maps: np.ndarray  # [T, P, 512] float16


class FeatureRenderer:
    """Renders scenes to features at the kept ``segments``; reuses one work buffer.

    >>> renderer = FeatureRenderer(segments=kept_segments(6), difficulty=1.0, seed=0)
    >>> f = renderer.render(scene, np.random.default_rng(0))   # f.maps [10, 196, 512] float16
    """

    def __init__(self, segments, difficulty: float = 1.0, seed: int = 0, world: World | None = None,
                 bank_size: int = NOISE_BANK, cues: Cues = CLASSIC_CUES):
        if difficulty < 0:
            raise ValueError(f"difficulty must be >= 0, got {difficulty}")
        self.segments = np.asarray(segments, dtype=np.int64)
        self.difficulty = float(difficulty)
        self.world = world or make_world()
        self.cues = cues
        T = len(self.segments)
        # The heavy per-cell arithmetic runs in torch: numpy's float16 conversions are ~10x
        # slower on CPU. One float32 work buffer is reused for every video.
        self._work = torch.empty((T, NUM_POSITIONS, VISUAL_DIM), dtype=torch.float32)
        # Noise for every map is sliced from one float16 bank drawn in bulk: drawing 1M fresh
        # normals per video would dominate the generation time.
        size = max(bank_size, 2 * self._work.numel())
        bank = np.random.default_rng([seed, 0xBA4C]).standard_normal(size, dtype=np.float32)
        self._bank = (torch.from_numpy(bank) * (VISUAL_NOISE * self.difficulty)).to(torch.float16)

    def render(self, scene: Scene, rng: np.random.Generator) -> SceneFeatures:
        with one_thread():
            maps = self.visual_maps(scene, rng)
            visual = self._work.mean(dim=1).numpy()  # global average pooling over P (of the ReLU'd maps)
        return SceneFeatures(audio=self.audio(scene, rng), visual=visual, maps=maps)

    def visual_maps(self, scene: Scene, rng: np.random.Generator) -> np.ndarray:
        """float16 [T, P, 512]: painted prototypes x column gain + noise, then ReLU.

        The float32 maps before rounding stay in the work buffer until the next call."""
        w = self.world
        T, P, D = self._work.shape
        background = w.background_protos[BACKGROUNDS.index(scene.background)]
        background = np.maximum(background * (1 + 0.2 * rng.standard_normal(D)), 0)
        # rows of a small table of cell vectors: background, clutter, then per instrument
        # (idle, playing) x (inner, edge); every cell of every segment indexes one row
        rows = [background]
        row_of = np.zeros((T, P), dtype=np.int64)
        for _ in range(rng.poisson(CLUTTER_RATE * self.difficulty)):
            r, c = rng.integers(0, GRID - 1, size=2)
            patch = np.array([r * GRID + c, r * GRID + c + 1, (r + 1) * GRID + c, (r + 1) * GRID + c + 1])
            row_of[:, patch] = len(rows)
            rows.append(0.7 * np.maximum(rng.standard_normal(D), 0))
        for inst in scene.visible:
            look = w.visual_protos[INSTRUMENTS.index(inst.cls)] * np.maximum(1 + 0.2 * rng.standard_normal(D), 0)
            playing = PLAY_GAIN * look + w.motion if self.cues.playing_in_pooled else look
            base = len(rows)
            rows += [look, playing, EDGE_BLEND * look + (1 - EDGE_BLEND) * background,
                     EDGE_BLEND * playing + (1 - EDGE_BLEND) * background]
            r0, c0, r1, c1 = inst.box
            cells = inst.cells()
            edge = ((cells // GRID == r0) | (cells // GRID == r1 - 1)).astype(np.int64)
            plays = inst.mask[self.segments].astype(np.int64)  # [T]
            row_of[:, cells] = base + plays[:, None] + 2 * edge[None, :]
        # table [R, 14, D] of every row at every column; the index picks (row, column)
        table = (self._with_position(np.stack(rows)[:, None, :])).reshape(-1, D).astype(np.float32)
        flat_index = row_of * GRID + (np.arange(P) % GRID)[None, :]
        work = self._work
        # mode="clip": indices are valid by construction, and "raise" would buffer the output
        np.take(table, flat_index.ravel(), axis=0, out=work.numpy().reshape(T * P, D), mode="clip")
        if self.cues.time_in_features:  # every cell drifts alike: pooling keeps it, it says no place
            work.add_(torch.from_numpy(time_code(w.time_visual, self.segments))[:, None, :])
        start = int(rng.integers(0, self._bank.numel() - work.numel() + 1))
        work.add_(self._bank[start: start + work.numel()].view(T, P, D))
        work.clamp_(min=0)  # ReLU
        return work.to(torch.float16).numpy()

    def _with_position(self, rows: np.ndarray) -> np.ndarray:
        """[R, 1, D] cell vectors -> [R, 14, D]: each at every column, position bound to the content
        (x gain: survives pooling) or added to it (+ a code shared by all cells: pools to a constant)."""
        w = self.world
        if self.cues.position_in_pooled:
            return rows * w.position_gain[None]
        # non-negative, so the ReLU never clips it and the cells pool to content + a constant
        code = (w.position_gain - 1 + POSITION_DEPTH) * w.visual_protos.mean(axis=0)  # [14, D]
        return rows + code[None]

    def audio(self, scene: Scene, rng: np.random.Generator) -> np.ndarray:
        """float32 [T, 128]: ambience + sounding instruments + voiceover + noise, >= 0."""
        w = self.world
        T = len(self.segments)
        room = self.difficulty * 0.1 * np.maximum(rng.standard_normal(AUDIO_DIM), 0)  # per-video ambience
        audio = np.tile(w.ambience + room, (T, 1))
        for inst in scene.instruments:
            c = INSTRUMENTS.index(inst.cls)
            timbre = w.timbre[c] * np.maximum(1 + 0.1 * rng.standard_normal(AUDIO_DIM), 0)
            plays = inst.mask[self.segments][:, None]  # [T, 1]
            beat = np.maximum(1 + RHYTHM_MOD * inst.rhythm * rng.standard_normal((T, 1)), 0.2)  # g_i,t
            audio += plays * (inst.loudness * beat * timbre + inst.rhythm * w.rhythm_signature[c])
        voice_level = rng.uniform(0.6, 1.0)
        speaking = (np.frombuffer(scene.voiceover.encode(), np.uint8)[self.segments] == ord("1"))[:, None]
        audio += speaking * voice_level * w.voice * (1 + 0.1 * rng.standard_normal((T, 1)))
        audio += AUDIO_NOISE * self.difficulty * rng.standard_normal((T, AUDIO_DIM))
        if self.cues.time_in_features:
            audio += time_code(w.time_audio, self.segments)
        return np.maximum(audio, 0).astype(np.float32)
