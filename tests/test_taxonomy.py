"""The taxonomy constants agree with each other and with the real annotation files."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sasr_lite.data import taxonomy as tx
from real_data import real_annotations



def test_counts_and_uniqueness():
    assert len({t.key for t in tx.TEMPLATES}) == 33
    assert len({t.text for t in tx.TEMPLATES}) == 33
    assert Counter(t.group for t in tx.TEMPLATES) == {"Audio": 6, "Visual": 8, "Audio-Visual": 19}
    assert [t.index for t in tx.TEMPLATES] == list(range(33))
    assert all(p in tx.PLACEHOLDERS for t in tx.TEMPLATES for p in t.placeholders)


def test_match_template_canonicalises_spaces_and_full_width_mark():
    assert tx.match_template("How many sounding <Object> in the video\uff1f").key == "av_count_sounding_obj"
    assert tx.match_template("Are there <Object> and <Object> sound? ").key == "a_count_are_there"
    with pytest.raises(KeyError, match="not one of the 33"):
        tx.match_template("Is this a question?")
    with pytest.raises(ValueError, match="unknown question type"):
        tx.subtype_index("Audio", "Temporal")


def test_every_real_record_maps_to_its_template_and_type():
    seen = set()
    for path in real_annotations("avqa-val.json", "avqa-test.json"):
        for record in json.loads(path.read_text()):
            template = tx.match_template(record["question_content"])
            assert [template.group, template.subtype] == json.loads(record["type"])
            values = json.loads(record["templ_values"])
            for placeholder, value in zip(template.placeholders, values, strict=True):
                assert value in tx.PLACEHOLDER_VALUES[placeholder]
            seen.add(template.key)
    assert len(seen) == 33
