"""Synthetic concert scenes: what is where, what sounds when, how loud and how rhythmic.

A scene is the ground truth of one synthetic video. Features (`features.py`), questions and
answers (`questions.py`), attention ground truth (`ground_truth.py`) and rendered media
(`media.py`) are all computed from it, so a scene file is the single source of truth.

Schema of ``scenes/<split>.json`` (version 1; stable, read by `media.py`)::

    {
      "format": "sasr-lite-synthetic-scenes", "version": 1, "split": "train",
      "num_segments": 60,        # one-second segments per video, as MUSIC-AVQA's features
      "block": 6,                # sounding masks change only at multiples of 6 segments
      "grid": 14,                # the 14 x 14 ResNet-18 layer4 grid; position p = row * 14 + col
      "scenes": [
        {
          "video_id": "00000012",
          "background": "indoor",                  # "indoor" | "outdoor"
          "voiceover": "000000111111000...",      # 60 chars, "1" = someone speaks in that segment
          "instruments": [                         # visible ones first, ordered by x, then off-screen
            {
              "class": "violin",                   # a MUSIC-AVQA class (of synth.json's "instruments")
              "visible": true,                     # false: heard but off-screen (x, side, box null)
              "x": 0.214,                          # horizontal centre in [0, 1]; orders left -> right
              "side": "left",                      # "left" x < 1/3 | "middle" | "right" x >= 2/3
              "box": [3, 2, 11, 5],                # [row0, col0, row1, col1] on the grid, ends excluded
              "sounding": "111111111111000...",   # 60 chars, "1" = it plays in that segment
              "loudness": 0.82,                    # linear gain in [0.3, 1]; >= 0.1 apart within a scene
              "rhythm": 0.35                       # rhythmicity in [0, 1]; >= 0.14 apart within a scene
            }
          ]
        }
      ]
    }

Why masks move in 6-second blocks: training keeps every 6th segment (T = 10), so an entry,
exit or silence that fell between two kept segments would make an answer undecidable from
the features. With block-aligned events every answer is visible at strides 1, 2, 3 and 6.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from sasr_lite.data.files import read_json, write_text_atomic
from sasr_lite.data.taxonomy import BACKGROUNDS, INSTRUMENTS
from sasr_lite.synth.cues import CLASSIC_CUES, Cues

SCENE_FORMAT = "sasr-lite-synthetic-scenes"
SCENE_VERSION = 1
NUM_SEGMENTS = 60  # one-second segments per video
BLOCK = 6  # sounding masks are constant within 6-segment blocks
NUM_BLOCKS = NUM_SEGMENTS // BLOCK
GRID = 14  # map side: P = GRID * GRID positions, p = row * GRID + col
NUM_POSITIONS = GRID * GRID
BOX_WIDTH = 3  # columns per instrument box
LOUDNESS_RANGE, LOUDNESS_GAP = (0.3, 1.0), 0.1
RHYTHM_RANGE, RHYTHM_GAP = (0.0, 1.0), 0.14
X_RANGE, X_GAP = (0.1, 0.9), 0.23  # boxes 3 columns wide never overlap at this gap
# a scene holds up to 5 distinct classes (4 visible + 1 off-screen) and the two-instrument
# questions also name 2 absent ones, so a benchmark needs at least 7 classes to draw from
MIN_INSTRUMENTS = 7


def check_instruments(instruments) -> tuple[str, ...]:
    """The classes a benchmark draws its scenes from, checked: known, distinct, at least 7."""
    instruments = tuple(instruments)
    unknown = [c for c in instruments if c not in INSTRUMENTS]
    if unknown:
        raise ValueError(f"unknown instrument classes {unknown}; the 22 MUSIC-AVQA classes are {list(INSTRUMENTS)}")
    if len(set(instruments)) != len(instruments):
        raise ValueError(f"instrument classes must be distinct, got {list(instruments)}")
    if len(instruments) < MIN_INSTRUMENTS:
        raise ValueError(f"a benchmark needs at least {MIN_INSTRUMENTS} instrument classes (a scene holds up to 5 "
                         f"and questions name 2 absent ones), got {len(instruments)}")
    return instruments


def kept_segments(stride: int = 6) -> tuple[int, ...]:
    """The segments a store keeps: 0, stride, 2 * stride, ... (stride must divide the block)."""
    if stride < 1 or BLOCK % stride:
        raise ValueError(f"stride must divide the {BLOCK}-segment block (1, 2, 3 or 6), got {stride}")
    return tuple(range(0, NUM_SEGMENTS, stride))


def side_of(x: float) -> str:
    """"left" for x < 1/3, "right" for x >= 2/3, else "middle"."""
    return "left" if x < 1 / 3 else "right" if x >= 2 / 3 else "middle"


@dataclass(frozen=True)
class Instrument:
    """One sound source; visible ones have a position and a box, off-screen ones do not."""

    cls: str
    visible: bool
    x: float | None
    side: str | None
    box: tuple[int, int, int, int] | None  # (row0, col0, row1, col1), ends excluded
    sounding: str  # NUM_SEGMENTS characters of "0"/"1"
    loudness: float
    rhythm: float

    @cached_property
    def mask(self) -> np.ndarray:
        """bool [60]: segments in which it plays (read-only)."""
        mask = np.frombuffer(self.sounding.encode(), dtype=np.uint8) == ord("1")
        mask.flags.writeable = False
        return mask

    @cached_property
    def bits(self) -> int:
        """The mask as an integer, bit s = segment s (fast unions and overlaps)."""
        return int(self.sounding[::-1], 2)

    @property
    def sounds(self) -> bool:
        return "1" in self.sounding

    @property
    def always(self) -> bool:
        return "0" not in self.sounding

    @property
    def onset(self) -> int | None:
        """First sounding segment (None when silent)."""
        i = self.sounding.find("1")
        return None if i < 0 else i

    @property
    def duration(self) -> int:
        return self.sounding.count("1")

    def cells(self) -> np.ndarray:
        """int [n]: grid positions p = row * 14 + col covered by the box (empty when off-screen)."""
        if self.box is None:
            return np.zeros(0, dtype=np.int64)
        r0, c0, r1, c1 = self.box
        rows, cols = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        return (rows * GRID + cols).ravel()

    def to_dict(self) -> dict:
        return {
            "class": self.cls, "visible": self.visible, "x": self.x, "side": self.side,
            "box": None if self.box is None else list(self.box), "sounding": self.sounding,
            "loudness": self.loudness, "rhythm": self.rhythm,
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "instrument") -> "Instrument":
        try:
            inst = cls(
                cls=str(d["class"]), visible=bool(d["visible"]),
                x=None if d["x"] is None else float(d["x"]), side=d["side"],
                box=None if d["box"] is None else tuple(int(v) for v in d["box"]),
                sounding=str(d["sounding"]), loudness=float(d["loudness"]), rhythm=float(d["rhythm"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{where}: malformed instrument ({err!r}): {d}") from None
        inst.validate(where)
        return inst

    def validate(self, where: str = "instrument") -> None:
        """ValueError naming ``where`` when a field is out of the schema."""
        problems = []
        if self.cls not in INSTRUMENTS:
            problems.append(f"unknown class {self.cls!r}")
        if len(self.sounding) != NUM_SEGMENTS or set(self.sounding) - {"0", "1"}:
            problems.append(f"sounding must be {NUM_SEGMENTS} characters of 0/1")
        if self.visible:
            if self.x is None or not 0 <= self.x <= 1:
                problems.append(f"x must be in [0, 1], got {self.x}")
            elif self.side != side_of(self.x):
                problems.append(f"side {self.side!r} disagrees with x = {self.x}")
            if self.box is None or len(self.box) != 4 or not (
                    0 <= self.box[0] < self.box[2] <= GRID and 0 <= self.box[1] < self.box[3] <= GRID):
                problems.append(f"box must be [row0, col0, row1, col1] inside the {GRID}x{GRID} grid")
        elif (self.x, self.side, self.box) != (None, None, None):
            problems.append("an off-screen instrument has x, side and box null")
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))


@dataclass(frozen=True)
class Scene:
    """One synthetic video: background, voiceover and instruments (visible first, by x)."""

    video_id: str
    background: str
    instruments: tuple[Instrument, ...]
    voiceover: str = "0" * NUM_SEGMENTS
    visible: tuple[Instrument, ...] = field(init=False, repr=False, compare=False)
    heard: tuple[Instrument, ...] = field(init=False, repr=False, compare=False)  # sound at least once

    def __post_init__(self) -> None:
        object.__setattr__(self, "visible", tuple(i for i in self.instruments if i.visible))
        object.__setattr__(self, "heard", tuple(i for i in self.instruments if i.sounds))

    @property
    def offscreen(self) -> tuple[Instrument, ...]:
        return tuple(i for i in self.instruments if not i.visible)

    @property
    def has_voiceover(self) -> bool:
        return "1" in self.voiceover

    def to_dict(self) -> dict:
        return {
            "video_id": self.video_id, "background": self.background, "voiceover": self.voiceover,
            "instruments": [i.to_dict() for i in self.instruments],
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "scene") -> "Scene":
        try:
            where = f"{where} ({d['video_id']})"
            instruments = tuple(
                Instrument.from_dict(item, f"{where} instrument {k}") for k, item in enumerate(d["instruments"]))
            scene = cls(str(d["video_id"]), str(d["background"]), instruments, str(d["voiceover"]))
        except (KeyError, TypeError) as err:
            raise ValueError(f"{where}: malformed scene ({err!r})") from None
        scene.validate(where)
        return scene

    def validate(self, where: str = "scene") -> None:
        problems = []
        if self.background not in BACKGROUNDS:
            problems.append(f"background must be one of {BACKGROUNDS}, got {self.background!r}")
        if len(self.voiceover) != NUM_SEGMENTS or set(self.voiceover) - {"0", "1"}:
            problems.append(f"voiceover must be {NUM_SEGMENTS} characters of 0/1")
        xs = [i.x for i in self.visible]
        if not self.visible:
            problems.append("a scene has at least one visible instrument")
        elif xs != sorted(xs) or list(self.instruments[: len(xs)]) != list(self.visible):
            problems.append("visible instruments come first, ordered by x")
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))


# --- sampling -----------------------------------------------------------------------------------
# Visible instruments per scene (1..4) and how a sounding pattern is drawn. The proportions
# make every template answerable often enough for the answer balancing in `questions.py`.
NUM_VISIBLE_P = (0.2, 0.3, 0.3, 0.2)
REPEAT_P = 0.45  # a scene with >= 2 instruments repeats a class ("How many <Object>" > one)
OFFSCREEN_P = 0.35
VOICEOVER_P = 0.5
SILENT_P = 0.12  # a visible instrument that never plays
START_P = 0.45  # plays from the first block; otherwise it comes in at block 1..5
# An instrument that opens the piece often hands over and leaves; one that comes in later
# tends to stay. Without this, the first to come in would almost always be the one that plays
# longest, and "first"/"<TH>" questions would be answerable from time-pooled features.
LEAVE_P = {True: 0.75, False: 0.1}  # by "started at block 0"
PAUSE_P = 0.2  # a pause of 1-3 blocks somewhere after its second block
TURN_STREAM = 0x7A4E  # the random stream of who plays a block (cue several_at_once off)


def _spread(rng: np.random.Generator, n: int, low: float, high: float, gap: float) -> np.ndarray:
    """n sorted values in [low, high], consecutive ones at least ``gap`` apart, without rejection."""
    slack = (high - low) - gap * (n - 1)
    return low + np.sort(rng.uniform(0.0, slack, n)) + gap * np.arange(n)


def _blocks(rng: np.random.Generator, can_be_silent: bool, cues: Cues = CLASSIC_CUES) -> np.ndarray:
    """bool [NUM_BLOCKS]: the blocks an instrument sounds in (entries, exits, pauses, silence).

    ``cues`` (synth/cues.py) sets whether it may stay silent and whether it may leave; the random
    draws are the same either way, so only those outcomes change."""
    on = np.zeros(NUM_BLOCKS, dtype=bool)
    if can_be_silent and rng.random() < (SILENT_P if cues.silent_visible else 0.0):
        return on
    onset = 0 if rng.random() < START_P else int(rng.integers(1, 6))
    leave_p = 0.0 if cues.order_in_time_average else LEAVE_P[onset == 0]
    stop = int(rng.integers(onset + 1, NUM_BLOCKS)) if rng.random() < leave_p else NUM_BLOCKS
    on[onset:stop] = True
    if stop - onset >= 4 and rng.random() < PAUSE_P:
        pause = int(rng.integers(onset + 2, stop - 1))
        on[pause: min(stop - 1, pause + int(rng.integers(1, 4)))] = False
    return on


def _take_turns(masks: list[np.ndarray], video_id: str) -> list[np.ndarray]:
    """The masks with one source per block: where several would play, one of them (drawn per
    block) is heard and the others rest (cue ``several_at_once`` off).

    The draws come from a stream of the video's own (seeded by its id), so the scene's other
    draws are the same as with the cue on."""
    turns = np.random.default_rng([TURN_STREAM, zlib.crc32(video_id.encode())])
    playing = np.stack(masks)  # [S, NUM_BLOCKS]
    owner = np.array([turns.choice(np.flatnonzero(col)) if col.any() else -1 for col in playing.T])
    return [owner == k for k in range(len(masks))]


def _mask_string(blocks: np.ndarray) -> str:
    return "".join("1" if b else "0" for b in np.repeat(blocks, BLOCK))


def sample_scene(rng: np.random.Generator, video_id: str, instruments: tuple[str, ...] = INSTRUMENTS,
                 cues: Cues = CLASSIC_CUES) -> Scene:
    """Draw one scene (see the module docstring for what each field means) whose instruments are
    drawn from ``instruments`` (by default all 22 classes; see `check_instruments`). ``cues``
    switches silent visible instruments, off-screen ones and leaving (synth/cues.py); with the
    defaults the draws are the benchmark's as always."""
    n = int(rng.choice(4, p=NUM_VISIBLE_P)) + 1
    classes = list(rng.choice(len(instruments), size=n, replace=False))
    if n >= 2 and rng.random() < REPEAT_P:  # one class appears two (or three) times
        repeats = 2 if n < 4 or rng.random() < 0.7 else 3
        classes[1:repeats] = [classes[0]] * (repeats - 1)
        rng.shuffle(classes)
    has_offscreen = rng.random() < (OFFSCREEN_P if cues.offscreen else 0.0)
    num_sources = n + has_offscreen
    # an off-screen instrument exists only because it is heard: never silent
    masks = [_blocks(rng, can_be_silent=k < n, cues=cues) for k in range(num_sources)]
    if not cues.several_at_once:
        masks = _take_turns(masks, video_id)
    if not any(m.any() for m in masks):
        masks[int(rng.integers(num_sources))][:] = True
    loudness = rng.permutation(_spread(rng, num_sources, *LOUDNESS_RANGE, LOUDNESS_GAP + 0.01))
    rhythm = rng.permutation(_spread(rng, num_sources, *RHYTHM_RANGE, RHYTHM_GAP + 0.01))
    xs = np.round(_spread(rng, n, *X_RANGE, X_GAP), 3)
    sources = []
    for k in range(num_sources):
        visible = k < n
        box = x = side = None
        if visible:
            x = float(xs[k])
            col = int(x * GRID)
            row0 = int(rng.integers(1, 6))
            box = (row0, col - 1, min(GRID, row0 + int(rng.integers(6, 10))), col - 1 + BOX_WIDTH)
            side = side_of(x)
            cls = instruments[classes[k]]
        else:  # off-screen: a class no visible instrument has, so "is this sound from the video" is decidable
            cls = instruments[int(rng.choice(sorted(set(range(len(instruments))) - set(classes))))]
        sources.append(Instrument(
            cls=cls, visible=visible, x=x, side=side, box=box, sounding=_mask_string(masks[k]),
            loudness=round(float(loudness[k]), 2), rhythm=round(float(rhythm[k]), 2)))
    voice = np.zeros(NUM_BLOCKS, dtype=bool)
    if rng.random() < VOICEOVER_P:
        start = int(rng.integers(0, 8))
        voice[start: start + rng.integers(2, 6)] = True
    background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    return Scene(video_id, background, tuple(sources), _mask_string(voice))


# --- files --------------------------------------------------------------------------------------
def save_scenes(path: str | Path, split: str, scenes: list[Scene]) -> Path:
    """Write ``scenes/<split>.json`` atomically (schema in the module docstring)."""
    head = {
        "format": SCENE_FORMAT, "version": SCENE_VERSION, "split": split,
        "num_segments": NUM_SEGMENTS, "block": BLOCK, "grid": GRID,
    }
    # one scene per line: diff-friendly and a fraction of the size of fully indented JSON
    lines = [json.dumps(head)[:-1] + ', "scenes": [']
    lines += [json.dumps(s.to_dict()) + ("," if k < len(scenes) - 1 else "") for k, s in enumerate(scenes)]
    return write_text_atomic(path, "\n".join(lines) + "\n]}\n")


def load_scenes(path: str | Path) -> list[Scene]:
    """Read a scene file; errors name the file and the scene."""
    path = Path(path)
    doc = read_json(path, "scene file")
    if not isinstance(doc, dict) or doc.get("format") != SCENE_FORMAT:
        raise ValueError(f"{path}: not a {SCENE_FORMAT} file")
    if doc.get("version") != SCENE_VERSION:
        raise ValueError(f"{path}: scene schema version {doc.get('version')}, this code reads {SCENE_VERSION}")
    return [Scene.from_dict(d, f"{path} scene {k}") for k, d in enumerate(doc["scenes"])]


def scene_index(scenes: list[Scene]) -> dict[str, Scene]:
    """video_id -> Scene."""
    return {s.video_id: s for s in scenes}

