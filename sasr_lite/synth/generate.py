"""Generate the synthetic MUSIC-AVQA benchmark: scenes, questions and a feature store per split.

Output layout (``sasr-lite synth --out DIR`` or `generate(DIR)`)::

    DIR/avqa-train.json, avqa-val.json, avqa-test.json   # exact MUSIC-AVQA annotation schema
    DIR/scenes/{train,val,test}.json                     # ground truth (schema: synth/scenes.py)
    DIR/store/{train,val,test}/                          # FeatureStore, T = 60 / stride, P = 196
    DIR/synth.json                                       # size, seed, questions per video, instruments, ...
                                                         # (written last: marks a complete folder)
    DIR/avqa-test-{headtail,head,tail}.json              # --rephrased K only: an -R style split (synth/rephrase.py)

Sizes (tiny, small, full, lesson: videos, questions per video, instrument classes, cues) are
named in synth/presets.py; ``questions_per_video``, ``instruments`` and ``cues`` override a
preset. Cues (synth/cues.py) are named knobs for what a
pooled or time-averaged vector gives away: "classic" (tiny, small, full) is the benchmark as it
always was, good for the demo and for showing the whole loop; "lesson" switches the pooled
shortcuts off, so that spatial attention is needed for location questions. Videos are split 70/10/20 like MUSIC-AVQA's
questions. Every random stream is seeded from ``seed`` (and the video's number), so the same
arguments write the same bytes, every file included.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm.std import tqdm

from sasr_lite.data.annotations import question_tokens
from sasr_lite.data.datasets import NAMES
from sasr_lite.data.files import disk_size, write_text_atomic
from sasr_lite.data.store import store_nbytes
from sasr_lite.data.store_writer import StoreWriter
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.outputs import writing
from sasr_lite.synth.cues import CUE_PRESETS, Cues, resolve_cues
from sasr_lite.synth.features import WORLD_SEED, FeatureRenderer
from sasr_lite.synth.presets import PRESETS, SIZES, SPLITS, split_counts
from sasr_lite.synth.questions import RAW_TEXT, Question, QuestionPicker, to_record
from sasr_lite.synth.scenes import NUM_POSITIONS, Scene, check_instruments, kept_segments, sample_scene, save_scenes

SYNTH_FORMAT = "sasr-lite-synthetic-benchmark"
# 2: questions per video is part of the size preset (small: 20) and of synth.json;
# 3: so are the instrument classes the scenes are drawn from (small: 8)
SYNTH_VERSION = 3
# independent random streams, so that e.g. changing the features never changes the questions
SCENE_STREAM, QUESTION_STREAM, FEATURE_STREAM = 1, 2, 3


def num_videos(size: str | int) -> int:
    """Videos for a size name, or ``size`` itself when it is a number (>= 10)."""
    if isinstance(size, str) and size in SIZES:
        return SIZES[size]
    if isinstance(size, int) and not isinstance(size, bool) and size >= 10:
        return size
    raise ValueError(f"size must be one of {sorted(SIZES)} or a number of videos >= 10, got {size!r}")


def preset_questions_per_video(size: str | int) -> int | None:
    """Questions per video of a size name's preset; None (about 5) for a number of videos."""
    num_videos(size)  # validates ``size``
    return PRESETS[size].questions_per_video if isinstance(size, str) else None


def preset_instruments(size: str | int) -> tuple[str, ...]:
    """Instrument classes of a size name's preset; all 22 for a number of videos."""
    num_videos(size)  # validates ``size``
    return PRESETS[size].instruments if isinstance(size, str) else INSTRUMENTS


def preset_cues(size: str | int) -> Cues:
    """Cues of a size name's preset; the classic ones for a number of videos."""
    num_videos(size)  # validates ``size``
    return resolve_cues(PRESETS[size].cues if isinstance(size, str) else "classic")


def _cues(size: str | int, cues) -> Cues:
    """The override when given (a Cues, preset name or dict of knobs), else the preset's."""
    return preset_cues(size) if cues is None else resolve_cues(cues)


def _instruments(size: str | int, instruments) -> tuple[str, ...]:
    """The override when given (checked: known, distinct, at least 7 classes), else the preset's."""
    return preset_instruments(size) if instruments is None else check_instruments(instruments)


def _questions_per_video(size: str | int, questions_per_video: int | None) -> int | None:
    """The override when given (an integer >= 1), else the preset's."""
    if questions_per_video is None:
        return preset_questions_per_video(size)
    if isinstance(questions_per_video, bool) or not isinstance(questions_per_video, int) or questions_per_video < 1:
        raise ValueError(f"questions_per_video must be an integer >= 1, got {questions_per_video!r}")
    num_videos(size)
    return questions_per_video


def make_questions(size: str | int = "tiny", seed: int = 0, questions_per_video: int | None = None,
                   instruments=None, cues=None, bias: float = 0.0) -> dict[str, list[tuple[Scene, list[Question]]]]:
    """split -> [(scene, its questions)], without features (fast: used by tests and notebooks).

    ``questions_per_video``: up to this many per video; None uses the size's preset (about 5
    for a number of videos). ``instruments``: the classes scenes are drawn from; None uses the
    size's preset (all 22 for a number of videos). ``cues``: a `Cues`, preset name or dict of
    knobs (synth/cues.py); None uses the size's preset (classic for a number of videos). ``bias``: 0
    balances answers within each template (MUSIC-AVQA v2.0's way); b > 0 leans each template to one
    answer (`QuestionPicker`)."""
    per_video = _questions_per_video(size, questions_per_video)
    palette = _instruments(size, instruments)
    knobs = _cues(size, cues)
    counts = PRESETS[size].split_counts() if isinstance(size, str) else split_counts(num_videos(size))
    scene_rng = np.random.default_rng([seed, SCENE_STREAM])
    result, number = {}, 0
    words: set[str] = set()
    answers: set[str] = set()
    for k, split in enumerate(SPLITS):
        # answers are balanced within each split; val and test only use train's words and answers
        known = (None, None) if split == "train" else (words, answers)
        picker = QuestionPicker(*known, questions_per_video=per_video, instruments=palette, bias=bias)
        question_rng = np.random.default_rng([seed, QUESTION_STREAM, k])
        items = []
        for _ in range(counts[split]):
            number += 1
            scene = sample_scene(scene_rng, f"{number:08d}", palette, knobs)
            items.append((scene, picker.pick(scene, question_rng)))
        result[split] = items
        if split == "train":
            questions = [q for _, qs in items for q in qs]
            words = {w for q in questions for w in question_tokens(RAW_TEXT[q.template.key], q.templ_values)}
            answers = {q.answer for q in questions}
    return result


def generate(out_dir: str | Path, size: str | int = "tiny", seed: int = 0, difficulty: float = 1.0,
             stride: int = 6, progress: bool = False, questions_per_video: int | None = None,
             instruments=None, cues=None, bias: float = 0.0, rephrasings: int = 0) -> Path:
    """Write the benchmark to ``out_dir`` (layout in the module docstring); returns ``out_dir``.

    ``questions_per_video``, ``instruments`` and ``cues``: None uses the size's preset (see PRESETS).
    ``bias``: see `make_questions`. ``rephrasings`` > 0 also writes an -R style test split
    (`sasr_lite.synth.rephrase`: that many rephrasings of each test question, head and tail files)."""
    out = Path(out_dir)
    if difficulty < 0:
        raise ValueError(f"difficulty must be >= 0, got {difficulty}")
    segments = kept_segments(stride)
    per_video = _questions_per_video(size, questions_per_video)
    palette = _instruments(size, instruments)
    knobs = _cues(size, cues)
    splits = make_questions(size, seed, per_video, palette, knobs, bias)
    renderer = FeatureRenderer(segments, difficulty=difficulty, seed=seed, cues=knobs)
    counts, question_id = {}, 0
    for split, items in splits.items():
        records = []
        for scene, questions in items:
            for q in questions:
                question_id += 1
                records.append(to_record(scene.video_id, question_id, q))
        scenes = [scene for scene, _ in items]
        write_text_atomic(out / f"avqa-{split}.json", json.dumps(records, indent=4) + "\n")
        save_scenes(out / "scenes" / f"{split}.json", split, scenes)
        ids = [s.video_id for s in scenes]
        source = f"sasr-lite synthetic benchmark (seed {seed}, difficulty {difficulty:g})"
        with StoreWriter(out / "store" / split, ids, num_segments=len(segments), num_positions=NUM_POSITIONS,
                         source=source, stride=stride, metadata={"segments": list(segments)}) as writer:
            for i, scene in enumerate(tqdm(scenes, desc=f"synth {split}", unit="video", disable=not progress)):
                rng = np.random.default_rng([seed, FEATURE_STREAM, int(scene.video_id)])
                f = renderer.render(scene, rng)
                writer.write(i, audio=f.audio, visual=f.visual, maps=f.maps)
        counts[split] = {"videos": len(scenes), "questions": len(records)}
        if split == "test" and rephrasings:
            from sasr_lite.synth.rephrase import write_rephrased_split

            counts.update(write_rephrased_split(out, records, rephrasings, seed))
    manifest = {
        "format": SYNTH_FORMAT, "version": SYNTH_VERSION, "size": size, "seed": seed,
        "questions_per_video": per_video,  # null: about 5, drawn per video as MUSIC-AVQA
        "instruments": list(palette),
        "cues": knobs.to_dict(),  # synth/cues.py: what pooled and time-averaged vectors give away
        "difficulty": difficulty, "stride": stride, "segments": list(segments),
        "world_seed": WORLD_SEED, "counts": counts,
        **({"bias": bias} if bias else {}), **({"rephrasings": rephrasings} if rephrasings else {}),
    }
    write_text_atomic(out / "synth.json", json.dumps(manifest, indent=2) + "\n")  # last: marks completion
    return out


# --- `sasr-lite synth` -------------------------------------------------------------------------
def _instrument_list(text: str) -> tuple[str, ...]:
    """``--instruments violin,piano,...`` -> the checked classes (argparse prints the reason)."""
    try:
        return check_instruments(name.strip() for name in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=NAMES, default="music-avqa",
                        help="music-avqa: open-ended questions in the MUSIC-AVQA schema (this module); avqa-yang: "
                             "four-choice questions about 10 s clips in the AVQA-Yang schema (synth/avqa_yang.py)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (e.g. data/synth)")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files synth did not write (or changed since): move it aside to OUT.old-N")
    parser.add_argument("--size", choices=sorted(SIZES), default="small",
                        help="music-avqa: tiny: 60 videos, about 5 questions each (tests); small: 1,000 videos, 20 "
                             "questions each, 8 instrument classes (the CPU demo); full: 9,288 videos, about 5 "
                             "questions each (MUSIC-AVQA scale); lesson: 420 train, 60 val and 480 test videos like "
                             "small, with the lesson cues (notebook 10). avqa-yang: tiny: 80 clips, 4 questions each; small: "
                             "1,000 clips, up to 10 questions each (both 8 classes); full: 57,015 clips, one question "
                             "each, 22 classes (AVQA-Yang scale)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files")
    parser.add_argument("--difficulty", type=float, default=1.0, help="scales noise and clutter (0 = clean)")
    parser.add_argument("--questions-per-video", type=int, default=None, metavar="K",
                        help="ask up to K questions of every video (default: the size's preset; music-avqa only)")
    parser.add_argument("--instruments", type=_instrument_list, default=None,
                        metavar="NAME,NAME,...", help="draw scenes from these classes only, at least 7 "
                        "(default: the size's preset; small uses the 8 MUSIC-AVQA names most often; music-avqa only)")
    parser.add_argument("--bias", type=float, default=0.0, metavar="B",
                        help="0 (default): answers balanced within each template, as MUSIC-AVQA v2.0; B in (0, 1): "
                        "each template leans to one answer, asked with probability B when a scene offers it (the "
                        "biased counterpart, as the original MUSIC-AVQA; music-avqa only)")
    parser.add_argument("--rephrased", type=int, default=0, metavar="K",
                        help="also write an MUSIC-AVQA-R style test split: K rephrasings of each test question in "
                        "avqa-test-{headtail,head,tail}.json (sasr-lite eval --release r; music-avqa only)")
    parser.add_argument("--cues", choices=sorted(CUE_PRESETS), default=None,
                        help="what pooled and time-averaged features give away (sasr_lite/synth/cues.py): classic "
                             "(the benchmark as always) or lesson (pooled shortcuts off); default: the size's preset; "
                             "music-avqa only")
    parser.add_argument("--stride", type=int, default=None,
                        help="keep every n-th segment: 1, 2, 3 or 6 (T = 60 / n; default 6; music-avqa only: "
                             "avqa-yang stores one row per second of its 10 s clips)")


def run(args: argparse.Namespace) -> int:
    if args.dataset == "avqa-yang":
        music_only = (("--questions-per-video", args.questions_per_video), ("--instruments", args.instruments),
                      ("--stride", args.stride), ("--bias", args.bias or None), ("--rephrased", args.rephrased or None),
                      ("--cues", args.cues))
        given = [flag for flag, value in music_only if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: music-avqa only; --dataset avqa-yang takes its questions per clip, "
                             "instrument classes and one row per second from the size's preset")
        from sasr_lite.synth.avqa_yang import run as run_avqa_yang

        with writing(args.out, "synth", overwrite=args.overwrite):
            return run_avqa_yang(args)
    stride = 6 if args.stride is None else args.stride
    n = num_videos(args.size)
    k = _questions_per_video(args.size, args.questions_per_video)
    palette = _instruments(args.size, args.instruments)
    need = store_nbytes(n, len(kept_segments(stride)), NUM_POSITIONS) / 1e9
    per_video = "about 5" if k is None else f"up to {k}"
    print(f"generating {args.size} ({n} videos, {per_video} questions each, {len(palette)} instrument classes, "
          f"about {need:.1f} GB of features) into {args.out}")
    start = time.perf_counter()
    with writing(args.out, "synth", overwrite=args.overwrite):
        out = generate(args.out, args.size, args.seed, args.difficulty, stride, progress=True,
                       questions_per_video=args.questions_per_video, instruments=palette, cues=args.cues,
                       bias=args.bias, rephrasings=args.rephrased)
    seconds = time.perf_counter() - start
    counts = json.loads((out / "synth.json").read_text())["counts"]
    summary = ", ".join(f"{s} {c['videos']} videos / {c['questions']} questions" for s, c in counts.items())
    print(f"wrote {out}: {summary}; {disk_size(out) / 1e9:.2f} GB in {seconds:.1f} s")
    return 0
