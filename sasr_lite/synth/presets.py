"""The synthetic benchmarks' named sizes, each defined once: how many videos, how many questions
per video and which instrument classes, for the MUSIC-AVQA generator (`synth/generate.py`) and
the AVQA-Yang generator (`synth/avqa_yang.py`); and how both split videos 70/10/20.

MUSIC-AVQA (`PRESETS`: videos, questions per video, instrument classes, cues): tiny (60 videos,
about 5 questions each, all 22 classes, for tests), small (1,000 videos, 20 questions each, 8
classes: the CPU demo; features are per video, so extra questions cost almost nothing and the
small model is starved of data at 5 per video; and with 22 classes a few CPU minutes teach it the
word-to-sound link of too few of them), full (9,288 videos, about 5 questions each, all 22
classes, about 46k questions: MUSIC-AVQA's scale, about 19 GB of features), lesson (420 train,
60 val and 480 test videos, 20 questions each, the 8 classes of small, with the "lesson" cues:
notebook 10's ablations).
"About 5" is MUSIC-AVQA's rate: 4, 5 or 6, drawn per video (synth/questions.py).

AVQA-Yang (`AVQA_YANG_PRESETS`: clips, questions per clip, instrument classes): tiny (80 clips,
4 questions each; with 8 clips in val, every type is asked in every split), small (1,000 clips,
up to 10 questions each: the CPU lesson), both with the 8 classes of the MUSIC demo; full
(57,015 clips, one question each, all 22 classes: AVQA-Yang's scale, about 115 GB of features).

Which of these a scale (test, lesson, paper) uses is in `sasr_lite.presets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sasr_lite.data.taxonomy import INSTRUMENTS

# The eight classes MUSIC-AVQA's val and test questions name most often (counted from the
# released annotations). The CPU demo draws from these only: in a few thousand steps its model
# learns which word names which sound for 8 classes, but for few of 22 (README, "Status").
DEMO_INSTRUMENTS = ("violin", "piano", "cello", "acoustic_guitar", "flute", "saxophone", "accordion", "clarinet")
LESSON_VIDEOS = 600  # train and val as for 600 videos split 70/10/20 (420 and 60) ...
LESSON_TEST_VIDEOS = 480  # ... and 480 test videos instead of 120

SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)  # MUSIC-AVQA's split of its questions, applied to videos


def split_counts(n: int) -> dict[str, int]:
    """Videos per split of ``n`` videos (SPLIT_FRACTIONS, rounded; test takes the rest)."""
    train, val = round(n * SPLIT_FRACTIONS[0]), round(n * SPLIT_FRACTIONS[1])
    return {"train": train, "val": val, "test": n - train - val}


@dataclass(frozen=True)
class SizePreset:
    """One size of the synthetic MUSIC-AVQA benchmark."""

    videos: int
    questions_per_video: int | None  # None: about 5, drawn per video as MUSIC-AVQA (QuestionPicker)
    instruments: tuple[str, ...] = INSTRUMENTS  # the classes scenes are drawn from
    cues: str = "classic"  # what pooled and time-averaged vectors give away (synth/cues.py CUE_PRESETS)
    test_videos: int | None = None  # None: SPLIT_FRACTIONS of ``videos``; else train and val from
    # ``videos`` and this many test videos on top (a larger test split narrows the intervals of a
    # comparison without any more training)

    def split_counts(self) -> dict[str, int]:
        counts = split_counts(self.videos)
        return counts if self.test_videos is None else counts | {"test": self.test_videos}


PRESETS: dict[str, SizePreset] = {
    "tiny": SizePreset(60, None),
    "small": SizePreset(1000, 20, DEMO_INSTRUMENTS),
    "full": SizePreset(9288, None),
    # notebook 10's ablation lessons: the pooled shortcuts off, so each attention block has
    # questions only it can answer; fewer videos than small, so 20+ runs fit CPU minutes, and a
    # test split four times the usual share: its per-type differences rest on about 9,000 questions
    "lesson": SizePreset(LESSON_VIDEOS, 20, DEMO_INSTRUMENTS, "lesson", test_videos=LESSON_TEST_VIDEOS),
}
SIZES: dict[str, int] = {name: sum(p.split_counts().values()) for name, p in PRESETS.items()}  # videos


@dataclass(frozen=True)
class AVQAPreset:
    """One size of the synthetic AVQA-Yang benchmark."""

    clips: int
    questions_per_clip: int  # at most; a scene that can pose fewer templates gets fewer
    instruments: tuple[str, ...]


AVQA_YANG_PRESETS: dict[str, AVQAPreset] = {
    "tiny": AVQAPreset(80, 4, DEMO_INSTRUMENTS),  # 8 val clips: every type in every split (60 often miss one)
    # features are per clip, so more questions per clip cost little and give the model more to learn from
    "small": AVQAPreset(1000, 10, DEMO_INSTRUMENTS),
    "full": AVQAPreset(57015, 1, INSTRUMENTS),  # AVQA-Yang: 57,015 videos, 57,335 questions
}

