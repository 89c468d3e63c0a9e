"""An MUSIC-AVQA-R style test split of the synthetic benchmark: rephrased questions, head and tail.

MUSIC-AVQA-R rephrases each test question (many wordings, checked by annotators) and splits the
rephrased questions by answer frequency within each question type (`sasr_lite.data.music_avqa_r`).
Here every template has a few hand-written wordings (`REPHRASINGS`: same placeholders, same
order, same meaning; most use words the templates never use, so a model meets words it has not
learnt, as on -R), and each test question is asked in ``k`` of them. The files are written as
MUSIC-AVQA-R names them, beside the benchmark's own::

    DIR/avqa-test-headtail.json   # every rephrased question
    DIR/avqa-test-head.json       # those whose answer is frequent for its type (> 1.2 mu(a))
    DIR/avqa-test-tail.json       # the others

Records keep the test question's video, type, fillers and answer; their ``question_id`` is the
original question's (the loader gives every -R record its own derived id). `sasr-lite eval
--release r` reads them against the test store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sasr_lite.data.annotations import load_annotations
from sasr_lite.data.files import write_text_atomic
from sasr_lite.data.music_avqa_r import HEAD_SPLIT, OVERALL_SPLIT, TAIL_SPLIT, head_tail_labels
from sasr_lite.data.taxonomy import PLACEHOLDER_RE, TEMPLATE_BY_KEY

REPHRASE_STREAM = 4  # a random stream of its own (generate.py has 1-3)

REPHRASINGS: dict[str, tuple[str, ...]] = {
    "a_count_is_there": ("Can you hear a <Object>?", "Does a <Object> make any sound?"),
    "a_count_are_there": ("Can both <Object> and <Object> be heard?", "Do we hear <Object> and <Object>?"),
    "a_count_how_many": ("How many instruments can be heard in the clip?",
                         "Throughout the clip, how many instruments make sound?"),
    "a_comp_louder": ("Does the <Object> sound louder than the <Object>?",
                      "Is the <Object> noisier than the <Object>?"),
    "a_comp_rhythmic": ("Does the <Object> have more rhythm than the <Object>?",
                        "Is the <Object> more rhythmical than the <Object>?"),
    "a_comp_longer": ("Does the <Object> play for longer than the <Object>?",
                      "Is the <Object> heard longer than the <Object>?"),
    "v_count_is_there": ("Can you see a <Object> anywhere in the clip?", "Does a <Object> appear in the clip?"),
    "v_count_are_there": ("Can both <Object> and <Object> be seen in the clip?",
                          "Do <Object> and <Object> both appear in the clip?"),
    "v_count_how_many_obj": ("How many <Object> can be seen in the clip?",
                             "Count the <Object> shown in the clip?"),
    "v_count_types": ("How many kinds of instruments are shown in the clip?",
                      "How many different instruments can be seen in the clip?"),
    "v_loc_side_of": ("Which instrument sits to the <LR> of the <Object>?",
                      "Which instrument is to the <LR> of the <Object>?"),
    "v_loc_lrer": ("Which instrument is the <LRer> one?", "What is the <LRer> instrument called?"),
    "v_loc_what_kind": ("Which instrument is this?", "What instrument is shown here?"),
    "v_loc_where_perf": ("Is the performance indoors or outdoors?", "Where does the performance take place?"),
    "av_ext_always": ("Does the <Object> in the clip play all the time?",
                      "Is the <Object> playing throughout the clip?"),
    "av_ext_voiceover": ("Is there a narrator speaking?", "Does a voice speak over the music?"),
    "av_ext_from_video": ("Does the sound come from the instrument shown?",
                          "Is the instrument we see making this sound?"),
    "av_count_sounding": ("How many instruments make sound in the clip?", "How many of the instruments are playing?"),
    "av_count_not_whole": ("How many instruments stop playing at some point in the clip?",
                           "How many instruments do not play from start to finish?"),
    "av_count_sounding_obj": ("How many <Object> are playing in the clip?",
                              "How many <Object> make sound in the clip?"),
    "av_count_types": ("How many kinds of instruments make sound in the clip?",
                       "How many different instruments can be heard in the clip?"),
    "av_loc_fl_from_lr": ("Does the <FL> sound come from the instrument on the <LR>?",
                          "Is the <FL> sound made by the <LR> instrument?"),
    "av_loc_lr_of_fl": ("Which instrument is on the <LR> of the <FL> one to sound?",
                        "What instrument sits <LR> of the <FL> sounding one?"),
    "av_loc_where_ll": ("Where is the <LL> sounding instrument?", "On which side is the <LL> instrument?"),
    "av_loc_same_time": ("Which instrument plays together with the <Object>?",
                         "Which instrument sounds along with the <Object>?"),
    "av_comp_obj_louder": ("Does the <Object> on the <LR> sound louder than the <Object> on the <LR>?",
                           "Is the <Object> at the <LR> noisier than the <Object> at the <LR>?"),
    "av_comp_obj_rhythmic": ("Does the <Object> on the <LR> have more rhythm than the <Object> on the <LR>?",
                             "Is the <Object> at the <LR> more rhythmical than the <Object> at the <LR>?"),
    "av_comp_side_louder": ("Does the instrument on the <LR> sound louder than the one on the <LR>?",
                            "Is the <LR> instrument noisier than the <LR> one?"),
    "av_comp_side_rhythmic": ("Does the instrument on the <LR> have more rhythm than the one on the <LR>?",
                              "Is the <LR> instrument more rhythmical than the <LR> one?"),
    "av_temp_th_comes_in": ("Which instrument starts playing <TH>?", "What is the <TH> instrument to start?"),
    "av_temp_where_fl": ("Where is the instrument that sounds <FL>?", "On which side is the <FL> instrument to play?"),
    "av_temp_which_obj_fl": ("Which <Object> plays <FL>?", "Which of the <Object> is heard <FL>?"),
    "av_temp_before_after": ("Which instrument plays <BA> the <Object>?",
                             "What instrument is heard <BA> the <Object>?"),
}


def rephrase_records(records: Sequence[dict], k: int, seed: int = 0) -> list[dict]:
    """``k`` rephrasings of each raw MUSIC-AVQA record (distinct wordings while they last, drawn
    from ``seed``); other keys are kept. A question outside the 33 templates raises KeyError."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"rephrasings per question must be an integer >= 1, got {k!r}")
    from sasr_lite.data.taxonomy import match_template

    rng = np.random.default_rng([seed, REPHRASE_STREAM])
    out = []
    for record in records:
        wordings = REPHRASINGS[match_template(record["question_content"]).key]
        for i in rng.permutation(len(wordings))[:k]:
            out.append({**record, "question_content": wordings[i]})
    return out


def write_rephrased_split(out_dir: str | Path, test_records: Sequence[dict], k: int, seed: int = 0) -> dict:
    """Write the three -R files of ``test_records`` (raw dicts) into ``out_dir`` (module doc);
    returns their video and question counts, keyed by split."""
    out = Path(out_dir)
    rephrased = rephrase_records(test_records, k, seed)
    write_text_atomic(out / f"avqa-{OVERALL_SPLIT}.json", json.dumps(rephrased, indent=4) + "\n")
    labels = head_tail_labels(load_annotations(out / f"avqa-{OVERALL_SPLIT}.json"))  # file order
    counts = {OVERALL_SPLIT: {"videos": len({r["video_id"] for r in rephrased}), "questions": len(rephrased)}}
    for split, label in ((HEAD_SPLIT, "head"), (TAIL_SPLIT, "tail")):
        subset = [r for r, lab in zip(rephrased, labels) if lab == label]
        write_text_atomic(out / f"avqa-{split}.json", json.dumps(subset, indent=4) + "\n")
        counts[split] = {"videos": len({r["video_id"] for r in subset}), "questions": len(subset)}
    return counts


def _check() -> None:
    """Every template has wordings with its own placeholders, in order, and none is a template's
    own text (checked at import)."""
    texts = {t.text for t in TEMPLATE_BY_KEY.values()}
    for key, template in TEMPLATE_BY_KEY.items():
        for text in REPHRASINGS[key]:
            if text in texts:
                raise AssertionError(f"rephrasing {text!r} of {key} is a template's own text")
            if PLACEHOLDER_RE.findall(text) != template.placeholders:
                raise AssertionError(f"rephrasing {text!r} of {key} has other placeholders than {template.text!r}")


_check()
