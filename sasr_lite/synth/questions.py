"""Questions about a scene: all 33 MUSIC-AVQA templates, answers computed from the scene.

`resolve(scene, key, values)` is the meaning of every template in this benchmark: it returns
the answer and the segments the question is about, or None when the fillers do not make a
well-posed question for the scene (an ambiguous "the <Object>", a tie, a missing neighbour).
Words used below:

- *source*: any instrument of the scene, visible or off-screen; *heard*: it sounds at least once.
- *onset*: its first sounding segment; "first"/"last" (<FL>) = the heard source with the
  earliest/latest onset, which must be unique; "<TH> instrument that comes in" = rank by onset;
  order questions need at least two heard sources.
- *side*: left/middle/right of a visible instrument; "the instrument on the <LR>" needs exactly
  one visible instrument on that side; "on the <LR> of X" = X's nearest visible neighbour on that
  side (left/right only).
- Audio questions are about what is heard (off-screen sources included); Visual questions about
  what is visible; Audio-Visual questions about visible instruments and their sound.

`QuestionPicker` asks each video k distinct templates: k drawn from QUESTIONS_PER_VIDEO
(about 5, as MUSIC-AVQA) by default, or a fixed ``questions_per_video`` (fewer when the scene
can pose fewer; features are per video, so more questions per video are nearly free). It
balances answers per template: it asks the templates used least so far (among those the scene
can pose) and, within each, the answer given least so far. Yes/no therefore lands near 50/50
and open answers spread out, so the answer prior of a template does not solve it. That is how
MUSIC-AVQA v2.0 balances the original questions; ``bias`` > 0 gives the biased counterpart.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import permutations

import numpy as np

from sasr_lite.data.annotations import question_tokens
from sasr_lite.data.taxonomy import (
    INSTRUMENTS, MORE_THAN_TEN, NO, NUMBER_WORDS, PLACEHOLDER_VALUES, SIDES, SIMULTANEOUSLY,
    TEMPLATE_BY_KEY, TEMPLATES, YES, Template,
)
from sasr_lite.synth.scenes import BLOCK, NUM_SEGMENTS, Instrument, Scene, check_instruments

# question_content exactly as MUSIC-AVQA writes it: three templates carry a trailing space or
# a full-width question mark in the real files, and the synthetic files keep those quirks so
# the loader is exercised the same way.
RAW_TEXT: dict[str, str] = {t.key: t.text for t in TEMPLATES} | {
    "a_count_are_there": "Are there <Object> and <Object> sound? ",
    "v_loc_lrer": "What kind of instrument is the <LRer> instrument? ",
    "av_count_sounding_obj": "How many sounding <Object> in the video\uff1f",
}
QUESTIONS_PER_VIDEO = (4, 5, 6)  # drawn with QUESTIONS_PER_VIDEO_P: about 5, as MUSIC-AVQA
QUESTIONS_PER_VIDEO_P = (0.25, 0.5, 0.25)
MAX_SHARE = 0.4  # an open answer above this share of its template's questions is overused ...
WAIT = 8.0  # ... and its template waits this many questions' worth for a scene with another answer
ALL_SEGMENTS = (1 << NUM_SEGMENTS) - 1  # focus sets are integers: bit s = segment s


@dataclass(frozen=True)
class Resolution:
    answer: str
    focus_bits: int  # the segments the question is about, bit s = segment s

    @property
    def focus(self) -> np.ndarray:
        """bool [60]: the segments the question is about."""
        return ((self.focus_bits >> np.arange(NUM_SEGMENTS)) & 1).astype(bool)


@dataclass(frozen=True)
class Question:
    template: Template
    templ_values: list[str]
    answer: str


def yes_no(flag: bool) -> str:
    return YES if flag else NO


def number(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else MORE_THAN_TEN


# --- facts about a scene ---------------------------------------------------------------------
def heard(scene: Scene) -> list[Instrument]:
    return list(scene.heard)


def the_one(items: list[Instrument]) -> Instrument | None:
    """The single element, or None when there are zero or several (the question is ambiguous)."""
    return items[0] if len(items) == 1 else None


def heard_of(scene: Scene, cls: str) -> Instrument | None:
    return the_one([i for i in heard(scene) if i.cls == cls])


def visible_of(scene: Scene, cls: str) -> Instrument | None:
    return the_one([i for i in scene.visible if i.cls == cls])


def on_side(scene: Scene, side: str) -> Instrument | None:
    return the_one([i for i in scene.visible if i.side == side])


def neighbour(scene: Scene, inst: Instrument, lr: str) -> Instrument | None:
    """Nearest visible instrument left or right of ``inst``."""
    if lr == "left":
        left = [i for i in scene.visible if i.x < inst.x]
        return left[-1] if left else None
    right = [i for i in scene.visible if i.x > inst.x]
    return right[0] if right else None


def in_order(scene: Scene) -> list[Instrument]:
    """Heard sources for order questions ("first", "<TH>"): empty unless at least two are heard,
    since an order of one instrument would be a question about what plays, not about time."""
    sources = heard(scene)
    return sources if len(sources) >= 2 else []


def first_or_last(sources: list[Instrument], fl: str) -> Instrument | None:
    """The source with the unique earliest ("first") or latest ("last") onset."""
    if not sources:
        return None
    onsets = [i.onset for i in sources]
    target = min(onsets) if fl == "first" else max(onsets)
    return the_one([i for i in sources if i.onset == target])


def union(*insts: Instrument) -> int:
    """Segments where any of these instruments sounds (every segment when none does)."""
    focus = 0
    for i in insts:
        focus |= i.bits
    return focus or ALL_SEGMENTS


def onset_block(*insts: Instrument) -> int:
    """The 6-segment blocks in which these instruments come in."""
    focus = 0
    for i in insts:
        focus |= ((1 << BLOCK) - 1) << i.onset
    return focus


# --- the meaning of each template ------------------------------------------------------------
Resolver = Callable[[Scene, list[str]], "Resolution | None"]
_RESOLVERS: dict[str, Resolver] = {}


def _resolver(key: str):
    def register(fn: Resolver) -> Resolver:
        _RESOLVERS[key] = fn
        return fn
    return register


def resolve(scene: Scene, key: str, values: list[str]) -> Resolution | None:
    """Answer and focus of template ``key`` with fillers ``values``, or None if ill-posed."""
    template = TEMPLATE_BY_KEY[key]
    slots = template.placeholders
    if len(values) != len(slots) or any(v not in PLACEHOLDER_VALUES[s] for s, v in zip(slots, values)):
        raise ValueError(f"fillers {values} do not fit {template.text!r} ({slots})")
    return _RESOLVERS[key](scene, list(values))


@_resolver("a_count_is_there")
def _(scene, values):
    found = [i for i in heard(scene) if i.cls == values[0]]
    return Resolution(yes_no(bool(found)), union(*found))


@_resolver("a_count_are_there")
def _(scene, values):
    a, b = values
    if a == b:
        return None
    found = [i for i in heard(scene) if i.cls in (a, b)]
    both = {i.cls for i in found} == {a, b}
    return Resolution(yes_no(both), union(*found))


@_resolver("a_count_how_many")
def _(scene, values):
    sources = heard(scene)
    return Resolution(number(len(sources)), union(*sources))


def _audio_compare(attribute: str) -> Resolver:
    def compare(scene, values):
        a, b = values
        i, j = heard_of(scene, a), heard_of(scene, b)
        if a == b or i is None or j is None or getattr(i, attribute) == getattr(j, attribute):
            return None
        return Resolution(yes_no(getattr(i, attribute) > getattr(j, attribute)), union(i, j))
    return compare


_resolver("a_comp_louder")(_audio_compare("loudness"))
_resolver("a_comp_rhythmic")(_audio_compare("rhythm"))
_resolver("a_comp_longer")(_audio_compare("duration"))


@_resolver("v_count_is_there")
def _(scene, values):
    return Resolution(yes_no(any(i.cls == values[0] for i in scene.visible)), ALL_SEGMENTS)


@_resolver("v_count_are_there")
def _(scene, values):
    a, b = values
    if a == b:
        return None
    classes = {i.cls for i in scene.visible}
    return Resolution(yes_no(a in classes and b in classes), ALL_SEGMENTS)


@_resolver("v_count_how_many_obj")
def _(scene, values):
    return Resolution(number(sum(i.cls == values[0] for i in scene.visible)), ALL_SEGMENTS)


@_resolver("v_count_types")
def _(scene, values):
    return Resolution(number(len({i.cls for i in scene.visible})), ALL_SEGMENTS)


@_resolver("v_loc_side_of")
def _(scene, values):
    lr, cls = values
    inst = visible_of(scene, cls)
    other = None if inst is None or lr == "middle" else neighbour(scene, inst, lr)
    return None if other is None else Resolution(other.cls, ALL_SEGMENTS)


@_resolver("v_loc_lrer")
def _(scene, values):
    if len(scene.visible) < 2:
        return None
    inst = scene.visible[0] if values[0] == "leftest" else scene.visible[-1]
    return Resolution(inst.cls, ALL_SEGMENTS)


@_resolver("v_loc_what_kind")
def _(scene, values):
    classes = {i.cls for i in scene.visible}
    return Resolution(classes.pop(), ALL_SEGMENTS) if len(classes) == 1 else None


@_resolver("v_loc_where_perf")
def _(scene, values):
    return Resolution(scene.background, ALL_SEGMENTS)


@_resolver("av_ext_always")
def _(scene, values):
    inst = visible_of(scene, values[0])
    return None if inst is None else Resolution(yes_no(inst.always), ALL_SEGMENTS)


@_resolver("av_ext_voiceover")
def _(scene, values):
    voice = int(scene.voiceover[::-1], 2)
    return Resolution(yes_no(scene.has_voiceover), voice or ALL_SEGMENTS)


@_resolver("av_ext_from_video")
def _(scene, values):
    off = [i for i in scene.offscreen if i.sounds]
    return Resolution(yes_no(not off), union(*off) if off else union(*heard(scene)))


@_resolver("av_count_sounding")
def _(scene, values):
    sounding = [i for i in scene.visible if i.sounds]
    return Resolution(number(len(sounding)), union(*sounding))


@_resolver("av_count_not_whole")
def _(scene, values):
    return Resolution(number(sum(not i.always for i in scene.visible)), ALL_SEGMENTS)


@_resolver("av_count_sounding_obj")
def _(scene, values):
    sounding = [i for i in scene.visible if i.sounds and i.cls == values[0]]
    return Resolution(number(len(sounding)), union(*sounding))


@_resolver("av_count_types")
def _(scene, values):
    sounding = [i for i in scene.visible if i.sounds]
    return Resolution(number(len({i.cls for i in sounding})), union(*sounding))


@_resolver("av_loc_fl_from_lr")
def _(scene, values):
    fl, lr = values
    source, inst = first_or_last(in_order(scene), fl), on_side(scene, lr)
    if source is None or not source.visible or inst is None:
        return None
    return Resolution(yes_no(source is inst), onset_block(source))


@_resolver("av_loc_lr_of_fl")
def _(scene, values):
    lr, fl = values
    source = first_or_last(in_order(scene), fl)
    if source is None or not source.visible or lr == "middle":
        return None
    other = neighbour(scene, source, lr)
    return None if other is None else Resolution(other.cls, onset_block(source))


@_resolver("av_loc_where_ll")
def _(scene, values):
    sources = heard(scene)
    if len(sources) < 2:
        return None
    loudness = [i.loudness for i in sources]
    target = max(loudness) if values[0] == "loudest" else min(loudness)
    inst = the_one([i for i in sources if i.loudness == target])
    return None if inst is None or not inst.visible else Resolution(inst.side, inst.bits)


@_resolver("av_loc_same_time")
def _(scene, values):
    inst = visible_of(scene, values[0])
    if inst is None or not inst.sounds:
        return None
    others = [i for i in scene.visible if i is not inst and i.sounds]
    overlap = [(i.bits & inst.bits).bit_count() for i in others]
    if not others or max(overlap) == 0:
        return None
    best = the_one([i for i, o in zip(others, overlap) if o == max(overlap)])
    return None if best is None else Resolution(best.cls, inst.bits & best.bits)


def _visible_compare(attribute: str) -> Resolver:
    def compare(scene, values):
        if len(values) == 4:  # the <Object> on the <LR> ... the <Object> on the <LR>
            a = the_one([i for i in scene.visible if (i.cls, i.side) == (values[0], values[1])])
            b = the_one([i for i in scene.visible if (i.cls, i.side) == (values[2], values[3])])
        else:  # the instrument on the <LR> ... the instrument on the <LR>
            a, b = on_side(scene, values[0]), on_side(scene, values[1])
        if a is None or b is None or a is b or not (a.sounds and b.sounds):
            return None
        return Resolution(yes_no(getattr(a, attribute) > getattr(b, attribute)), union(a, b))
    return compare


_resolver("av_comp_obj_louder")(_visible_compare("loudness"))
_resolver("av_comp_obj_rhythmic")(_visible_compare("rhythm"))
_resolver("av_comp_side_louder")(_visible_compare("loudness"))
_resolver("av_comp_side_rhythmic")(_visible_compare("rhythm"))


@_resolver("av_temp_th_comes_in")
def _(scene, values):
    rank = PLACEHOLDER_VALUES["<TH>"].index(values[0])
    sources = sorted(in_order(scene), key=lambda i: i.onset)
    if rank >= len(sources):
        return None
    onset = sources[rank].onset
    if sum(i.onset == onset for i in sources) > 1:  # came in together: no k-th
        return None
    return Resolution(sources[rank].cls, onset_block(sources[rank]))


@_resolver("av_temp_where_fl")
def _(scene, values):
    source = first_or_last(in_order(scene), values[0])
    return None if source is None or not source.visible else Resolution(source.side, onset_block(source))


@_resolver("av_temp_which_obj_fl")
def _(scene, values):
    cls, fl = values
    same = [i for i in scene.visible if i.cls == cls and i.sounds]
    if len(same) < 2 or len({i.side for i in same}) < len(same):
        return None
    inst = first_or_last(same, fl)
    return Resolution(SIMULTANEOUSLY if inst is None else inst.side, onset_block(*same))


@_resolver("av_temp_before_after")
def _(scene, values):
    ba, cls = values
    inst = heard_of(scene, cls)
    if inst is None:
        return None
    others = [i for i in heard(scene) if (i.onset < inst.onset if ba == "before" else i.onset > inst.onset)]
    other = first_or_last(others, "last" if ba == "before" else "first")
    return None if other is None else Resolution(other.cls, onset_block(inst, other))


assert set(_RESOLVERS) == set(TEMPLATE_BY_KEY), "every template needs a resolver"


# --- which fillers to try for a template --------------------------------------------------------
def _fillers(scene: Scene, key: str, rng: np.random.Generator, instruments: tuple[str, ...]) -> list[list[str]]:
    """Candidate templ_values for ``key`` (`resolve` discards the ill-posed ones); an <Object> is
    one of the benchmark's ``instruments``."""
    slots = TEMPLATE_BY_KEY[key].placeholders
    present = sorted({i.cls for i in scene.instruments})
    if slots == ["<Object>", "<Object>"]:
        # pairs of the scene's classes and two absent ones (not all 462 pairs: the answer
        # depends only on presence, and absent classes are drawn uniformly)
        absent = [c for c in instruments if c not in present]
        pool = present + list(rng.choice(absent, size=2, replace=False))
        return [list(p) for p in permutations(pool, 2)]
    if slots == ["<Object>", "<LR>", "<Object>", "<LR>"]:
        pairs = sorted({(i.cls, i.side) for i in scene.visible})
        return [[a[0], a[1], b[0], b[1]] for a, b in permutations(pairs, 2)]
    if slots == ["<LR>", "<LR>"]:
        return [list(p) for p in permutations(SIDES, 2)]
    domains = [instruments if s == "<Object>" else PLACEHOLDER_VALUES[s] for s in slots]
    combos: list[list[str]] = [[]]
    for domain in domains:
        combos = [c + [v] for c in combos for v in domain]
    return combos


def candidates(scene: Scene, key: str, rng: np.random.Generator,
               instruments: tuple[str, ...] = INSTRUMENTS) -> dict[str, list[list[str]]]:
    """answer -> the templ_values that pose template ``key`` about ``scene`` with that answer
    (an <Object> filler is one of ``instruments``, the classes the benchmark draws from)."""
    by_answer: dict[str, list[list[str]]] = defaultdict(list)
    for values in _fillers(scene, key, rng, instruments):
        resolution = _RESOLVERS[key](scene, values)
        if resolution is not None:
            by_answer[resolution.answer].append(values)
    return dict(by_answer)


class QuestionPicker:
    """Draws questions video by video, balancing templates and answers within a split.

    ``known_words`` and ``known_answers`` (the train split's, when picking val and test
    questions) restrict questions to words and answers seen in train: vocabularies are built
    from train, and a rare word ("fifth") first met at test time could not have been learnt.

    ``questions_per_video``: None draws k from QUESTIONS_PER_VIDEO for each video (about 5, as
    MUSIC-AVQA); a number k asks up to k distinct templates of every video (fewer when the scene
    can pose fewer) and draws nothing from the rng for k. A k close to the number of templates a
    scene can pose would reach the templates waiting for a rarer answer, so with a fixed k those
    are skipped rather than put last (av_ext_always drifted to 79% "no" at k = 20 otherwise).

    ``instruments``: the classes the benchmark's scenes are drawn from; questions name only these.

    ``bias``: 0 balances answers as above (MUSIC-AVQA v2.0's way). With ``bias`` = b > 0, each
    template, when the scene offers it, is asked with probability b with its *favoured* answer, the
    one it has been given most often so far in the split (rich get richer, as in the original
    MUSIC-AVQA, whose yes/no templates lean to one answer), and is never held back for it.
    """

    def __init__(self, known_words: set[str] | None = None, known_answers: set[str] | None = None,
                 questions_per_video: int | None = None, instruments: tuple[str, ...] = INSTRUMENTS,
                 bias: float = 0.0) -> None:
        if not 0 <= bias < 1:
            raise ValueError(f"bias must lie in [0, 1), got {bias!r}")
        self.bias = bias
        if questions_per_video is not None and (
                isinstance(questions_per_video, bool) or not isinstance(questions_per_video, int)
                or questions_per_video < 1):
            raise ValueError(f"questions_per_video must be None or an integer >= 1, got {questions_per_video!r}")
        self.known_words, self.known_answers = known_words, known_answers
        self.questions_per_video = questions_per_video
        self.instruments = check_instruments(instruments)
        self.template_counts: Counter[str] = Counter()
        self.answer_counts: dict[str, Counter[str]] = defaultdict(Counter)

    def pick(self, scene: Scene, rng: np.random.Generator) -> list[Question]:
        k = self.questions_per_video
        if k is None:
            k = int(rng.choice(QUESTIONS_PER_VIDEO, p=QUESTIONS_PER_VIDEO_P))
        options = {t.key: self._learnable(t.key, candidates(scene, t.key, rng, self.instruments))
                   for t in TEMPLATES}
        options = {key: by_answer for key, by_answer in options.items() if by_answer}
        # least-used templates first (random tie-break); a template whose answers on offer are
        # all over-represented already waits for a scene that offers a rarer answer
        answers = {key: min(sorted(by_answer), key=lambda a: self.answer_counts[key][a] + 0.5 * rng.random())
                   for key, by_answer in options.items()}
        favoured = set()  # bias > 0: templates asked with their favoured answer (no rng draw at bias 0)
        for key in options if self.bias else ():
            counts = self.answer_counts[key]
            top = max(counts, key=counts.get) if counts else None
            if top in options[key] and rng.random() < self.bias:
                answers[key] = top
                favoured.add(key)
        order = sorted(options, key=lambda key: self.template_counts[key] + rng.random()
                       + WAIT * (self._overused(key, answers[key]) and key not in favoured))
        if self.questions_per_video is not None:
            # a large k would reach the waiting templates too: skip them (see the class docstring)
            order = [key for key in order if key in favoured or not self._overused(key, answers[key])]
        questions = []
        for key in sorted(order[:k], key=lambda key: TEMPLATE_BY_KEY[key].index):
            by_answer, answer = options[key], answers[key]
            values = by_answer[answer][int(rng.integers(len(by_answer[answer])))]
            self.template_counts[key] += 1
            self.answer_counts[key][answer] += 1
            questions.append(Question(TEMPLATE_BY_KEY[key], values, answer))
        return questions

    def _learnable(self, key: str, by_answer: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        """``by_answer`` without the questions whose words or answer are unknown."""
        if self.known_words is None and self.known_answers is None:
            return by_answer
        kept = {}
        for answer, fillers in by_answer.items():
            if self.known_answers is not None and answer not in self.known_answers:
                continue
            if self.known_words is not None:
                # the loader's words are the template's own words plus the fillers, one word each
                template_words = question_tokens(RAW_TEXT[key], TEMPLATE_BY_KEY[key].placeholders)
                if not {w for w in template_words if not w.startswith("<")} <= self.known_words:
                    return {}
                fillers = [v for v in fillers if set(v) <= self.known_words]
            if fillers:
                kept[answer] = fillers
        return kept

    def _overused(self, key: str, answer: str) -> bool:
        """Has ``answer`` been given too often for template ``key`` to be asked with it now?

        Two-answer templates (yes/no, indoor/outdoor): more than 2 ahead of the other answer.
        Open templates: above MAX_SHARE of the template's questions so far."""
        counts = self.answer_counts[key]
        if len(counts) == 2:
            return counts[answer] > min(counts.values()) + 2
        return counts[answer] > MAX_SHARE * max(10, self.template_counts[key])


def to_record(video_id: str, question_id: int, question: Question) -> dict:
    """One annotation in the exact MUSIC-AVQA schema (stringified lists, the key "anser")."""
    t = question.template
    return {
        "video_id": video_id,
        "question_id": question_id,
        "type": json.dumps([t.group, t.subtype]),
        "question_content": RAW_TEXT[t.key],
        "templ_values": json.dumps(question.templ_values),
        "question_deleted": 0,
        "anser": question.answer,
    }
