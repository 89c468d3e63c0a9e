"""The paper's numbers (sasr_lite.paper): each stated one is in the paper's text, each inferred
one is the sum it claims, and the kit's defaults and published table use them."""

from __future__ import annotations

import re

import pytest

from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data.taxonomy import INSTRUMENTS, SUBTYPES, TEMPLATES
from sasr_lite.evaluate import published_table
from sasr_lite.model.summary import PAPER_PARAMETERS
from sasr_lite.paper import NUMBERS, ablation_reference, paper_number, paper_table
from real_data import paper_text

STATED = [n for n in NUMBERS if not n.inferred]
INFERRED = [n for n in NUMBERS if n.inferred]


def test_every_entry_says_what_and_where_and_keys_are_unique():
    assert len({n.key for n in NUMBERS}) == len(NUMBERS)
    for n in NUMBERS:
        assert n.what.strip() and n.where.strip(), n.key
        assert paper_number(n.key) is n
    table = paper_table()
    assert list(table.index) == [n.key for n in NUMBERS]
    assert table["value"].tolist() == [n.value for n in NUMBERS]
    assert table["inferred"].tolist() == [n.inferred for n in NUMBERS]
    with pytest.raises(KeyError, match="no paper number 'nope'"):
        paper_number("nope")


def test_stated_numbers_occur_in_the_paper_as_printed():
    text = paper_text()
    for n in STATED:
        # a whole number, not part of a longer one ("16" must not match inside "2016" or "16.5")
        pattern = rf"(?<![\d.])(?<!\d,){re.escape(n.printed)}(?!\d|[.,]\d)"
        assert re.search(pattern, text), f"{n.key}: {n.printed!r} not in the paper"
        assert n.value == float(n.printed.replace(",", "").replace(" ", "")), n.key


def test_inferred_numbers_are_the_sums_they_state_and_the_two_full_models_disagree():
    for n in INFERRED:
        sources = [paper_number(k) for k in n.from_keys]
        assert len(sources) >= 2 and not any(s.inferred for s in sources), n.key
        assert n.value == pytest.approx(sum(s.value for s in sources), abs=1e-9), n.key
        assert n.formula == "+".join(s.printed for s in sources) and n.note
    table2, table3 = paper_number("full_model_table2"), paper_number("full_model_table3")
    assert table2.value == pytest.approx(70.31 + 3.90) and table3.value == pytest.approx(70.17 + 1.03)
    assert table2.value != table3.value


def test_ablation_reference_rows_add_up():
    rows = ablation_reference()
    assert rows["accuracy"].tolist() == pytest.approx(
        [paper_number("table2_base").value + g for g in rows["gain"][rows["table"] == "Table 2"]]
        + [paper_number("table3_base").value + g for g in rows["gain"][rows["table"] == "Table 3"]])
    switches = ["use_slt", "use_sasr", "use_spatial", "use_temporal"]
    base2, *_, full2 = rows[rows["table"] == "Table 2"].itertuples()
    assert (base2.gain, base2.use_slt, base2.use_sasr, base2.use_spatial) == (0.0, False, False, True)
    assert full2.accuracy == pytest.approx(paper_number("full_model_table2").value)
    full3 = rows[rows["table"] == "Table 3"].iloc[-1]
    assert full3["accuracy"] == pytest.approx(paper_number("full_model_table3").value) and full3[switches].all()


def test_the_published_sasr_row_comes_from_the_paper_and_says_it_is_inferred():
    label, row = published_table().index[1], published_table().iloc[1]
    full = paper_number("full_model_table2")
    assert label.startswith("SaSR-Net (paper;") and f"overall inferred {full.formula}" in label
    assert row[("Overall", "Avg")] == full.value and row[("Audio", "Avg")] == paper_number("audio_avg").value


def test_kit_defaults_follow_the_papers_recipe_and_taxonomy():
    train, model = TrainConfig(), SaSRConfig()
    value = {n.key: n.value for n in STATED}
    assert (train.batch_size, train.epochs, train.lr, train.gamma, train.step_size) == (
        value["batch_size"], value["epochs"], value["lr"], value["lr_gamma"], value["lr_step"])
    assert model.lambda_source == model.lambda_reg == model.lambda_match == value["loss_lambda"]
    assert (model.d_model, model.word_dim, model.num_tokens) == (
        value["feature_dim"], value["word_dim"], value["instruments"])
    assert (len(SUBTYPES), len(TEMPLATES), len(INSTRUMENTS)) == (
        value["question_types"], value["templates"], value["instruments"])
    assert PAPER_PARAMETERS == value["parameters"]
