"""MUSIC-AVQA v2.0 and MUSIC-AVQA-R through the MUSIC-AVQA loader: every record form of the
published files (built here, excerpt-shaped), derived question ids, Unicode questions, releases
told by content, the -R head/tail table, the synthetic counterparts and the download script.

Real files are never committed: set SASR_LITE_MUSIC_AVQA_V2_TEST to the published
test_balance.json (QA-TIGER data/annots/music_avqa_v2/) to also check a 300-record excerpt of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from sasr_lite import cli
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.annotations import (
    DERIVED_ID_BASE, R_SPLITS, describe_annotations, load_annotations,
    question_tokens, split_from_path,
)
from sasr_lite.data.inspect import summarize_file
from sasr_lite.data.loading import load_data
from sasr_lite.data.music_avqa_r import HEAD_FACTOR, head_answers, head_tail_labels
from sasr_lite.data.published import PUBLISHED_FILES, digests, file_release, published_file
from sasr_lite.evaluate import bootstrap_table, head_tail_table
from sasr_lite.synth.generate import generate, make_questions
from sasr_lite.synth.rephrase import REPHRASINGS, rephrase_records
from sasr_lite.device import cpu_threads
from sasr_lite.train import train

ROOT = Path(__file__).resolve().parents[1]
REAL_TEST = os.environ.get("SASR_LITE_MUSIC_AVQA_V2_TEST")

# One record of each form found in the published v2.0 files (values shaped like theirs).
ORIGINAL = {"video_id": "00005754", "question_id": 1923, "type": "[\"Audio-Visual\", \"Existential\"]",
            "question_content": "Is there a voiceover?", "templ_values": "[]", "question_deleted": 0, "anser": "yes"}
NO_ID_FULL_WIDTH = {"video_id": "tOcOiTFQYp4", "type": "[\"Audio-Visual\", \"Counting\"]",
                    "question_content": "How many sounding <Object> in the video\uff1f", "templ_values": "[\"erhu\"]",
                    "anser": "two"}
NO_ID_FLIP = {"anser": "left", "question_content": "Which <Object> makes the sound <FL>?", "video_id": "iveNvQ4jCis_flip",
              "templ_values": "[\"violin\", \"last\"]", "type": "[\"Audio-Visual\", \"Temporal\"]"}
NO_ID_KEEPS_DELETED = {"video_id": "Xb0ztBMbHPM", "type": "[\"Visual\", \"Counting\"]",
                       "question_content": "Is there a <Object> in the entire video?", "templ_values": "[\"piano\"]",
                       "question_deleted": 0, "anser": "yes"}
LIST_FILLERS = {"video_id": "evv00001381", "type": "[\"Audio\", \"Counting\"]",
                "question_content": "Is there a <Object> sound?", "templ_values": ["flute"], "anser": "no",
                "unmatch_audio": "yes", "audio_instrument": "flute", "video_instrument": "piano"}
PERSON = {"video_id": "sa00007079", "type": "[\"Visual\", \"Location\"]", "question_content": "Where is the performance?",
          "templ_values": "[]", "anser": "indoor", "person": "yes"}
VAL_FLOAT_ID = {"video_id": "00006437", "question_id": 30338.0, "type": "[\"Audio\", \"Comparative\"]",
                "question_content": "Is the <Object> more rhythmic than the <Object>?",
                "templ_values": "[\"pipa\", \"clarinet\"]", "question_deleted": 0.0, "anser": "no",
                "unmatch_audio": None, "audio_instrument": None, "video_instrument": None, "person": None}
VAL_NULL_ID = {**VAL_FLOAT_ID, "video_id": "sa00008400", "question_id": None, "question_deleted": None,
               "question_content": "What kind of musical instrument is it?", "templ_values": "[]",
               "type": "[\"Visual\", \"Location\"]", "anser": "xylophone"}
FORMS = [ORIGINAL, NO_ID_FULL_WIDTH, NO_ID_FLIP, NO_ID_KEEPS_DELETED, LIST_FILLERS, PERSON, VAL_FLOAT_ID, VAL_NULL_ID]


def write(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def expected_id(item: dict, occurrence: int = 0) -> int:
    """The documented rule, computed here from scratch: 2**52 + first 13 hex digits of the SHA-256."""
    content = json.dumps(item, sort_keys=True, ensure_ascii=True, default=str)
    return 2**52 + int(hashlib.sha256(f"{content}#{occurrence}".encode()).hexdigest()[:13], 16)


# --- record forms and ids -------------------------------------------------------------------------
def test_every_record_form_loads_with_its_own_or_a_derived_id(tmp_path):
    records = load_annotations(write(tmp_path / "avqa-test.json", FORMS))
    assert [r.video_id for r in records] == [f["video_id"] for f in FORMS]
    assert [r.answer for r in records] == [f["anser"] for f in FORMS]
    ids = [r.question_id for r in records]
    assert ids[0] == 1923 and ids[6] == 30338  # published ids kept (a float id read as its integer)
    for i in (1, 2, 3, 4, 5, 7):  # missing or null: derived, by the documented rule, above every published id
        assert ids[i] == expected_id(FORMS[i]), i
        assert DERIVED_ID_BASE <= ids[i] < 2**53
    assert len(set(ids)) == len(ids)
    assert records[4].templ_values == ["flute"] and records[4].question == "Is there a flute sound"
    assert (records[2].group, records[2].subtype, records[2].template_key) == ("Audio-Visual", "Temporal",
                                                                             "av_temp_which_obj_fl")


def test_derived_ids_do_not_depend_on_the_rest_of_the_file(tmp_path):
    full = {r.video_id: r.question_id for r in load_annotations(write(tmp_path / "a" / "avqa-test.json", FORMS))}
    excerpt = list(reversed(FORMS[1:4]))
    part = {r.video_id: r.question_id for r in load_annotations(write(tmp_path / "b" / "avqa-test.json", excerpt))}
    assert part == {vid: full[vid] for vid in part}


def test_identical_records_without_id_get_distinct_ids_in_file_order(tmp_path):
    records = load_annotations(write(tmp_path / "avqa-test.json", [NO_ID_FLIP, ORIGINAL, NO_ID_FLIP]))
    assert records[0].question_id == expected_id(NO_ID_FLIP, 0)
    assert records[2].question_id == expected_id(NO_ID_FLIP, 1) != records[0].question_id


@pytest.mark.parametrize("qid, message", [
    (2**52, "question_id 4503599627370496 is outside [0, 2**52) (ids from 2**52 up are derived by the loader)"),
    (-3, "question_id -3 is outside [0, 2**52)"),
    (12.5, "question_id must be an integer, got 12.5"),
    (True, "question_id must be an integer, got True"),
])
def test_published_ids_that_could_collide_or_are_not_integers_are_refused(tmp_path, qid, message):
    path = write(tmp_path / "avqa-test.json", [ORIGINAL, {**VAL_FLOAT_ID, "question_id": qid}])
    with pytest.raises(ValueError) as err:
        load_annotations(path)
    assert f"{path} record 1" in str(err.value) and message in str(err.value)


def test_full_width_and_other_unicode_questions_tokenise_like_ascii(tmp_path):
    ascii_tokens = question_tokens("How many sounding <Object> in the video?", ["erhu"])
    assert question_tokens("How many sounding <Object> in the video\uff1f", ["erhu"]) == ascii_tokens
    # full-width letters, an ideographic space, a full-width filler
    assert question_tokens("How many sounding <Object> in\u3000the \uff56ideo\uff1f", ["\uff45rhu"]) == ascii_tokens
    records = load_annotations(write(tmp_path / "avqa-test.json", [NO_ID_FULL_WIDTH]))
    assert records[0].tokens == tuple(ascii_tokens) and records[0].template_key == "av_count_sounding_obj"


def test_split_names_of_the_published_files():
    assert [split_from_path(p) for p in ("balance_valid.json", "test_balance.json", "bias_train.json",
                                         "avqa-test-head.json", "avqa-test-headtail.json")] == [
        "val", "test", "train", "test-head", "test-headtail"]


# --- releases by content ------------------------------------------------------------------------------
def test_digests_are_sha256_and_git_blob_ids():
    assert digests(b"") == ("sha256:" + hashlib.sha256(b"").hexdigest(),
                            "git-blob:e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")  # git's empty blob
    data = b"[]\n"
    assert digests(data)[1] == "git-blob:" + hashlib.sha1(b"blob 3\0[]\n").hexdigest()


def test_published_files_are_pinned_to_commits_and_each_digest_is_unique():
    assert len({f.digest for f in PUBLISHED_FILES}) == len(PUBLISHED_FILES)
    for f in PUBLISHED_FILES:
        assert f.url.startswith(f"https://raw.githubusercontent.com/{f.source[0]}/{f.source[1]}/")
        assert len(f.source[1]) == 40 and f.digest.split(":")[0] in ("sha256", "git-blob")
    kit = sorted(f.kit_path for f in PUBLISHED_FILES if f.kit_path)
    assert kit == sorted([f"music_avqa_v2/{b}/avqa-{s}.json" for b in ("balanced", "biased")
                          for s in ("train", "val", "test")] + [f"music_avqa_r/avqa-{s}.json" for s in R_SPLITS])


def test_an_excerpt_is_a_custom_release_and_results_record_it(tmp_path):
    path = write(tmp_path / "avqa-test.json", FORMS)
    assert file_release(path.read_bytes()) is None and published_file(path.read_bytes()) is None
    described = describe_annotations(path)
    assert described["release"] == "custom" and described["records"] == len(FORMS)


@pytest.mark.skipif(not REAL_TEST, reason="set SASR_LITE_MUSIC_AVQA_V2_TEST to the published test_balance.json "
                    "to check the real file and a 300-record excerpt of it")
def test_real_balanced_test_file_and_a_300_record_excerpt(tmp_path):
    real = Path(REAL_TEST)
    assert file_release(real.read_bytes()) == "v2.0-balanced"
    raw = json.loads(real.read_text(encoding="utf-8"))
    records = load_annotations(real)
    assert len(records) == len(raw) and describe_annotations(real, records)["release"] == "v2.0-balanced"
    excerpt = raw[:300]
    assert any("question_id" not in r for r in excerpt) and any("question_id" in r for r in excerpt)
    path = write(tmp_path / "avqa-test.json", excerpt)
    summary = summarize_file(path)
    assert summary["records"] == 300 and sum(summary["types"].values()) == 300
    by_type = Counter("/".join(json.loads(r["type"])) for r in excerpt)
    assert {k: v for k, v in summary["types"].items() if v} == dict(by_type)
    full_ids = {r.question_id for r in records}
    assert {r.question_id for r in load_annotations(path)} <= full_ids  # same ids as in the full file


def test_inspect_counts_the_excerpt_shaped_file_per_type(tmp_path, capsys):
    path = write(tmp_path / "avqa-test.json", FORMS)
    assert cli.main(["inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    by_type = Counter("/".join(json.loads(r["type"])) for r in FORMS)
    assert summary["records"] == len(FORMS) and summary["release"] == "custom"
    assert {k: v for k, v in summary["types"].items() if v} == dict(by_type)


# --- MUSIC-AVQA-R --------------------------------------------------------------------------------------
R_FILLED = {"video_id": "00000086", "question_id": 28, "type": "[\"Audio-Visual\", \"Existential\"]",
            "question_content": "Does the cello in the video play all the time?", "anser": "no"}
R_PLACEHOLDER = {**R_FILLED, "question_content": "Does the <Object> in the video play all the time?",
                 "templ_values": "[\"cello\"]", "anser": "yes"}
R_TEMPLATE = {**R_FILLED, "question_content": "Is the <Object> in the video always playing?",
              "templ_values": "[\"cello\"]"}


def test_rephrased_files_accept_new_wordings_and_give_every_rephrasing_its_own_id(tmp_path):
    path = write(tmp_path / "avqa-test-head.json", [R_FILLED, R_PLACEHOLDER, R_TEMPLATE])
    records = load_annotations(path)
    assert [r.template_key for r in records] == ["rephrased:Audio-Visual/Existential"] * 2 + ["av_ext_always"]
    assert records[0].question == records[1].question == "Does the cello in the video play all the time"
    assert records[0].template_index == -1 and records[0].tokens[:3] == ("Does", "the", "cello")
    assert [r.question_id for r in records] == [expected_id(R_FILLED), expected_id(R_PLACEHOLDER),
                                               expected_id(R_TEMPLATE)]  # all share question_id 28
    # the same wording in an ordinary MUSIC-AVQA file is an error, naming file and record
    other = write(tmp_path / "avqa-test.json", [R_TEMPLATE, {**R_PLACEHOLDER, "question_id": 29}])
    with pytest.raises(ValueError, match="not one of the 33 MUSIC-AVQA templates") as err:
        load_annotations(other)
    assert f"{other} record 1" in str(err.value)


def test_head_answers_follow_the_1_2_mean_rule():
    class R:  # the fields head_tail_labels reads
        def __init__(self, group, subtype, answer):
            self.group, self.subtype, self.answer = group, subtype, answer

    # Audio/Counting answers: yes 6, no 3, two 1 -> mean 10/3, 1.2 * mean = 4: head = {yes}
    # Visual/Location: indoor 2, outdoor 2 -> mean 2, threshold 2.4: no head (equal counts are tail)
    records = ([R("Audio", "Counting", "yes")] * 6 + [R("Audio", "Counting", "no")] * 3
               + [R("Audio", "Counting", "two")] + [R("Visual", "Location", a) for a in ("indoor", "outdoor") * 2])
    assert HEAD_FACTOR == 1.2
    assert head_answers(records) == {("Audio", "Counting"): {"yes"}, ("Visual", "Location"): set()}
    assert head_tail_labels(records) == ["head"] * 6 + ["tail"] * 8


def test_head_tail_table_scores_each_file_on_its_own_with_bootstrap_intervals(tmp_path):
    r_records = {split: load_annotations(write(tmp_path / f"avqa-{split}.json", content)) for split, content in
                 (("test-headtail", [R_FILLED, R_PLACEHOLDER, R_TEMPLATE]), ("test-head", [R_FILLED, R_TEMPLATE]),
                  ("test-tail", [R_PLACEHOLDER]))}
    predictions = {split: {r.question_id: "no" for r in recs} for split, recs in r_records.items()}
    table = head_tail_table(r_records, predictions, "m", n_boot=200, seed=1)
    assert list(table.columns) == ["Head", "Tail", "Overall"]
    assert table.loc[("m", "accuracy")].tolist() == pytest.approx([100.0, 0.0, 200 / 3])
    assert table.attrs["questions"] == {"Head": 2, "Tail": 1, "Overall": 3}
    overall = bootstrap_table(r_records["test-headtail"], predictions["test-headtail"], "m", 200, 1)
    assert table["Overall"].to_numpy() == pytest.approx(overall[("Overall", "Avg")].to_numpy())
    low, high = table.loc[("m", "low")], table.loc[("m", "high")]
    assert (low <= table.loc[("m", "accuracy")]).all() and (table.loc[("m", "accuracy")] <= high).all()


# --- synthetic counterparts -----------------------------------------------------------------------------
def _top_share(questions) -> float:
    """Mean over templates of the share of their most common answer."""
    by_template: dict[str, Counter] = {}
    for q in questions:
        by_template.setdefault(q.template.key, Counter())[q.answer] += 1
    return sum(c.most_common(1)[0][1] / sum(c.values()) for c in by_template.values()) / len(by_template)


def test_bias_leans_each_template_to_one_answer_and_zero_keeps_the_balanced_questions():
    balanced = make_questions(200, seed=0)
    assert make_questions(200, seed=0, bias=0.0) == balanced
    biased = make_questions(200, seed=0, bias=0.8)
    train_b = [q for _, qs in balanced["train"] for q in qs]
    train_x = [q for _, qs in biased["train"] for q in qs]
    assert _top_share(train_x) > _top_share(train_b) + 0.1
    yes_no = [q for q in train_x if q.template.key == "a_count_is_there"]
    assert max(Counter(q.answer for q in yes_no).values()) / len(yes_no) > 0.7
    with pytest.raises(ValueError, match=r"bias must lie in \[0, 1\), got 1.5"):
        make_questions("tiny", bias=1.5)


def test_rephrasings_keep_placeholders_and_meaning_fields():
    record = {"video_id": "00000001", "question_id": 7, "type": "[\"Audio\", \"Counting\"]",
              "question_content": "Is there a <Object> sound?", "templ_values": "[\"flute\"]", "anser": "no"}
    out = rephrase_records([record], 2, seed=0)
    assert sorted(r["question_content"] for r in out) == sorted(REPHRASINGS["a_count_is_there"])
    assert all({k: v for k, v in r.items() if k != "question_content"} == {k: v for k, v in record.items()
                                                                          if k != "question_content"} for r in out)
    with pytest.raises(ValueError, match="rephrasings per question must be an integer >= 1, got 0"):
        rephrase_records([record], 0)


@pytest.fixture(scope="module")
def synth_r(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("synth_r") / "tiny", size="tiny", seed=0, rephrasings=2)


def test_synthetic_r_split_is_the_test_questions_rephrased_and_split_by_answer_frequency(synth_r):
    test = json.loads((synth_r / "avqa-test.json").read_text())
    files = {s: json.loads((synth_r / f"avqa-{s}.json").read_text()) for s in R_SPLITS}
    overall, head, tail = files["test-headtail"], files["test-head"], files["test-tail"]
    assert len(overall) == 2 * len(test) and len(head) + len(tail) == len(overall) and head and tail
    assert Counter(r["question_id"] for r in overall) == Counter({r["question_id"]: 2 for r in test})
    parsed = load_annotations(synth_r / "avqa-test-headtail.json")
    heads = head_answers(parsed)
    assert all(r["anser"] in heads[tuple(json.loads(r["type"]))] for r in head)
    assert not any(r["anser"] in heads[tuple(json.loads(r["type"]))] for r in tail)
    manifest = json.loads((synth_r / "synth.json").read_text())
    assert manifest["rephrasings"] == 2 and manifest["counts"]["test-head"]["questions"] == len(head)


def test_eval_release_r_prints_and_writes_the_head_tail_table(synth_r, tmp_path, capsys):
    with cpu_threads(1):
        data = load_data(synth_r, splits=("train", "val"))
        config = TrainConfig(epochs=1, batch_size=8, max_batches=2, progress=False, tensorboard=False)
        result = train(data, SaSRConfig.tiny(), config, out_dir=tmp_path / "run")
        assert cli.main(["eval", str(result.checkpoint), str(synth_r), "--release", "r", "--out",
                         str(tmp_path / "eval"), "--n-boot", "50", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "MUSIC-AVQA-R" in printed and "Head" in printed and "50 resamples" in printed
    results = json.loads((tmp_path / "eval" / "r_results.json").read_text())
    assert results["release"] == "synthetic" and set(results["annotations"]) == set(R_SPLITS)
    records = {s: load_annotations(synth_r / f"avqa-{s}.json") for s in R_SPLITS}
    predictions = {s: pd.read_csv(tmp_path / "eval" / f"{s}_predictions.csv") for s in R_SPLITS}
    expected = head_tail_table(records, predictions, "SaSR-Net", n_boot=50, seed=2)
    written = pd.read_csv(tmp_path / "eval" / "r_table.csv", index_col=[0, 1])
    assert written.to_numpy() == pytest.approx(expected.to_numpy())
    assert results["accuracy"]["Tail"]["accuracy"] == pytest.approx(expected.loc[("SaSR-Net", "accuracy"), "Tail"])


# --- the download script -----------------------------------------------------------------------------------
SCRIPT = ROOT / "data_scripts" / "download_music_avqa_v2.py"


def run_script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


def test_download_checks_each_file_against_its_pin_and_keeps_nothing_that_fails(tmp_path):
    mirror = tmp_path / "mirror"
    name = "music_avqa_r/avqa-test-{}.json"
    for split in ("headtail", "head", "tail"):
        write(mirror / name.format(split), [R_FILLED, R_TEMPLATE])
    # the pins are the published files' digests: a mirror with other bytes is refused, nothing kept
    out = tmp_path / "data"
    refused = run_script("--out", str(out), "--only", "r", "--base-url", mirror.as_uri())
    assert refused.returncode == 1 and "digest mismatch: expected git-blob:35ab0599" in refused.stderr
    assert not (out / "music_avqa_r" / "avqa-test-headtail.json").exists()
    assert not list((out / "music_avqa_r").glob(".download-*"))
    # accepted with --digest for each file; SOURCE.json records URL, digest and counts
    sha = "sha256:" + hashlib.sha256((mirror / name.format("head")).read_bytes()).hexdigest()
    flags = [a for split in ("headtail", "head", "tail") for a in ("--digest", f"{name.format(split)}={sha}")]
    done = run_script("--out", str(out), "--only", "r", "--base-url", mirror.as_uri(), *flags)
    assert done.returncode == 0, done.stderr
    source = json.loads((out / "music_avqa_r" / "SOURCE.json").read_text())
    assert source["avqa-test-head.json"]["digest"] == sha and source["avqa-test-head.json"]["records"] == 2
    assert source["avqa-test-tail.json"]["url"] == f"{mirror.as_uri()}/{name.format('tail')}"
    again = run_script("--out", str(out), "--only", "r", "--base-url", mirror.as_uri(), *flags)
    assert again.returncode == 0 and again.stdout.count("skipped") == 3
    bad = run_script("--out", str(out), "--digest", "nope=sha256:00")
    assert bad.returncode == 2 and "--digest 'nope=sha256:00': expected NAME=sha256:HEX" in bad.stderr
