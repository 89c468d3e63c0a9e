"""Generate the synthetic MUSIC-AVQA benchmark: scenes, questions and a feature store per split.

Output layout (``sasr-lite synth --out DIR`` or `generate(DIR)`)::

    DIR/avqa-train.json, avqa-val.json, avqa-test.json   # exact MUSIC-AVQA annotation schema
    DIR/scenes/{train,val,test}.json                     # ground truth (schema: synth/scenes.py)
    DIR/store/{train,val,test}/                          # FeatureStore, T = 60 / stride, P = 196
    DIR/synth.json                                       # size, seed, difficulty, counts (written last)

Sizes: tiny (60 videos, for tests), small (1,000 videos, the CPU demo), full (9,288 videos,
about 46k questions: MUSIC-AVQA's scale, about 19 GB of features). Videos are split 70/10/20
like MUSIC-AVQA's questions. Every random stream is seeded from ``seed`` (and the video's
number), so the same arguments write the same bytes (the store manifest's "created" aside).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm.std import tqdm

from sasr_lite.data.annotations import question_tokens
from sasr_lite.data.files import write_text_atomic
from sasr_lite.data.store import StoreWriter, store_nbytes
from sasr_lite.synth.features import WORLD_SEED, FeatureRenderer
from sasr_lite.synth.questions import RAW_TEXT, Question, QuestionPicker, to_record
from sasr_lite.synth.scenes import NUM_POSITIONS, Scene, kept_segments, sample_scene, save_scenes

SYNTH_FORMAT = "sasr-lite-synthetic-benchmark"
SYNTH_VERSION = 1
SIZES: dict[str, int] = {"tiny": 60, "small": 1000, "full": 9288}  # videos
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
# independent random streams, so that e.g. changing the features never changes the questions
SCENE_STREAM, QUESTION_STREAM, FEATURE_STREAM = 1, 2, 3


def num_videos(size: str | int) -> int:
    """Videos for a size name, or ``size`` itself when it is a number (>= 10)."""
    if isinstance(size, str) and size in SIZES:
        return SIZES[size]
    if isinstance(size, int) and not isinstance(size, bool) and size >= 10:
        return size
    raise ValueError(f"size must be one of {sorted(SIZES)} or a number of videos >= 10, got {size!r}")


def split_counts(n: int) -> dict[str, int]:
    train, val = round(n * SPLIT_FRACTIONS[0]), round(n * SPLIT_FRACTIONS[1])
    return {"train": train, "val": val, "test": n - train - val}


def make_questions(size: str | int = "tiny", seed: int = 0) -> dict[str, list[tuple[Scene, list[Question]]]]:
    """split -> [(scene, its questions)], without features (fast: used by tests and notebooks)."""
    counts = split_counts(num_videos(size))
    scene_rng = np.random.default_rng([seed, SCENE_STREAM])
    result, number = {}, 0
    words: set[str] = set()
    answers: set[str] = set()
    for k, split in enumerate(SPLITS):
        # answers are balanced within each split; val and test only use train's words and answers
        picker = QuestionPicker() if split == "train" else QuestionPicker(words, answers)
        question_rng = np.random.default_rng([seed, QUESTION_STREAM, k])
        items = []
        for _ in range(counts[split]):
            number += 1
            scene = sample_scene(scene_rng, f"{number:08d}")
            items.append((scene, picker.pick(scene, question_rng)))
        result[split] = items
        if split == "train":
            questions = [q for _, qs in items for q in qs]
            words = {w for q in questions for w in question_tokens(RAW_TEXT[q.template.key], q.templ_values)}
            answers = {q.answer for q in questions}
    return result


def generate(out_dir: str | Path, size: str | int = "tiny", seed: int = 0, difficulty: float = 1.0,
             stride: int = 6, progress: bool = False) -> Path:
    """Write the benchmark to ``out_dir`` (layout in the module docstring); returns ``out_dir``."""
    out = Path(out_dir)
    if difficulty < 0:
        raise ValueError(f"difficulty must be >= 0, got {difficulty}")
    segments = kept_segments(stride)
    splits = make_questions(size, seed)
    renderer = FeatureRenderer(segments, difficulty=difficulty, seed=seed)
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
    manifest = {
        "format": SYNTH_FORMAT, "version": SYNTH_VERSION, "size": size, "seed": seed,
        "difficulty": difficulty, "stride": stride, "segments": list(segments),
        "world_seed": WORLD_SEED, "counts": counts,
    }
    write_text_atomic(out / "synth.json", json.dumps(manifest, indent=2) + "\n")  # last: marks completion
    return out


def disk_size(path: str | Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- `sasr-lite synth` -------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output folder (e.g. data/synth)")
    parser.add_argument("--size", choices=sorted(SIZES), default="small",
                        help="tiny: 60 videos (tests); small: 1,000 (demo); full: 9,288 (MUSIC-AVQA scale)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files")
    parser.add_argument("--difficulty", type=float, default=1.0, help="scales noise and clutter (0 = clean)")
    parser.add_argument("--stride", type=int, default=6, help="keep every n-th segment: 1, 2, 3 or 6 (T = 60 / n)")


def run(args: argparse.Namespace) -> int:
    n = num_videos(args.size)
    need = store_nbytes(n, len(kept_segments(args.stride)), NUM_POSITIONS) / 1e9
    print(f"generating {args.size} ({n} videos, about {need:.1f} GB of features) into {args.out}")
    start = time.perf_counter()
    out = generate(args.out, args.size, args.seed, args.difficulty, args.stride, progress=True)
    seconds = time.perf_counter() - start
    counts = json.loads((out / "synth.json").read_text())["counts"]
    summary = ", ".join(f"{s} {c['videos']} videos / {c['questions']} questions" for s, c in counts.items())
    print(f"wrote {out}: {summary}; {disk_size(out) / 1e9:.2f} GB in {seconds:.1f} s")
    return 0
