"""MUSIC-AVQA annotation files -> typed `QARecord`s, the question-token rule, and releases.

A record of `avqa-{split}.json` looks like (docs/design.md section 2.1)::

    {"video_id": "00000086", "question_id": 28,
     "type": "[\\"Audio-Visual\\", \\"Existential\\"]",          # a *string* holding a JSON list
     "question_content": "Is the <Object> in the video always playing?",
     "templ_values": "[\\"violin\\"]",                           # fillers, in placeholder order
     "question_deleted": 0, "anser": "no"}                       # sic: the answer key is misspelt

Every record is kept, as in the reference loader (`question_deleted` is not a filter there).

**MUSIC-AVQA v2.0** (Liu et al., WACV 2024; files from github.com/DragonLiu1995/MUSIC-AVQA-v2.0
and the train/val division in github.com/AIM-SKKU/QA-TIGER, `data/annots/music_avqa_v2/`) is a
release of the same schema, read by the same loader. Its records come in four forms: the one
above; the same without ``question_id`` (and often without ``question_deleted``: the records
about the new videos, whose ids are 11-character YouTube ids, some with a ``_flip`` suffix);
``templ_values`` as a real JSON list with extra keys ``unmatch_audio``, ``audio_instrument``,
``video_instrument`` (or ``person``); and, in the val files, ids and ``question_deleted`` as
floats (``47859.0``) or null. Extra keys are ignored. A record without an id (missing or null)
gets a **derived id** (`derived_question_id`): 2**52 plus the first 52 bits of the SHA-256 of its
content, so the same record gets the same id in the full file and in any excerpt of it, and no
derived id can equal a published one (every published id is below 2**52; one that is not is
refused). Ids stay below 2**53, exact as float64 in pandas and JSON readers.

**MUSIC-AVQA-R** (Ma et al., NeurIPS 2024; github.com/reml-group/MUSIC-AVQA-R,
`dataset/MUSIC-AVQA-R/`) rephrases the test questions; its files `avqa-test-headtail.json`,
`avqa-test-head.json` and `avqa-test-tail.json` (`R_SPLITS`) are read in *rephrased* mode:
a question that matches none of the 33 templates gets its type's `rephrased_template`, and
``templ_values`` may be absent (the authors' `dataset/process_data.py` fills the placeholders in
and drops the key). Rephrasings of one question may share its ``question_id``, so every -R record
gets a derived id. The record form is the authors' description and code: their files are over
the size our source snapshots keep, so no real -R record has been read here.

Questions are NFKC-normalised before tokenising: the full-width question mark ``？`` (576
questions of the v2.0 balanced test file), full-width letters and the ideographic space read as
their ASCII forms.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from sasr_lite.data.taxonomy import PLACEHOLDER_RE, Template, match_template, subtype_index
from sasr_lite.data.files import read_json
from sasr_lite.data.published import file_release

QUESTION_LEN = 14  # L: words per question after padding (the reference pads to 14)
PAD = "<pad>"
R = TypeVar("R")  # a benchmark's record type

# Record counts of the two public releases (docs/design.md section 4.3).
RELEASE_SIZES: dict[str, dict[str, int]] = {
    "original": {"train": 32087, "val": 4595, "test": 9185},
    "json_update": {"train": 31927, "val": 4568, "test": 9129},
}
CUSTOM_RELEASE = "custom"  # any other size: a subset, the synthetic benchmark, a user's file
R_SPLITS = ("test-headtail", "test-head", "test-tail")  # MUSIC-AVQA-R's files: avqa-{split}.json
DERIVED_ID_BASE = 2**52  # derived question ids lie in [2**52, 2**53) (module doc)

_REQUIRED_KEYS = ("video_id", "question_id", "type", "question_content", "templ_values", "anser")
_QUESTION_MARKS = "?\uff1f"  # ASCII and full-width


@dataclass(frozen=True)
class QARecord:
    """One question about one video, parsed and tokenised."""

    dataset: ClassVar[str] = "music-avqa"  # its `sasr_lite.data.datasets` benchmark
    video_id: str
    question_id: int
    group: str  # "Audio" | "Visual" | "Audio-Visual"
    subtype: str  # "Counting", "Location", ...
    subtype_index: int  # position of (group, subtype) in taxonomy.SUBTYPES (Table 1 order)
    template: Template
    templ_values: list[str]
    question: str  # placeholders filled, question mark removed
    tokens: tuple[str, ...]  # exactly QUESTION_LEN words, padded with PAD
    answer: str

    @property
    def template_key(self) -> str:
        return self.template.key

    @property
    def template_index(self) -> int:
        return self.template.index


def fill_question(question_content: str, templ_values: Sequence[str] | str) -> str:
    """The question with placeholders filled in order and its final question mark removed.

    ``templ_values`` is the list of fillers or the JSON string holding it. Text and fillers are
    NFKC-normalised (`normalize_text`). Trailing spaces and
    one final ``?`` or full-width ``？`` are removed (some MUSIC-AVQA questions end in ``"? "``).
    Raises ValueError when the number of fillers differs from the number of placeholders.
    """
    values = _parse_list(templ_values, "templ_values") if isinstance(templ_values, str) else list(templ_values)
    values = [normalize_text(str(v)) for v in values]
    text = normalize_text(question_content).rstrip()
    if text and text[-1] in _QUESTION_MARKS:
        text = text[:-1].rstrip()
    slots = PLACEHOLDER_RE.findall(text)
    if len(slots) != len(values):
        raise ValueError(
            f"question {question_content!r} has {len(slots)} placeholders but templ_values "
            f"gives {len(values)} fillers: {values}"
        )
    fillers = iter(values)
    return PLACEHOLDER_RE.sub(lambda _: str(next(fillers)), text)


def normalize_text(text: str) -> str:
    """NFKC form of ``text``: full-width punctuation, letters and spaces become their ASCII forms
    (``？`` -> ``?``, U+3000 -> space), so a question tokenises as its ASCII spelling would."""
    return unicodedata.normalize("NFKC", text)


def question_tokens(
    question_content: str, templ_values: Sequence[str] | str, max_len: int = QUESTION_LEN
) -> list[str]:
    """Exactly ``max_len`` words of the filled question (the rule every part of the kit uses).

    1. Fill placeholders in order and drop the final question mark (`fill_question`).
    2. Split on runs of whitespace (the reference splits on single spaces; the same words here,
       without empty strings from a doubled space).
    3. Case is kept, as in the reference: "Is" (question form) and "is" stay distinct words,
       which gives the official 93-entry vocabulary ('<pad>' + 92 words) on MUSIC-AVQA.
    4. Pad on the right with '<pad>' to ``max_len``; longer questions keep their first
       ``max_len`` words (the head names the question form). No MUSIC-AVQA question is longer
       than 14 words, so truncation never happens on the real data.
    """
    words = fill_question(question_content, templ_values).split()[:max_len]
    return words + [PAD] * (max_len - len(words))


def load_annotations(path: str | Path, rephrased: bool | None = None) -> list[QARecord]:
    """Every record of an `avqa-{split}.json` file, parsed and tokenised, in file order.

    Records without a ``question_id`` get a derived one (`derived_question_id`). ``rephrased``
    reads MUSIC-AVQA-R's rephrased questions (module doc); None: when the file is one of
    `R_SPLITS` by name. In rephrased mode every record gets a derived id.

    Errors name the file (and the record) and say what is wrong: missing file, malformed JSON,
    not a list, missing key, unparseable type or fillers, unknown template, an answer that is not
    a non-empty string, a question id used twice or not below 2**52. A record whose
    type disagrees with its template's type is kept with the file's type, and a warning
    gives the count (evaluation groups by the file's type, as the official code does).
    """
    path = Path(path)
    rephrased = split_from_path(path) in R_SPLITS if rephrased is None else rephrased
    seen: Counter[str] = Counter()  # identical records get distinct derived ids, in file order

    def parse(item: object, where: str) -> QARecord:
        derived = None
        if isinstance(item, dict) and (rephrased or item.get("question_id") is None):
            content = _canonical_content(item)
            seen[content] += 1
            derived = derived_question_id(content, seen[content] - 1)
        return parse_record(item, where, rephrased, derived)

    records = read_records(path, "annotation file", parse, "question_id")
    mismatched = sum((r.group, r.subtype) != (r.template.group, r.template.subtype) for r in records)
    if mismatched:
        warnings.warn(f"{path}: {mismatched} records have a type that differs from their template's")
    return records


def _canonical_content(item: dict) -> str:
    """A record's content as one string (sorted keys, ASCII escapes): what its derived id hashes."""
    return json.dumps(item, sort_keys=True, ensure_ascii=True, default=str)


def derived_question_id(content: str, occurrence: int = 0) -> int:
    """The id of a record that has none: ``DERIVED_ID_BASE`` plus the first 52 bits of the SHA-256
    of ``content`` (`_canonical_content`, the record as read, null or absent id included) and
    ``occurrence`` (how many identical records come before it in the file). In [2**52, 2**53)."""
    digest = hashlib.sha256(f"{content}#{occurrence}".encode("ascii")).hexdigest()
    return DERIVED_ID_BASE + int(digest[:13], 16)


def rephrased_template(group: str, subtype: str) -> Template:
    """The stand-in template of a MUSIC-AVQA-R question that matches none of the 33: one per type,
    index -1 (no template), key ``rephrased:<Group>/<Subtype>``."""
    subtype_index(group, subtype)  # refuses an unknown type
    return Template(-1, f"rephrased:{group}/{subtype}", group, subtype, "")


def read_records(path: Path, what: str, parse: Callable[[object, str], R], id_key: str) -> list[R]:
    """A JSON list of records, each parsed by ``parse(item, where)`` (``where`` names the file and
    the record's position), whose question ids (the file's ``id_key``) must be unique. Every
    benchmark's loader reads its files through here."""
    raw = read_json(path, what)
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of records, got {type(raw).__name__}")
    records = [parse(item, f"{path} record {i}") for i, item in enumerate(raw)]
    first_of: dict[int, int] = {}
    for i, r in enumerate(records):
        j = first_of.setdefault(r.question_id, i)
        if j != i:  # predictions are joined to records by question id: a repeat would be ambiguous
            raise ValueError(f"{path} record {i}: {id_key} {r.question_id} is used twice (first by record {j})")
    return records


def parse_record(item: dict, where: str = "record", rephrased: bool = False,
                 derived_id: int | None = None) -> QARecord:
    """One raw annotation dict -> QARecord; ``where`` prefixes every error message.

    ``rephrased`` (MUSIC-AVQA-R): a question outside the 33 templates gets `rephrased_template`
    and a missing ``templ_values`` means no fillers. ``derived_id``: the record's id when the
    loader derived one (`derived_question_id`); the record's own ``question_id`` is then not read."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(item).__name__}")
    if rephrased and "templ_values" not in item:
        item = {**item, "templ_values": []}
    missing = [k for k in _REQUIRED_KEYS if k not in item and (k != "question_id" or derived_id is None)]
    if missing:
        sic = " ('anser' is the dataset's own spelling)" if "anser" in missing else ""
        raise ValueError(f"{where}: missing key(s) {missing}{sic}")
    try:
        group, subtype = _parse_list(item["type"], "type")
        index = subtype_index(group, subtype)
        try:
            template = match_template(normalize_text(item["question_content"]))
        except KeyError:
            if not rephrased:
                raise
            template = rephrased_template(group, subtype)
        values = [str(v) for v in _parse_list(item["templ_values"], "templ_values")]
        question = fill_question(item["question_content"], values)
        question_id = _question_id(item["question_id"]) if derived_id is None else derived_id
        answer = item["anser"]
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError(f"'anser' must be a non-empty string, got {answer!r}")
    except (KeyError, ValueError, TypeError) as err:
        message = err.args[0] if err.args else repr(err)
        raise ValueError(f"{where} (question_id {item.get('question_id')!r}): {message}") from None
    return QARecord(
        video_id=str(item["video_id"]),
        question_id=question_id,
        group=group,
        subtype=subtype,
        subtype_index=index,
        template=template,
        templ_values=values,
        question=question,
        tokens=tuple(question_tokens(item["question_content"], values)),
        answer=answer,
    )


def _question_id(value: object) -> int:
    """A published question id: an integer (or an integral float, as the v2.0 val files write
    them) in [0, 2**52); the ids above are the loader's own (`derived_question_id`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"question_id must be an integer, got {value!r}")
    try:
        number = float(value) if isinstance(value, float) else int(value)
    except ValueError:
        raise ValueError(f"question_id must be an integer, got {value!r}") from None
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(f"question_id must be an integer, got {value!r}")
    if not 0 <= number < DERIVED_ID_BASE:
        raise ValueError(f"question_id {value!r} is outside [0, 2**52) (ids from 2**52 up are derived by the loader)")
    return int(number)


def _parse_list(value: object, key: str) -> list:
    """A field that holds a list, usually as a JSON string (the reference uses literal_eval)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise ValueError(f"{key} is not a list: {value!r}") from None
        if isinstance(parsed, list):
            return parsed
    raise ValueError(f"{key} is not a list: {value!r}")


# --- releases ---------------------------------------------------------------------------------
def split_from_path(path: str | Path) -> str | None:
    """"train" / "val" / "test" from a file named like `avqa-val.json` or `balance_valid.json` (or one of MUSIC-AVQA-R's
    `R_SPLITS` from `avqa-test-head.json`), else None."""
    stem = Path(path).stem
    if stem.startswith("avqa-") and stem[len("avqa-"):] in R_SPLITS:
        return stem[len("avqa-"):]
    match = re.search(r"(?:^|[-_.])(train|val|valid|test)(?:$|[-_.])", stem)
    return None if match is None else "val" if match.group(1) == "valid" else match.group(1)


def detect_release(num_records: int, split: str | None = None) -> str:
    """The release a file belongs to, named from its record count (and split when known).

    "original" (train 32,087 / val 4,595 / test 9,185), "json_update" (31,927 / 4,568 /
    9,129), or "custom" for any other size (a subset, the synthetic benchmark).
    """
    for release, sizes in RELEASE_SIZES.items():
        if split is None and num_records in sizes.values():
            return release
        if split is not None and sizes.get(split) == num_records:
            return release
    return CUSTOM_RELEASE


def describe_annotations(path: str | Path, records: Sequence[QARecord] | None = None) -> dict:
    """What results must record about the annotations they came from.

    ``{"path", "split", "release", "records", "videos", "sha256"}``; write it into every
    results file so a number always says which release it comes from. The release: a published
    v2.0 or -R file by its content (`published.file_release`), else MUSIC-AVQA's two releases by size.
    """
    path = Path(path)
    records = load_annotations(path) if records is None else records
    split = split_from_path(path)
    data = path.read_bytes()
    music_avqa = all(r.dataset == "music-avqa" for r in records)
    return {
        "path": str(path),
        "split": split,
        # v2.0 and -R by content, the two MUSIC-AVQA releases by size; another benchmark's file is "custom"
        "release": (file_release(data) or detect_release(len(records), split)) if music_avqa else CUSTOM_RELEASE,
        "records": len(records),
        "videos": len({r.video_id for r in records}),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
