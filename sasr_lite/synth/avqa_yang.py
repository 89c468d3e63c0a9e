"""Generate the synthetic AVQA-Yang benchmark: multiple-choice questions about 10-second clips.

AVQA-Yang (Yang et al., ACM MM 2022) asks one question of each 10 s clip and offers four
candidate answers. This module asks such questions about the synthetic scenes of
`synth/scenes.py`, in the exact record format `sasr_lite.data.avqa_yang` reads.

Output layout (``sasr-lite synth --dataset avqa-yang --out DIR`` or `generate_avqa_yang(DIR)`)::

    DIR/train_qa.json, val_qa.json, test_qa.json   # AVQA-Yang records (id, video_name, video_id,
                                                   # question_text, multi_choice, answer, ...)
    DIR/scenes/{train,val,test}.json               # ground truth (schema: synth/scenes.py), video_id = video_name
    DIR/store/{train,val,test}/                    # FeatureStore keyed by video_name, T = 10, P = 196
    DIR/synth.json                                 # dataset, size, seed, counts, clip seconds, ... (written last)

Clips: a scene lives on a 60-segment timeline whose sounding masks change only at 6-segment
blocks. A 10 s clip maps block s to second s: the store holds one row per second (stride 1, as
features taken at one frame per second of a real 10 s clip), rendered at the first segment of
each block (segments 0, 6, ..., 54; the store manifest and synth.json list them). Clip names
follow VGGSound's "<id>_<start second>": ``synth_00000001_0``; the record's numeric ``video_id``
is the clip's number.

Questions (TEMPLATES, two per type except Happening): Which (the instrument on a side, the one
heard but not seen), Come From (the only sounding class, the loudest), Happening (the one or two
classes heard), Where (an instrument's side or "off-screen", where the only sound comes from),
Why (the one change in the music, why a musician moves), Before Next (the instrument that comes
in right after or before a named one), When (when an instrument starts: in its first second,
seconds 1-2, or later, or "it never plays"; sample_scene's entries all fall in seconds 0-5, so
there is no "near the end") and Used For (how the instrument on a side or the one heard is
played). ``question_relation`` is the senses the template needs, fixed per template so that it
says nothing about the answer.

Why the text gives nothing away (`MultipleChoicePicker`): each template has a fixed domain of
candidate values of one kind (instruments, sides, onsets, ...). Within a split the picker asks
the answers of a template evenly (with four values, which every question shows, none leads the
rarest by more than one; with more, none passes a fifth of the questions) and draws the three
distractors among the values that have been distractors too rarely so far: every value is the
right answer about a quarter of the times it is shown, whatever the template. An instrument a
question names (Before Next) can never be its answer, so it is never a candidate either.
Distractors are never derived from the answer (no "odd one out" to find from the text). Answer
positions are dealt in shuffled blocks of the four positions, template by template
(`deal_positions`): balanced per split to within one question, per template to within two.

Sizes (tiny, small, full: clips, questions per clip, instrument classes) are named in
synth/presets.py (AVQA_YANG_PRESETS). A clip is asked
each template it can pose once before any twice (with another filler); scenes that can pose
fewer get fewer. Clips are split 70/10/20 like the MUSIC benchmark; val and test only use words
of train's questions, and per template the candidate values train shows. Every random stream is
seeded from ``seed`` (and the clip's number), so the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm.std import tqdm

from sasr_lite.data.annotations import PAD, question_tokens
from sasr_lite.data.avqa_yang import NAME, NUM_CHOICES, QUESTION_LEN, QUESTION_TYPES, SPLITS, split_file
from sasr_lite.data.files import disk_size, write_text_atomic
from sasr_lite.data.store import store_nbytes
from sasr_lite.data.store_writer import StoreWriter
from sasr_lite.data.taxonomy import INSTRUMENTS, SIDES
from sasr_lite.synth.features import WORLD_SEED, FeatureRenderer
from sasr_lite.synth.presets import AVQA_YANG_PRESETS, AVQAPreset, split_counts
from sasr_lite.synth.questions import first_or_last, heard, heard_of, on_side, the_one
from sasr_lite.synth.scenes import (
    BLOCK, NUM_BLOCKS, NUM_POSITIONS, Instrument, Scene, kept_segments, sample_scene, save_scenes,
)

AVQA_SYNTH_FORMAT = "sasr-lite-synthetic-avqa-yang"  # its own format: `synth.cache` never takes one benchmark for the other
AVQA_SYNTH_VERSION = 1
CLIP_SECONDS = NUM_BLOCKS  # one second per 6-segment block
SEGMENTS = kept_segments(BLOCK)  # the scene segment rendered for each second: 0, 6, ..., 54
# independent random streams (numbers apart from the MUSIC generator's 1-3)
SCENE_STREAM, QUESTION_STREAM, CHOICE_STREAM, FEATURE_STREAM = 11, 12, 13, 14


def preset(size: str) -> AVQAPreset:
    """The preset of a size name; ValueError naming ``size`` otherwise."""
    if not isinstance(size, str) or size not in AVQA_YANG_PRESETS:
        raise ValueError(f"size must be one of {sorted(AVQA_YANG_PRESETS)} for {NAME}, got {size!r}")
    return AVQA_YANG_PRESETS[size]


def video_name(number: int) -> str:
    """The clip's name, VGGSound style "<id>_<start second>"."""
    return f"synth_{number:08d}_0"


# --- words -----------------------------------------------------------------------------------------
def spoken(cls: str) -> str:
    """"acoustic_guitar" -> "acoustic guitar": how a question says a class."""
    return cls.replace("_", " ")


def with_article(cls: str) -> str:
    """"a violin", "an accordion", "congas" (a plural takes no article)."""
    if cls == "congas":
        return spoken(cls)
    return ("an " if cls[0] in "aeio" else "a ") + spoken(cls)


SIDE_PHRASES = {"left": "on the left", "middle": "in the middle", "right": "on the right"}  # in questions
OFF_SCREEN = "off-screen"
LOCATIONS = (*SIDES, OFF_SCREEN)
# When does X start playing: by its first sounding second (sample_scene's onsets are 0-5)
ONSETS = ("at the very beginning", "after a second or two", "later in the video", "it never plays")
# Used For: how each class is played
FAMILY: dict[str, str] = {
    **dict.fromkeys(("cello", "erhu", "violin"), "bowing strings"),
    **dict.fromkeys(("acoustic_guitar", "banjo", "electric_bass", "guzheng", "pipa", "ukulele"), "plucking strings"),
    **dict.fromkeys(("bagpipe", "bassoon", "clarinet", "flute", "saxophone", "suona", "trumpet", "tuba"),
                    "blowing air"),
    **dict.fromkeys(("accordion", "piano"), "pressing keys"),
    **dict.fromkeys(("congas", "drum", "xylophone"), "striking"),
}
USES = ("bowing strings", "plucking strings", "blowing air", "pressing keys", "striking")
assert set(FAMILY) == set(INSTRUMENTS) and set(FAMILY.values()) == set(USES)


def onset_phrase(inst: Instrument) -> str:
    """When ``inst`` starts playing, in the words of ONSETS."""
    if not inst.sounds:
        return ONSETS[3]
    second = inst.onset // BLOCK
    return ONSETS[0] if second == 0 else ONSETS[1] if second <= 2 else ONSETS[2]


def location(inst: Instrument) -> str:
    return inst.side if inst.visible else OFF_SCREEN


def happening_phrase(classes) -> str:
    """"a violin playing" / "an accordion and a violin playing" (classes in taxonomy order)."""
    return " and ".join(with_article(c) for c in sorted(classes, key=INSTRUMENTS.index)) + " playing"


def change_phrase(cls: str, starts: bool) -> str:
    return f"the {spoken(cls)} {'starts' if starts else 'stops'} playing"


def motive_phrase(cls: str) -> str:
    return f"to play the {spoken(cls)}"


def candidate_domain(kind: str, palette: tuple[str, ...]) -> tuple[str, ...]:
    """Every value a candidate of ``kind`` can take in a benchmark drawn from ``palette``: the
    answers and the distractors of a template come from the same domain."""
    ordered = sorted(palette, key=INSTRUMENTS.index)
    if kind == "instrument":
        return tuple(spoken(c) for c in ordered)
    if kind == "location":
        return LOCATIONS
    if kind == "onset":
        return ONSETS
    if kind == "use":  # only the ways of playing the palette has: a value never right would give itself away
        return tuple(u for u in USES if any(FAMILY[c] == u for c in palette))
    if kind == "happening":
        pairs = [(a, b) for k, a in enumerate(ordered) for b in ordered[k + 1:]]
        return tuple(happening_phrase([c]) for c in ordered) + tuple(happening_phrase(p) for p in pairs)
    if kind == "change":
        return tuple(change_phrase(c, starts) for c in ordered for starts in (True, False))
    if kind == "motive":
        return tuple(motive_phrase(c) for c in ordered)
    raise ValueError(f"unknown candidate kind {kind!r}")


# --- templates: what each question means -----------------------------------------------------------
Resolution = tuple[str, tuple[str, ...]]  # (answer, values that can never be right, hence never shown)
Resolver = Callable[[Scene, "str | None"], "Resolution | None"]


@dataclass(frozen=True)
class Template:
    key: str
    qtype: str  # one of QUESTION_TYPES
    relation: str  # "Audio" | "Visual" | "Both": what the question needs
    text: str  # "{}" is the filler: an instrument (spoken) or a side (SIDE_PHRASES)
    slot: str | None  # "instrument" | "side" | None
    kind: str  # the kind of its candidates (candidate_domain)
    resolve: Resolver  # (scene, filler class or side) -> answer, or None when ill-posed

    def question(self, filler: str | None) -> str:
        return self.text.format(spoken(filler) if self.slot == "instrument" else SIDE_PHRASES.get(filler))


def only_source(scene: Scene, cls: str) -> Instrument | None:
    """The one instrument of class ``cls`` in the scene, visible or off-screen."""
    return the_one([i for i in scene.instruments if i.cls == cls])


def heard_classes(scene: Scene) -> set[str]:
    return {i.cls for i in heard(scene)}


def _which_side(scene, side):
    inst = on_side(scene, side)
    return None if inst is None else (spoken(inst.cls), ())


def _which_offscreen(scene, _):
    inst = the_one(list(scene.offscreen))
    return None if inst is None else (spoken(inst.cls), ())


def _come_from(scene, _):
    classes = heard_classes(scene)
    return (spoken(classes.pop()), ()) if len(classes) == 1 else None


def _come_from_loudest(scene, _):
    sources = heard(scene)
    if len({i.cls for i in sources}) < 2:  # one class heard: that is _come_from's question
        return None
    loudest = max(i.loudness for i in sources)
    inst = the_one([i for i in sources if i.loudness == loudest])
    return None if inst is None else (spoken(inst.cls), ())


def _happening(scene, _):
    classes = heard_classes(scene)
    return (happening_phrase(classes), ()) if 1 <= len(classes) <= 2 else None


def _where_is(scene, cls):
    inst = only_source(scene, cls)
    return None if inst is None else (location(inst), ())


def _where_sound(scene, _):
    inst = the_one(heard(scene))
    return None if inst is None else (location(inst), ())


def changes(inst: Instrument) -> list[tuple[int, bool]]:
    """(second, starts) for every second at which ``inst`` starts or stops playing."""
    on = inst.mask[::BLOCK]
    return [(s, bool(on[s])) for s in range(1, CLIP_SECONDS) if on[s] != on[s - 1]]


def _why_change(scene, _):
    events = [(inst, starts) for inst in heard(scene) for _, starts in changes(inst)]
    if len(events) != 1:
        return None
    inst, starts = events[0]
    return change_phrase(inst.cls, starts), ()


def _why_moving(scene, side):
    inst = on_side(scene, side)  # a playing musician's hands move (features.py: the motion pattern)
    return None if inst is None or not inst.sounds else (motive_phrase(inst.cls), ())


def _comes_in(after: bool) -> Resolver:
    def resolve(scene, cls):
        inst = heard_of(scene, cls)
        if inst is None:
            return None
        others = [i for i in heard(scene) if (i.onset > inst.onset if after else i.onset < inst.onset)]
        other = first_or_last(others, "first" if after else "last")
        return None if other is None else (spoken(other.cls), (spoken(cls),))
    return resolve


def _when_instrument(scene, cls):
    inst = only_source(scene, cls)
    return None if inst is None else (onset_phrase(inst), ())


def _when_side(scene, side):
    inst = on_side(scene, side)
    return None if inst is None else (onset_phrase(inst), ())


def _used_for_side(scene, side):
    inst = on_side(scene, side)
    return None if inst is None else (FAMILY[inst.cls], ())


def _used_for_heard(scene, _):
    classes = heard_classes(scene)
    return (FAMILY[classes.pop()], ()) if len(classes) == 1 else None


TEMPLATES: tuple[Template, ...] = (
    Template("which_side", "Which", "Visual", "Which instrument is {} of the stage?", "side", "instrument",
             _which_side),
    Template("which_offscreen", "Which", "Both", "Which instrument can be heard but not seen?", None, "instrument",
             _which_offscreen),
    Template("come_from", "Come From", "Audio", "What is the sound in the video coming from?", None, "instrument",
             _come_from),
    Template("come_from_loudest", "Come From", "Audio", "What is the loudest sound in the video coming from?", None,
             "instrument", _come_from_loudest),
    Template("happening", "Happening", "Audio", "What is happening in the video?", None, "happening", _happening),
    Template("where_is", "Where", "Both", "Where is the {}?", "instrument", "location", _where_is),
    Template("where_sound", "Where", "Both", "Where is the sound coming from?", None, "location", _where_sound),
    Template("why_change", "Why", "Audio", "Why does the music change during the video?", None, "change",
             _why_change),
    Template("why_moving", "Why", "Visual", "Why is the musician {} moving?", "side", "motive", _why_moving),
    Template("after", "Before Next", "Audio", "Which instrument comes in right after the {}?", "instrument",
             "instrument", _comes_in(after=True)),
    Template("before", "Before Next", "Audio", "Which instrument comes in right before the {}?", "instrument",
             "instrument", _comes_in(after=False)),
    Template("when_instrument", "When", "Both", "When does the {} start playing?", "instrument", "onset",
             _when_instrument),
    Template("when_side", "When", "Both", "When does the instrument {} start playing?", "side", "onset",
             _when_side),
    Template("used_for_side", "Used For", "Visual", "What is the instrument {} used for?", "side", "use",
             _used_for_side),
    Template("used_for_heard", "Used For", "Audio", "What is the instrument you can hear used for?", None, "use",
             _used_for_heard),
)
TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}
TEMPLATE_INDEX = {t.key: k for k, t in enumerate(TEMPLATES)}
assert {t.qtype for t in TEMPLATES} == set(QUESTION_TYPES)


def template_of(text: str) -> tuple[Template, str | None]:
    """(template, filler class or side) a question text was made from: records keep the text only."""
    fillers = {"instrument": {spoken(c): c for c in INSTRUMENTS}, "side": {p: s for s, p in SIDE_PHRASES.items()}}
    for t in TEMPLATES:
        if t.slot is None:
            if text == t.text:
                return t, None
            continue
        head, _, tail = t.text.partition("{}")
        words = text[len(head):len(text) - len(tail)]
        if text.startswith(head) and text.endswith(tail) and words in fillers[t.slot]:
            return t, fillers[t.slot][words]
    raise ValueError(f"no template makes the question {text!r}")


# --- choosing questions and candidates -----------------------------------------------------------------
ANSWER_SHARE = 0.2  # with more than 4 values, none is the answer to more than this share of a template ...
SLACK = 2  # ... give or take this many questions, so that the first questions can be asked
JITTER = 2.0  # distractor scores are their deficit plus this much noise: balanced, not predictable


@dataclass(frozen=True)
class MCQuestion:
    """One multiple-choice question: ``choices[answer_index] == answer``."""

    template: Template
    filler: str | None  # the class or side in the question, None when it has no slot
    answer: str
    choices: tuple[str, ...]  # NUM_CHOICES distinct values of the template's kind
    answer_index: int

    @property
    def text(self) -> str:
        return self.template.question(self.filler)


def text_words(text: str) -> set[str]:
    """The words the loader makes of a question (`question_tokens`), padding dropped."""
    return {w for w in question_tokens(text, [], QUESTION_LEN) if w != PAD}


class MultipleChoicePicker:
    """Draws questions clip by clip, balancing question types, answers and candidates in a split.

    ``known_words`` and ``known_values`` (train's, when picking val and test): questions only use
    words of train's questions, and a template's candidates only values train shows as its
    candidates (vocabularies are built from train). The module docstring says how answers
    and distractors are balanced.
    """

    def __init__(self, palette: tuple[str, ...], questions_per_clip: int, known_words: set[str] | None = None,
                 known_values: dict[str, set[str]] | None = None) -> None:
        self.palette = palette
        self.questions_per_clip = questions_per_clip
        self.known_words = known_words
        self.domains = {t.key: tuple(v for v in candidate_domain(t.kind, palette)
                                     if known_values is None or v in known_values.get(t.key, ()))
                        for t in TEMPLATES}
        self.type_counts: Counter[str] = Counter()
        self.template_counts: Counter[str] = Counter()
        self.right: dict[str, Counter[str]] = defaultdict(Counter)
        self.distractor: dict[str, Counter[str]] = defaultdict(Counter)

    def fillers(self, template: Template) -> tuple[str | None, ...]:
        if template.slot == "instrument":
            return self.palette
        return SIDES if template.slot == "side" else (None,)

    def options(self, scene: Scene, template: Template) -> dict[str | None, tuple[str, tuple[str, ...]]]:
        """filler -> (answer, values never right) for every filler that asks ``template`` of
        ``scene`` with words and an answer this split may use."""
        domain = self.domains[template.key]
        found = {}
        for filler in self.fillers(template):
            resolution = template.resolve(scene, filler)
            if resolution is None:
                continue
            answer, never = resolution
            if answer not in domain or len(set(domain) - set(never)) < NUM_CHOICES:
                continue
            if self.known_words is not None and not text_words(template.question(filler)) <= self.known_words:
                continue
            found[filler] = resolution
        return found

    def pick(self, scene: Scene, rng: np.random.Generator) -> list[MCQuestion]:
        """Up to ``questions_per_clip`` questions, each template once before any twice (with
        another filler); answer_index is 0 until the split's positions are dealt (`deal_positions`)."""
        options = {t.key: found for t in TEMPLATES if (found := self.options(scene, t))}
        jitter = {key: rng.random() for key in options}
        asked_types: Counter[str] = Counter()
        asked_templates: Counter[str] = Counter()
        questions = []
        while len(questions) < self.questions_per_clip:
            allowed = {key: [f for f, (answer, _) in found.items() if not self._overused(key, answer)]
                       for key, found in options.items()}
            allowed = {key: fillers for key, fillers in allowed.items() if fillers}
            if not allowed:
                break
            # a template and a type this clip was asked least, then those asked least in the split
            key = min(allowed, key=lambda k: (asked_templates[k], asked_types[TEMPLATE_BY_KEY[k].qtype],
                                              self.type_counts[TEMPLATE_BY_KEY[k].qtype],
                                              self.template_counts[k], jitter[k]))
            # the answer given least so far, then one of the fillers that ask for it
            answers = sorted({options[key][f][0] for f in allowed[key]})
            answer = min(answers, key=lambda a: (self.right[key][a], rng.random()))
            fillers = [f for f in allowed[key] if options[key][f][0] == answer]
            filler = fillers[int(rng.integers(len(fillers)))]
            never = options[key].pop(filler)[1]
            template = TEMPLATE_BY_KEY[key]
            asked_types[template.qtype] += 1
            asked_templates[key] += 1
            questions.append(self._ask(template, filler, answer, never, rng))
        return questions

    def _ask(self, template: Template, filler: str | None, answer: str, never: tuple[str, ...],
             rng: np.random.Generator) -> MCQuestion:
        """Count the question and draw its distractors: the values whose distractor count lags
        furthest behind three times their right-answer count (``never``: values not to show)."""
        key = template.key
        self.type_counts[template.qtype] += 1
        self.template_counts[key] += 1
        self.right[key][answer] += 1
        pool = [v for v in self.domains[key] if v != answer and v not in never]
        noise = rng.random(len(pool))
        score = np.array([3 * self.right[key][v] - self.distractor[key][v] for v in pool]) + JITTER * noise
        distractors = [pool[i] for i in np.argsort(-score, kind="stable")[: NUM_CHOICES - 1]]
        self.distractor[key].update(distractors)
        return MCQuestion(template, filler, answer, (answer, *distractors), 0)

    def _overused(self, key: str, answer: str) -> bool:
        """Would asking ``answer`` once more make it too common for its template? With four values
        (every question shows them all) it may lead the rarest by one; with more, it may not pass
        ANSWER_SHARE of the template's questions, give or take SLACK."""
        counts, domain = self.right[key], self.domains[key]
        if len(domain) <= NUM_CHOICES:
            return counts[answer] > min(counts[v] for v in domain)
        return counts[answer] + 1 > ANSWER_SHARE * (self.template_counts[key] + 1) + SLACK


def deal_positions(questions: list[MCQuestion], rng: np.random.Generator) -> list[MCQuestion]:
    """Each question with its candidates in place. The answer positions come in blocks of the
    four positions in random order, dealt to the questions template by template (in random
    order within a template): a split is balanced to within one question and each template to
    within two, so neither the split nor the question tells the position. The distractors fill
    the other positions in random order."""
    n = len(questions)
    order = np.lexsort((rng.random(n), [TEMPLATE_INDEX[q.template.key] for q in questions]))
    positions = np.empty(n, dtype=np.int64)
    positions[order] = np.concatenate([rng.permutation(NUM_CHOICES) for _ in range(-(-n // NUM_CHOICES))])[:n]
    placed = []
    for q, position in zip(questions, positions):
        others = [q.choices[1:][i] for i in rng.permutation(NUM_CHOICES - 1)]
        choices = (*others[:position], q.answer, *others[position:])
        placed.append(replace(q, choices=tuple(choices), answer_index=int(position)))
    return placed


def make_avqa_yang_questions(size: str = "tiny", seed: int = 0) -> dict[str, list[tuple[Scene, list[MCQuestion]]]]:
    """split -> [(scene, its questions)], without features (fast: used by tests and notebooks).
    A scene's video_id is its clip's video_name."""
    p = preset(size)
    counts = split_counts(p.clips)
    scene_rng = np.random.default_rng([seed, SCENE_STREAM])
    result, number = {}, 0
    known: tuple[set[str] | None, dict[str, set[str]] | None] = (None, None)
    for k, split in enumerate(SPLITS):
        picker = MultipleChoicePicker(p.instruments, p.questions_per_clip, *known)
        question_rng = np.random.default_rng([seed, QUESTION_STREAM, k])
        items = []
        for _ in range(counts[split]):
            number += 1
            scene = sample_scene(scene_rng, video_name(number), p.instruments)
            items.append((scene, picker.pick(scene, question_rng)))
        choice_rng = np.random.default_rng([seed, CHOICE_STREAM, k])
        placed = iter(deal_positions([q for _, qs in items for q in qs], choice_rng))
        result[split] = [(scene, [next(placed) for _ in qs]) for scene, qs in items]
        if split == "train":
            questions = [q for _, qs in items for q in qs]
            values: dict[str, set[str]] = defaultdict(set)
            for q in questions:
                values[q.template.key].update(q.choices)
            known = ({w for q in questions for w in text_words(q.text)}, dict(values))
    return result


def to_record(question_id: int, number: int, question: MCQuestion) -> dict:
    """One record in the AVQA-Yang schema (`sasr_lite.data.avqa_yang`)."""
    return {
        "id": question_id,
        "video_name": video_name(number),
        "video_id": number,
        "question_text": question.text,
        "multi_choice": list(question.choices),
        "answer": question.answer_index,
        "question_type": question.template.qtype,
        "question_relation": question.template.relation,
    }


def clip_number(name: str) -> int:
    """"synth_00000012_0" -> 12."""
    return int(name.split("_")[1])


def generate_avqa_yang(out_dir: str | Path, size: str = "tiny", seed: int = 0, difficulty: float = 1.0,
                       progress: bool = False) -> Path:
    """Write the benchmark to ``out_dir`` (layout in the module docstring); returns ``out_dir``."""
    out = Path(out_dir)
    if difficulty < 0:
        raise ValueError(f"difficulty must be >= 0, got {difficulty}")
    splits = make_avqa_yang_questions(size, seed)
    renderer = FeatureRenderer(SEGMENTS, difficulty=difficulty, seed=seed)
    counts, question_id = {}, 0
    for split, items in splits.items():
        records = []
        for scene, questions in items:
            for q in questions:
                records.append(to_record(question_id, clip_number(scene.video_id), q))
                question_id += 1
        scenes = [scene for scene, _ in items]
        write_text_atomic(out / split_file(split), json.dumps(records, indent=4) + "\n")
        save_scenes(out / "scenes" / f"{split}.json", split, scenes)
        ids = [s.video_id for s in scenes]
        source = f"sasr-lite synthetic AVQA-Yang (seed {seed}, difficulty {difficulty:g})"
        metadata = {"num_frames": CLIP_SECONDS, "segments": list(SEGMENTS)}  # num_frames: as a real AVQA-Yang store
        with StoreWriter(out / "store" / split, ids, num_segments=CLIP_SECONDS, num_positions=NUM_POSITIONS,
                         source=source, stride=1, metadata=metadata) as writer:
            for i, scene in enumerate(tqdm(scenes, desc=f"synth {split}", unit="clip", disable=not progress)):
                rng = np.random.default_rng([seed, FEATURE_STREAM, clip_number(scene.video_id)])
                f = renderer.render(scene, rng)
                writer.write(i, audio=f.audio, visual=f.visual, maps=f.maps)
        counts[split] = {"videos": len(scenes), "questions": len(records)}
    p = preset(size)
    manifest = {
        "format": AVQA_SYNTH_FORMAT, "version": AVQA_SYNTH_VERSION, "dataset": NAME, "size": size, "seed": seed,
        "questions_per_clip": p.questions_per_clip, "instruments": list(p.instruments),
        "difficulty": difficulty, "clip_seconds": CLIP_SECONDS, "stride": 1, "segments": list(SEGMENTS),
        "world_seed": WORLD_SEED, "counts": counts,
    }
    write_text_atomic(out / "synth.json", json.dumps(manifest, indent=2) + "\n")  # last: marks completion
    return out


# --- `sasr-lite synth --dataset avqa-yang` -------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    """Generate with the parsed `sasr-lite synth` arguments (generate.py dispatches here)."""
    p = preset(args.size)
    need = store_nbytes(p.clips, CLIP_SECONDS, NUM_POSITIONS) / 1e9
    print(f"generating {NAME} {args.size} ({p.clips} clips of {CLIP_SECONDS} s, up to {p.questions_per_clip} "
          f"questions each, {len(p.instruments)} instrument classes, about {need:.1f} GB of features) into {args.out}")
    start = time.perf_counter()
    out = generate_avqa_yang(args.out, args.size, args.seed, args.difficulty, progress=True)
    seconds = time.perf_counter() - start
    counts = json.loads((out / "synth.json").read_text())["counts"]
    summary = ", ".join(f"{s} {c['videos']} clips / {c['questions']} questions" for s, c in counts.items())
    print(f"wrote {out}: {summary}; {disk_size(out) / 1e9:.2f} GB in {seconds:.1f} s")
    return 0
