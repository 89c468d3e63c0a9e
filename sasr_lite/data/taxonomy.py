"""MUSIC-AVQA's question taxonomy as named constants: groups, subtypes, templates, classes.

Everything else (evaluation tables, the synthetic generator, notebooks) imports these names
instead of spelling strings again. The facts come from the dataset's annotation files
(docs/design.md section 2.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- question types -------------------------------------------------------------------------
GROUPS: tuple[str, ...] = ("Audio", "Visual", "Audio-Visual")

# The 9 (group, subtype) pairs, in the column order of the paper's Table 1.
SUBTYPES: tuple[tuple[str, str], ...] = (
    ("Audio", "Counting"),
    ("Audio", "Comparative"),
    ("Visual", "Counting"),
    ("Visual", "Location"),
    ("Audio-Visual", "Existential"),
    ("Audio-Visual", "Location"),
    ("Audio-Visual", "Counting"),
    ("Audio-Visual", "Comparative"),
    ("Audio-Visual", "Temporal"),
)

# --- the 22 instrument classes (also the C = 22 source tokens) --------------------------------
INSTRUMENTS: tuple[str, ...] = (
    "accordion", "acoustic_guitar", "bagpipe", "banjo", "bassoon", "cello", "clarinet",
    "congas", "drum", "electric_bass", "erhu", "flute", "guzheng", "piano", "pipa",
    "saxophone", "suona", "trumpet", "tuba", "ukulele", "violin", "xylophone",
)

# --- placeholders and the words that fill them -----------------------------------------------
PLACEHOLDER_VALUES: dict[str, tuple[str, ...]] = {
    "<Object>": INSTRUMENTS,
    "<LR>": ("left", "right", "middle"),
    "<LL>": ("loudest", "lowest"),
    "<TH>": ("first", "second", "third", "fourth", "fifth"),
    "<FL>": ("first", "last"),
    "<BA>": ("before", "after"),
    "<LRer>": ("leftest", "rightest"),
}
PLACEHOLDERS: tuple[str, ...] = tuple(PLACEHOLDER_VALUES)
PLACEHOLDER_RE = re.compile(r"<[A-Za-z]+>")

# --- answer words (the vocabulary itself is always built from the train split) ---------------
NUMBER_WORDS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)
MORE_THAN_TEN = "more than ten"
YES, NO = "yes", "no"
SIDES: tuple[str, ...] = ("left", "right", "middle")
BACKGROUNDS: tuple[str, ...] = ("indoor", "outdoor")
SIMULTANEOUSLY = "simultaneously"
# Every answer word MUSIC-AVQA uses (41 appear in val+test): a check for loaders and the
# synthetic generator, never the answer vocabulary itself.
ANSWER_WORDS: tuple[str, ...] = (
    (YES, NO) + NUMBER_WORDS + (MORE_THAN_TEN,) + SIDES + BACKGROUNDS + (SIMULTANEOUSLY,) + INSTRUMENTS
)


@dataclass(frozen=True)
class Template:
    """One of the 33 question templates."""

    index: int  # position in TEMPLATES
    key: str  # short stable name used in tables and in the synthetic generator
    group: str
    subtype: str
    text: str  # canonical text: stripped, ending in "?"

    @property
    def placeholders(self) -> list[str]:
        return PLACEHOLDER_RE.findall(self.text)

    @property
    def subtype_index(self) -> int:
        return SUBTYPES.index((self.group, self.subtype))


_TEMPLATE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # Audio / Counting
    ("a_count_is_there", "Audio", "Counting", "Is there a <Object> sound?"),
    ("a_count_are_there", "Audio", "Counting", "Are there <Object> and <Object> sound?"),
    ("a_count_how_many", "Audio", "Counting",
     "How many musical instruments were heard throughout the video?"),
    # Audio / Comparative
    ("a_comp_louder", "Audio", "Comparative", "Is the <Object> louder than the <Object>?"),
    ("a_comp_rhythmic", "Audio", "Comparative",
     "Is the <Object> more rhythmic than the <Object>?"),
    ("a_comp_longer", "Audio", "Comparative",
     "Is the <Object> playing longer than the <Object>?"),
    # Visual / Counting
    ("v_count_is_there", "Visual", "Counting", "Is there a <Object> in the entire video?"),
    ("v_count_are_there", "Visual", "Counting",
     "Are there <Object> and <Object> instruments in the video?"),
    ("v_count_how_many_obj", "Visual", "Counting", "How many <Object> are in the entire video?"),
    ("v_count_types", "Visual", "Counting",
     "How many types of musical instruments appeared in the entire video?"),
    # Visual / Location
    ("v_loc_side_of", "Visual", "Location", "What is the instrument on the <LR> of <Object>?"),
    ("v_loc_lrer", "Visual", "Location", "What kind of instrument is the <LRer> instrument?"),
    ("v_loc_what_kind", "Visual", "Location", "What kind of musical instrument is it?"),
    ("v_loc_where_perf", "Visual", "Location", "Where is the performance?"),
    # Audio-Visual / Existential
    ("av_ext_always", "Audio-Visual", "Existential", "Is the <Object> in the video always playing?"),
    ("av_ext_voiceover", "Audio-Visual", "Existential", "Is there a voiceover?"),
    ("av_ext_from_video", "Audio-Visual", "Existential",
     "Is this sound from the instrument in the video?"),
    # Audio-Visual / Counting
    ("av_count_sounding", "Audio-Visual", "Counting",
     "How many instruments are sounding in the video?"),
    ("av_count_not_whole", "Audio-Visual", "Counting",
     "How many instruments in the video did not sound from beginning to end?"),
    ("av_count_sounding_obj", "Audio-Visual", "Counting",
     "How many sounding <Object> in the video?"),
    ("av_count_types", "Audio-Visual", "Counting",
     "How many types of musical instruments sound in the video?"),
    # Audio-Visual / Location
    ("av_loc_fl_from_lr", "Audio-Visual", "Location",
     "Is the <FL> sound coming from the <LR> instrument?"),
    ("av_loc_lr_of_fl", "Audio-Visual", "Location",
     "What is the <LR> instrument of the <FL> sounding instrument?"),
    ("av_loc_where_ll", "Audio-Visual", "Location", "Where is the <LL> instrument?"),
    ("av_loc_same_time", "Audio-Visual", "Location",
     "Which is the musical instrument that sounds at the same time as the <Object>?"),
    # Audio-Visual / Comparative
    ("av_comp_obj_louder", "Audio-Visual", "Comparative",
     "Is the <Object> on the <LR> louder than the <Object> on the <LR>?"),
    ("av_comp_obj_rhythmic", "Audio-Visual", "Comparative",
     "Is the <Object> on the <LR> more rhythmic than the <Object> on the <LR>?"),
    ("av_comp_side_louder", "Audio-Visual", "Comparative",
     "Is the instrument on the <LR> louder than the instrument on the <LR>?"),
    ("av_comp_side_rhythmic", "Audio-Visual", "Comparative",
     "Is the instrument on the <LR> more rhythmic than the instrument on the <LR>?"),
    # Audio-Visual / Temporal
    ("av_temp_th_comes_in", "Audio-Visual", "Temporal", "What is the <TH> instrument that comes in?"),
    ("av_temp_where_fl", "Audio-Visual", "Temporal", "Where is the <FL> sounding instrument?"),
    ("av_temp_which_obj_fl", "Audio-Visual", "Temporal", "Which <Object> makes the sound <FL>?"),
    ("av_temp_before_after", "Audio-Visual", "Temporal",
     "Which instrument makes sounds <BA> the <Object>?"),
)

TEMPLATES: tuple[Template, ...] = tuple(
    Template(i, key, group, subtype, text) for i, (key, group, subtype, text) in enumerate(_TEMPLATE_ROWS)
)
TEMPLATE_BY_KEY: dict[str, Template] = {t.key: t for t in TEMPLATES}


def canonical_question_text(text: str) -> str:
    """Strip spaces and turn the full-width question mark into an ASCII one."""
    return text.strip().replace("\uff1f", "?")


_TEMPLATE_BY_TEXT: dict[str, Template] = {t.text: t for t in TEMPLATES}


def match_template(question_content: str) -> Template:
    """The Template whose text equals ``question_content`` (after canonicalisation).

    Raises KeyError naming the text when the question is not one of the 33 templates.
    """
    key = canonical_question_text(question_content)
    try:
        return _TEMPLATE_BY_TEXT[key]
    except KeyError:
        raise KeyError(f"not one of the 33 MUSIC-AVQA templates: {question_content!r}") from None


def subtype_index(group: str, subtype: str) -> int:
    """Index of (group, subtype) in SUBTYPES; ValueError for an unknown pair."""
    try:
        return SUBTYPES.index((group, subtype))
    except ValueError:
        raise ValueError(f"unknown question type {group!r}/{subtype!r}; known: {SUBTYPES}") from None


assert len(TEMPLATES) == 33 and len(SUBTYPES) == 9 and len(INSTRUMENTS) == 22
