"""`sasr-lite inspect`: counts recomputed from the records, table and JSON output, errors."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sasr_lite.cli import main
from sasr_lite.data.annotations import load_annotations
from sasr_lite.data.loader_speed import random_raw_records, write_random_store
from sasr_lite.data.inspect import summarize_file
from sasr_lite.data.taxonomy import SUBTYPES, TEMPLATES
from real_data import real_annotations



@pytest.fixture
def annotation_file(tmp_path):
    path = tmp_path / "avqa-val.json"
    path.write_text(json.dumps(random_raw_records([f"{i:08d}" for i in range(15)], questions_per_video=4, seed=2)))
    return path


def test_summary_counts_match_the_records(annotation_file):
    records = load_annotations(annotation_file)
    summary = summarize_file(annotation_file)
    assert summary["records"] == 60 and summary["videos"] == 15
    assert summary["split"] == "val" and summary["release"] == "custom"
    assert list(summary["types"]) == [f"{g}/{s}" for g, s in SUBTYPES]  # Table 1 order, all 9
    assert list(summary["templates"]) == [t.key for t in TEMPLATES]  # all 33, zeros included
    for group, subtype in SUBTYPES:
        of_type = [r for r in records if (r.group, r.subtype) == (group, subtype)]
        assert summary["types"][f"{group}/{subtype}"] == len(of_type)
        assert summary["answers_by_type"][f"{group}/{subtype}"] == dict(Counter(r.answer for r in of_type))
    assert summary["templates"] == {t.key: sum(r.template.key == t.key for r in records) for t in TEMPLATES}
    assert sum(summary["answers"].values()) == 60


def test_table_output(annotation_file, capsys):
    assert main(["inspect", str(annotation_file)]) == 0
    out = capsys.readouterr().out
    summary = summarize_file(annotation_file)
    assert "split: val, release: custom" in out and "records 60   videos 15" in out
    for name, count in summary["types"].items():
        assert any(line.split()[:2] == [name, str(count)] for line in out.splitlines()), name
    for template in TEMPLATES:
        assert template.text in out


def test_json_output_is_a_list_per_file(annotation_file, tmp_path, capsys):
    store = write_random_store(tmp_path / "store", 2, num_segments=3, num_positions=4)
    assert main(["inspect", str(annotation_file), str(store.path), "--json"]) == 0
    file_summary, store_summary = json.loads(capsys.readouterr().out)
    assert file_summary == json.loads(json.dumps(summarize_file(annotation_file)))
    assert store_summary["kind"] == "feature store" and store_summary["complete"] is True
    assert store_summary["num_videos"] == 2 and store_summary["shapes"]["maps"] == [2, 3, 4, 512]
    assert main(["inspect", str(store.path)]) == 0
    assert "feature store, complete" in capsys.readouterr().out


def test_errors_name_the_file(tmp_path, capsys):
    bad = tmp_path / "avqa-test.json"
    bad.write_text("[{")
    assert main(["inspect", str(bad)]) == 1
    assert f"{bad}: not valid JSON" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "nope.json")]) == 1
    assert "annotation file not found" in capsys.readouterr().err


def test_real_files(capsys):
    paths = real_annotations("avqa-val.json", "avqa-test.json")
    assert main(["inspect", *map(str, paths), "--json"]) == 0
    val, test = json.loads(capsys.readouterr().out)
    assert (val["records"], val["videos"], val["release"]) == (4568, 3815, "json_update")
    assert (test["records"], test["videos"], test["release"]) == (9129, 6399, "json_update")
    assert all(count > 0 for count in test["templates"].values())
