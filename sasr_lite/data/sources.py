"""Per-video source labels: multi-hot over the 22 instrument classes, the target of L_source.

MUSIC-AVQA ships no such labels (the official ones came partly from an audio tagger and were
never published). `weak_source_labels` derives them from the annotations: a class is marked
present in a video when an instrument of that class is named by one of the video's questions
(its `templ_values`) or answers. These are *weak* labels:
- a named instrument may be visible but silent (or sounding but off-screen): audio and vision
  share one label vector;
- an instrument no question mentions is missed (a false 0);
- fillers of questions whose answer says the instrument is absent are dropped, because naming
  it there is evidence against it: "Is there a <Object> sound?" / "Is there a <Object> in the
  entire video?" answered "no", "Are there <Object> and <Object> ...?" answered "no" (one of
  the two is absent, so both are dropped), and "How many (sounding) <Object> ...?" answered
  "zero". `drop_negated=False` keeps every named instrument (the literal rule).
Derive them from the split being trained on only.

A user-supplied label file is JSON ``{video_id: [class names]}`` (`load_source_labels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from sasr_lite.data.annotations import QARecord
from sasr_lite.data.files import read_json, write_json_atomic
from sasr_lite.data.taxonomy import INSTRUMENTS, NO

NUM_CLASSES = len(INSTRUMENTS)
_CLASS_INDEX = {name: i for i, name in enumerate(INSTRUMENTS)}

# template key -> the answer that says its <Object> fillers are absent
_NEGATING_ANSWER = {
    "a_count_is_there": NO,
    "v_count_is_there": NO,
    "a_count_are_there": NO,
    "v_count_are_there": NO,
    "av_count_sounding_obj": "zero",
    "v_count_how_many_obj": "zero",
}


def multi_hot(names: Iterable[str]) -> np.ndarray:
    """float32 [22] with 1 at each named class; KeyError naming an unknown class."""
    vector = np.zeros(NUM_CLASSES, dtype=np.float32)
    for name in names:
        if name not in _CLASS_INDEX:
            raise KeyError(f"unknown instrument class {name!r}; known: {', '.join(INSTRUMENTS)}")
        vector[_CLASS_INDEX[name]] = 1.0
    return vector


def class_names(vector: np.ndarray) -> list[str]:
    """The class names marked present (> 0.5) in a [22] vector."""
    return [INSTRUMENTS[i] for i in np.flatnonzero(np.asarray(vector) > 0.5)]


def named_instruments(record: QARecord, drop_negated: bool = True) -> set[str]:
    """Instrument classes one record names in its fillers and answer (see the module doc)."""
    named = {v for v in record.templ_values if v in _CLASS_INDEX}
    if drop_negated and _NEGATING_ANSWER.get(record.template.key) == record.answer:
        named = set()
    if record.answer in _CLASS_INDEX:
        named.add(record.answer)
    return named


def weak_source_labels(records: Sequence[QARecord], drop_negated: bool = True) -> dict[str, np.ndarray]:
    """{video_id: float32 [22] multi-hot} from every record of each video (weak; module doc)."""
    names: dict[str, set[str]] = {}
    for record in records:
        names.setdefault(record.video_id, set()).update(named_instruments(record, drop_negated))
    return {video_id: multi_hot(found) for video_id, found in names.items()}


def load_source_labels(path: str | Path) -> dict[str, np.ndarray]:
    """Read a label file ``{video_id: [class names]}``; errors name the file and the entry."""
    path = Path(path)
    raw = read_json(path, "source-label file")
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object {{video_id: [class names]}}, got {type(raw).__name__}")
    labels = {}
    for video_id, names in raw.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: video {video_id!r}: expected a list of class names, got {names!r}")
        try:
            labels[str(video_id)] = multi_hot(names)
        except KeyError as err:
            raise ValueError(f"{path}: video {video_id!r}: {err.args[0]}") from None
    return labels


def save_source_labels(labels: dict[str, np.ndarray], path: str | Path) -> Path:
    """Write ``{video_id: [class names]}`` (the format `load_source_labels` reads), atomically."""
    return write_json_atomic(path, {video_id: class_names(v) for video_id, v in sorted(labels.items())})
