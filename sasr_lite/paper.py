"""The SaSR-Net paper's numbers that the kit uses, each with where the paper states it (and, in
`BENCHMARK_NUMBERS`, the published facts about MUSIC-AVQA v2.0 and MUSIC-AVQA-R, each with its source;
in `PUBLISHED_MUSIC_AVQA` and `PUBLISHED_AVQA_YANG`, the published rows the results tables show
beside ours).

One table, `NUMBERS`. A stated entry carries the number exactly as the paper prints it
(``printed``); an inferred entry (``inferred=True``) is the sum of the stated entries named in
``from_keys`` and says why in ``note``. Our text copy of the paper (extracted from its PDF; not
kept in the repository) has the captions of Tables 1-3 but not their bodies: Table 1's only value
given in the text is the audio-question average, and the ablation numbers come from the §4.3
paragraphs about Tables 2-3.

Two caveats the inferred entries carry: Table 2 and Table 3 imply different full-model scores
(74.21 and 71.20), and the paper never says whether the ablation accuracy is overall or
audio-visual accuracy (its text says "AVQA accuracy").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sasr_lite.data.datasets import AVG, OVERALL


@dataclass(frozen=True)
class PaperNumber:
    """One number from the paper.

    ``unit``: "%" (accuracy), "pp" (percentage points, a difference), or what is counted.
    ``where``: section / table / sentence of the paper. ``printed``: the number as the paper
    prints it ("" when inferred). ``from_keys``: for an inferred number, the stated numbers
    whose sum it is.
    """

    key: str
    value: float
    unit: str
    what: str
    where: str
    printed: str = ""
    inferred: bool = False
    from_keys: tuple[str, ...] = ()
    note: str = ""

    @property
    def formula(self) -> str:
        """How an inferred number is computed, e.g. "70.31+3.90"; "" for a stated one."""
        return "+".join(_STATED[k].printed for k in self.from_keys)


def _stated(key: str, printed: str, unit: str, what: str, where: str, note: str = "") -> PaperNumber:
    """A number the paper states; its value is parsed from ``printed`` so the two cannot disagree."""
    return PaperNumber(key, float(printed.replace(",", "").replace(" ", "")), unit, what, where, printed, note=note)


_SETUP = "§4.1 Experiments Setting, 'Implementation' paragraph"
_DATA = "§4.1 Experiments Setting, 'Datasets' paragraph (MUSIC-AVQA)"
_GAINS = "§4.2 Comparison to Prior Work, text after Table 2's caption (the sentence on audio-visual questions)"
_AVERAGES = "§4.2 Comparison to Prior Work, text (the sentence on average accuracy)"
_TABLE2 = "§4.3 Ablation Studies, 'Effectiveness of SLT and SaSR' paragraph (the numbers of Table 2)"
_TABLE3 = "§4.3 Ablation Studies, 'Effectiveness of SA and TA' paragraph (the numbers of Table 3)"
_GAIN_NOTE = "the paper writes it with a % sign; read as percentage points over AVST's Table 1 value"

_STATED_NUMBERS = (
    # model size and recipe
    _stated("parameters", "65,117,283", "parameters", "model size counted with torchinfo", _SETUP,
            "about 205.24 MB of storage, per the same sentence"),
    _stated("batch_size", "16", "questions", "training batch size", _SETUP),
    _stated("epochs", "80", "epochs", "training epochs", _SETUP),
    _stated("lr", "1e - 4", "", "initial Adam learning rate", _SETUP),
    _stated("lr_gamma", "0.3", "", "learning-rate decay factor", _SETUP),
    _stated("lr_step", "16", "epochs", "learning-rate decay period", _SETUP),
    _stated("loss_lambda", "0.5", "", "each loss weight (lambda_1 = lambda_2 = lambda_3)", _SETUP),
    _stated("feature_dim", "512", "dimensions", "audio and visual segment features after projection", _SETUP),
    _stated("word_dim", "512", "dimensions", "word embeddings", _SETUP),
    _stated("vggish_dim", "128", "dimensions", "VGGish audio features before the linear layer", _SETUP),
    _stated("segment_stride", "6", "seconds", "one 1-second segment sampled every this many seconds", _SETUP),
    # the MUSIC-AVQA taxonomy
    _stated("question_types", "9", "types", "audio-visual question types", _DATA),
    _stated("templates", "33", "templates", "question templates", _DATA),
    _stated("instruments", "22", "classes", "instrument categories (one source token each)", _DATA),
    # MUSIC-AVQA results
    _stated("audio_avg", "73.56", "%", "SaSR-Net's audio-question average accuracy (Table 1, Audio Avg)",
            "§4.2 Comparison to Prior Work, text (the sentence on Audio QA)",
            "the only Table 1 value the text states"),
    _stated("av_gain_avst_counting", "3.55", "pp", "gain over AVST, audio-visual Counting", _GAINS, _GAIN_NOTE),
    _stated("av_gain_avst_location", "9.4", "pp", "gain over AVST, audio-visual Location", _GAINS,
            "the paper calls the type 'Localization'; " + _GAIN_NOTE),
    _stated("av_gain_avst_comparative", "14.48", "pp", "gain over AVST, audio-visual Comparative", _GAINS, _GAIN_NOTE),
    _stated("av_gain_avst_temporal", "11.64", "pp", "gain over AVST, audio-visual Temporal", _GAINS, _GAIN_NOTE),
    _stated("avg_gain_avsd", "9.22", "pp", "average-accuracy gain over AVSD", _AVERAGES, _GAIN_NOTE),
    _stated("avg_gain_pano_avqa", "7.9", "pp", "average-accuracy gain over Pano-AVQA", _AVERAGES, _GAIN_NOTE),
    _stated("avg_gain_avst", "5.13", "pp", "average-accuracy gain over AVST", _AVERAGES, _GAIN_NOTE),
    _stated("avg_gain_pstp_net", "2.09", "pp", "average-accuracy gain over PSTP-Net", _AVERAGES, _GAIN_NOTE),
    _stated("avg_gain_tjstg", "4.53", "pp", "average-accuracy gain over TJSTG", _AVERAGES, _GAIN_NOTE),
    # ablations (metric not stated: overall or audio-visual accuracy)
    _stated("table2_base", "70.31", "%", "accuracy without SLT and SaSR", _TABLE2),
    _stated("table2_slt", "1.85", "pp", "gain from adding SLT alone", _TABLE2),
    _stated("table2_sasr", "1.47", "pp", "gain from adding SaSR alone (SLT removed)", _TABLE2),
    _stated("table2_both", "3.90", "pp", "gain from adding both SLT and SaSR", _TABLE2),
    _stated("table3_base", "70.17", "%", "accuracy without spatial (SA) and temporal (TA) attention", _TABLE3),
    _stated("table3_both", "1.03", "pp", "gain from adding both SA and TA", _TABLE3),
    # AVQA-Yang
    _stated("avqa_yang_avg", "89.9", "%", "SaSR-Net's average accuracy on AVQA-Yang",
            "§4.5 Experiments on AVQA Dataset, Table 4 (SaSR-Net row)"),
    *(_stated(f"avqa_yang_{key}", printed, "%", f"{method}+HAVF's average accuracy on AVQA-Yang (as Table 4 "
              "reports it)", f"§4.5, Table 4 ({method}+HAVF row)")
      for key, printed, method in (("hcrn", "89.0", "HCRN"), ("hga", "87.7", "HGA"), ("psac", "87.4", "PSAC"),
                                   ("hme", "85.0", "HME"), ("ladnet", "84.1", "LADNet"))),
)
_STATED = {n.key: n for n in _STATED_NUMBERS}

_ABLATION_NOTE = ("Tables 2 and 3 imply different full-model scores; the paper does not say whether the "
                  "ablation metric is overall or audio-visual accuracy")


def _inferred(key: str, from_keys: tuple[str, ...], unit: str, what: str, where: str, note: str) -> PaperNumber:
    """A number the paper implies: the sum of the stated ``from_keys``, rounded to their 2 decimals."""
    value = round(sum(_STATED[k].value for k in from_keys), 2)
    return PaperNumber(key, value, unit, what, where, inferred=True, from_keys=from_keys, note=note)


NUMBERS: tuple[PaperNumber, ...] = _STATED_NUMBERS + (
    _inferred("full_model_table2", ("table2_base", "table2_both"), "%",
              "full SaSR-Net accuracy implied by Table 2 (the value the kit shows as SaSR-Net's overall)",
              _TABLE2, _ABLATION_NOTE),
    _inferred("full_model_table3", ("table3_base", "table3_both"), "%",
              "full SaSR-Net accuracy implied by Table 3", _TABLE3, _ABLATION_NOTE),
)
_BY_KEY = {n.key: n for n in NUMBERS}


def _lookup(by_key: dict[str, PaperNumber], key: str, kind: str) -> PaperNumber:
    """``by_key[key]``; KeyError naming ``kind`` and listing the known keys."""
    try:
        return by_key[key]
    except KeyError:
        raise KeyError(f"no {kind} number {key!r}; known: {', '.join(by_key)}") from None


def _table(numbers, inferred: bool) -> pd.DataFrame:
    """One row per entry, indexed by key: value, unit, what, where, (inferred,) note."""
    return pd.DataFrame(
        [dict(key=n.key, value=n.value, unit=n.unit, what=n.what, where=n.where,
              **({"inferred": n.inferred} if inferred else {}),
              note=f"= {n.formula}; {n.note}" if n.inferred else n.note) for n in numbers]
    ).set_index("key")


def paper_number(key: str) -> PaperNumber:
    """The entry named ``key``; KeyError lists the known keys."""
    return _lookup(_BY_KEY, key, "paper")


def paper_table() -> pd.DataFrame:
    """Every entry, indexed by key: value, unit, what, where, inferred, note."""
    return _table(NUMBERS, inferred=True)



# --- published rows of the results tables (`sasr_lite.evaluate.tables.published_table`) ----------
# (group, type) -> accuracy (%), in percent. MUSIC-AVQA test accuracies: docs/design.md section 4.4.
_SASR_OVERALL = paper_number("full_model_table2")  # Table 2's baseline + its both-blocks gain
PUBLISHED_MUSIC_AVQA = {
    # AVST (Li et al., CVPR 2022), the project's own numbers on the updated release
    "AVST (published; json_update release)": {
        ("Audio", "Counting"): 77.78, ("Audio", "Comparative"): 67.17, ("Audio", AVG): 73.87,
        ("Visual", "Counting"): 73.52, ("Visual", "Location"): 75.27, ("Visual", AVG): 74.40,
        ("Audio-Visual", "Existential"): 82.49, ("Audio-Visual", "Location"): 64.24,
        ("Audio-Visual", "Counting"): 69.88, ("Audio-Visual", "Comparative"): 64.67,
        ("Audio-Visual", "Temporal"): 65.82, ("Audio-Visual", AVG): 69.53,
        (OVERALL, AVG): 71.59,
    },
    # the SaSR-Net paper: its text states the audio average; the overall is inferred
    f"SaSR-Net (paper; overall inferred {_SASR_OVERALL.formula}; release not stated)": {
        ("Audio", AVG): paper_number("audio_avg").value, (OVERALL, AVG): _SASR_OVERALL.value,
    },
}
# AVQA-Yang averages (the paper's Table 4: only the average is reported)
PUBLISHED_AVQA_YANG = {
    f"{method} (published, Table 4)": {(OVERALL, AVG): paper_number(key).value}
    for method, key in (("SaSR-Net", "avqa_yang_avg"), ("HCRN+HAVF", "avqa_yang_hcrn"), ("HGA+HAVF", "avqa_yang_hga"),
                        ("PSAC+HAVF", "avqa_yang_psac"), ("HME+HAVF", "avqa_yang_hme"),
                        ("LADNet+HAVF", "avqa_yang_ladnet"))
}


# (table, variant, SaSRConfig switches that are off, key of its gain or None for the baseline row)
_ABLATION_ROWS = (
    ("Table 2", "without SLT and SaSR", ("use_slt", "use_sasr"), None),
    ("Table 2", "+ SLT", ("use_sasr",), "table2_slt"),
    ("Table 2", "+ SaSR", ("use_slt",), "table2_sasr"),
    ("Table 2", "+ SLT + SaSR (full model)", (), "table2_both"),
    ("Table 3", "without SA and TA", ("use_spatial", "use_temporal"), None),
    ("Table 3", "+ SA + TA (full model)", (), "table3_both"),
)
_SWITCHES = ("use_slt", "use_sasr", "use_spatial", "use_temporal")


def ablation_reference() -> pd.DataFrame:
    """The paper's ablation rows (Tables 2 and 3) as the text states them.

    One row per variant: table, variant, the four `SaSRConfig` switches (bool), gain (pp over
    the table's baseline; 0 for the baseline), accuracy (%; baseline + gain, so inferred for
    every row but the baselines). Table 3's text gives no single-attention rows.
    """
    rows = []
    for table, variant, off, gain_key in _ABLATION_ROWS:
        base = _STATED["table2_base" if table == "Table 2" else "table3_base"].value
        gain = _STATED[gain_key].value if gain_key else 0.0
        rows.append(dict(table=table, variant=variant, **{s: s not in off for s in _SWITCHES},
                         gain=gain, accuracy=round(base + gain, 2)))
    return pd.DataFrame(rows)


# --- MUSIC-AVQA v2.0 and MUSIC-AVQA-R: published facts, each with its source -------------------
# Not the SaSR-Net paper's (the paper evaluates on neither), so kept apart from NUMBERS. Each is
# printed in the source named in ``where``. No published accuracy on v2.0 or -R is listed: none
# could be checked against its paper's table here (QA-TIGER's README states none).
_V2_README = "MUSIC-AVQA-v2.0 README (github.com/DragonLiu1995/MUSIC-AVQA-v2.0 @ 7db4f54, README.md)"
_R_README = "MUSIC-AVQA-R README (github.com/reml-group/MUSIC-AVQA-R @ d9bed99, README.md, section Dataset)"
BENCHMARK_NUMBERS: tuple[PaperNumber, ...] = (
    _stated("v2_collected_videos", "1230", "videos", "music performance videos collected by hand for v2.0", _V2_README),
    _stated("v2_new_qa_pairs", "8.1", "thousand questions", "new question-answer pairs of v2.0 ('8.1k')", _V2_README),
    _stated("v2_additional_videos", "1040", "videos", "additional 60 s videos released with v2.0 (the rows of "
            "data/MUSIC-AVQA-v2.0_additional_videos.csv)", _V2_README),
    _stated("r_test_questions", "211,572", "questions", "MUSIC-AVQA-R test questions (rephrasings)", _R_README),
    _stated("r_source_questions", "9,129", "questions", "MUSIC-AVQA test questions rephrased (json_update)", _R_README),
    _stated("r_rephrasings", "25", "rephrasings", "rephrasings generated per question (QuillBot), before the vote",
            _R_README),
    _stated("r_kept", "92.4", "%", "share of rephrased questions kept by the annotators' vote", _R_README),
    _stated("r_fleiss_kappa", "0.849", "", "Fleiss' kappa of the annotators' vote", _R_README),
    _stated("r_vocabulary", "465", "words", "question vocabulary of MUSIC-AVQA-R (MUSIC-AVQA's: 93)", _R_README),
    _stated("r_head_factor", "1.2", "", "head answers: count above this times mu(a), the mean answer count of "
            "the question type", _R_README),
    _stated("r_mccd_gain", "9.68", "pp", "gain of the authors' MCCD on MUSIC-AVQA-R",
            "Ma et al., 'Look, Listen, and Answer', arXiv 2404.12020, abstract",
            "the abstract writes '9.68%' ('a significant improvement ... on the proposed dataset'); the baseline "
            "it is measured from is in the paper's tables, not the abstract"),
)
_BENCHMARK_BY_KEY = {n.key: n for n in BENCHMARK_NUMBERS}


def benchmark_number(key: str) -> PaperNumber:
    """The MUSIC-AVQA v2.0 / -R entry named ``key``; KeyError lists the known keys."""
    return _lookup(_BENCHMARK_BY_KEY, key, "benchmark")


def benchmark_table() -> pd.DataFrame:
    """Every MUSIC-AVQA v2.0 / -R entry, indexed by key: value, unit, what, where, note."""
    return _table(BENCHMARK_NUMBERS, inferred=False)
