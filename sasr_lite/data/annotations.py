"""MUSIC-AVQA annotation files -> typed `QARecord`s, the question-token rule, and releases.

A record of `avqa-{split}.json` looks like (DESIGN.md section 2)::

    {"video_id": "00000086", "question_id": 28,
     "type": "[\\"Audio-Visual\\", \\"Existential\\"]",          # a *string* holding a JSON list
     "question_content": "Is the <Object> in the video always playing?",
     "templ_values": "[\\"violin\\"]",                           # fillers, in placeholder order
     "question_deleted": 0, "anser": "no"}                       # sic: the answer key is misspelt

Every record is kept, as in the reference loader (`question_deleted` is not a filter there).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from sasr_lite.data.taxonomy import PLACEHOLDER_RE, Template, match_template, subtype_index
from sasr_lite.data.files import read_json

QUESTION_LEN = 14  # L: words per question after padding (the reference pads to 14)
PAD = "<pad>"
R = TypeVar("R")  # a benchmark's record type

# Record counts of the two public releases (DESIGN.md section 4).
RELEASE_SIZES: dict[str, dict[str, int]] = {
    "original": {"train": 32087, "val": 4595, "test": 9185},
    "json_update": {"train": 31927, "val": 4568, "test": 9129},
}
CUSTOM_RELEASE = "custom"  # any other size: a subset, the synthetic benchmark, a user's file

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

    ``templ_values`` is the list of fillers or the JSON string holding it. Trailing spaces and
    one final ``?`` or full-width ``？`` are removed (some MUSIC-AVQA questions end in ``"? "``).
    Raises ValueError when the number of fillers differs from the number of placeholders.
    """
    values = _parse_list(templ_values, "templ_values") if isinstance(templ_values, str) else list(templ_values)
    text = question_content.rstrip()
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


def load_annotations(path: str | Path) -> list[QARecord]:
    """Every record of an `avqa-{split}.json` file, parsed and tokenised, in file order.

    Errors name the file (and the record) and say what is wrong: missing file, malformed JSON,
    not a list, missing key, unparseable type or fillers, unknown template, an answer that is not
    a non-empty string, a question id used twice. A record whose
    type disagrees with its template's type is kept with the file's type, and a warning
    gives the count (evaluation groups by the file's type, as the official code does).
    """
    path = Path(path)
    records = read_records(path, "annotation file", parse_record, "question_id")
    mismatched = sum((r.group, r.subtype) != (r.template.group, r.template.subtype) for r in records)
    if mismatched:
        warnings.warn(f"{path}: {mismatched} records have a type that differs from their template's")
    return records


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


def parse_record(item: dict, where: str = "record") -> QARecord:
    """One raw annotation dict -> QARecord; ``where`` prefixes every error message."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(item).__name__}")
    missing = [k for k in _REQUIRED_KEYS if k not in item]
    if missing:
        sic = " ('anser' is the dataset's own spelling)" if "anser" in missing else ""
        raise ValueError(f"{where}: missing key(s) {missing}{sic}")
    try:
        group, subtype = _parse_list(item["type"], "type")
        index = subtype_index(group, subtype)
        template = match_template(item["question_content"])
        values = [str(v) for v in _parse_list(item["templ_values"], "templ_values")]
        question = fill_question(item["question_content"], values)
        question_id = int(item["question_id"])
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
    """"train" / "val" / "test" from a file named like `avqa-val.json`, else None."""
    match = re.search(r"(?:^|[-_.])(train|val|test)(?:$|[-_.])", Path(path).stem)
    return match.group(1) if match else None


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
    results file so a number always says which release it comes from.
    """
    path = Path(path)
    records = load_annotations(path) if records is None else records
    split = split_from_path(path)
    return {
        "path": str(path),
        "split": split,
        # the two MUSIC-AVQA releases are told apart by size; another benchmark's file is "custom"
        "release": detect_release(len(records), split) if all(r.dataset == "music-avqa" for r in records)
        else CUSTOM_RELEASE,
        "records": len(records),
        "videos": len({r.video_id for r in records}),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
