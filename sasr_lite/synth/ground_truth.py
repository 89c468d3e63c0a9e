"""Where and when to look: attention ground truth of the synthetic benchmark.

Evaluation grades the model's attention maps against these masks:

- `sounding_box_mask(scene, segments)` bool [T, P]: at each kept segment, the grid cells of
  the visible instruments that sound then (the target of audio-guided spatial attention;
  a row is all False when nothing visible sounds, e.g. only an off-screen instrument).
- `question_segments(scene, record)` bool [T]: the kept segments the question is about (the
  target of question-guided temporal attention): where the instruments it names or asks for
  sound, the blocks where they come in for order questions ("first", "<TH>", "before"), and
  every segment for questions about the whole video or the static picture.

Positions follow the store: p = row * 14 + col. ``segments`` are the kept segment indices
(`scenes.kept_segments(stride)`, by default 0, 6, ..., 54).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sasr_lite.synth.questions import resolve
from sasr_lite.synth.scenes import NUM_POSITIONS, Scene, kept_segments


def sounding_box_mask(scene: Scene, segments: Sequence[int] | None = None) -> np.ndarray:
    """bool [T, P]: cells of visible instruments sounding at each kept segment."""
    segments = np.asarray(kept_segments() if segments is None else segments, dtype=np.int64)
    mask = np.zeros((len(segments), NUM_POSITIONS), dtype=bool)
    for inst in scene.visible:
        plays = inst.mask[segments]  # [T]
        mask[np.ix_(plays, inst.cells())] = True
    return mask


def question_segments(scene: Scene, record, segments: Sequence[int] | None = None) -> np.ndarray:
    """bool [T]: the kept segments ``record`` (a QARecord, or anything with ``.template`` and
    ``.templ_values``) is about. ValueError when the question does not fit the scene."""
    segments = np.asarray(kept_segments() if segments is None else segments, dtype=np.int64)
    resolution = resolve(scene, record.template.key, list(record.templ_values))
    if resolution is None:
        raise ValueError(
            f"video {scene.video_id}: {record.template.text!r} with {list(record.templ_values)} "
            "is not a well-posed question about this scene (wrong scene file?)")
    return resolution.focus[segments].copy()
