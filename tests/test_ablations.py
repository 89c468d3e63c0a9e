"""Converged runs (TrainConfig.converge_gain) and the ablations.json writer, at the test scale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sasr_lite.ablations import WITHOUT_SLT_PREDICTIONS, ablation_deltas, prediction_check, write_ablations
from sasr_lite.checkpoint import load_checkpoint
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.evaluate import paired_bootstrap_runs
from sasr_lite.notebook_utils import load_or_train, run_converged
from sasr_lite.train import train

pytestmark = pytest.mark.usefixtures("one_thread")  # fixtures in conftest.py

QUICK = TrainConfig(epochs=6, batch_size=16, lr=3e-3, max_batches=2, progress=False, verbose=False,
                    tensorboard=False)


def test_the_rule_compares_the_last_accuracy_with_the_one_window_epochs_before():
    rule = TrainConfig(converge_gain=0.5)  # window 2
    assert not rule.converged([40.0, 41.0])  # too few epochs to judge
    assert not rule.converged([40.0, 41.0, 40.6])  # best of the last two 41.0: +1.0 over 40.0
    assert rule.converged([40.0, 40.2, 40.4])  # +0.4
    assert not rule.converged([40.0, 42.0, 41.0, 42.7, 41.5])  # one low epoch after a gain of 0.7 does not stop it
    assert rule.converged([40.0, 45.0, 44.0, 45.2, 39.0])  # best 45.2 against 45.0 before
    assert not TrainConfig().converged([40.0, 40.0, 40.0, 40.0])  # no rule: never
    assert TrainConfig(converge_gain=1.0, converge_window=3).converged([30.0, 50.0, 50.0, 30.9, 50.9])
    floor = TrainConfig(converge_gain=0.5, converge_min_epochs=5)
    assert not floor.converged([40.0, 45.0, 45.0, 45.0]) and floor.converged([40.0, 45.0, 45.0, 45.0, 45.0])
    with pytest.raises(ValueError, match="converge_gain needs a gain > 0 and eval_every=1"):
        TrainConfig(converge_gain=0.5, eval_every=0)
    with pytest.raises(ValueError, match="converge_window must be >= 1"):
        TrainConfig(converge_gain=0.5, converge_window=0)


def test_a_run_stops_when_converged_writes_its_checkpoint_and_is_reused(tiny, tmp_path):
    # a gain no run reaches: the rule fires as soon as it can judge, after window + 1 epochs
    config = QUICK.replace(converge_gain=1000.0)
    result = train(tiny, SaSRConfig.tiny(), config, out_dir=tmp_path / "run")
    history = result.history
    assert len(history) == 3 and list(history["converged"]) == [False, False, True]
    assert run_converged(history)
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ckpt.epoch == 2 and run_converged(ckpt.history)
    # resuming a converged run trains nothing more
    again = train(tiny, SaSRConfig.tiny(), config, out_dir=tmp_path / "run", resume=True)
    assert len(again.history) == 3
    # the notebooks reuse it although it stopped before the cap of 6 epochs, but not under another rule
    model, reused = load_or_train(tmp_path / "run", tiny, SaSRConfig.tiny(), config)
    assert len(reused) == 3
    _, retrained = load_or_train(tmp_path / "run", tiny, SaSRConfig.tiny(), config.replace(converge_gain=2000.0))
    assert len(retrained) == 3 and run_converged(retrained)
    # without a rule the run goes to the cap and reports no convergence
    plain = train(tiny, SaSRConfig.tiny(), QUICK.replace(epochs=2))
    assert "converged" not in plain.history and not run_converged(plain.history)


def predictions(records, right: np.ndarray) -> dict[int, str]:
    """Predictions that are right exactly where ``right`` says."""
    return {r.question_id: (r.answer if ok else "__wrong__") for r, ok in zip(records, right)}


def test_deltas_are_the_paired_bootstrap_of_each_variant_against_the_full_model(tiny):
    records = tiny.records["test"]
    rng = np.random.default_rng(0)
    runs = {name: [predictions(records, rng.random(len(records)) < p) for _ in range(2)]
            for name, p in (("full", 0.7), ("no_sa", 0.4), ("no_ta", 0.7))}
    deltas = ablation_deltas(records, runs, n_boot=200)
    assert set(deltas) == {"no_sa", "no_ta"}
    direct = paired_bootstrap_runs(records, runs["no_sa"], runs["full"], n_boot=200, resample_runs=True)
    cell = deltas["no_sa"]["Audio-Visual/Location"]
    expected = direct.loc[("Audio-Visual", "Location"), ["delta", "low", "high"]].to_numpy(float)
    np.testing.assert_allclose(cell, expected, atol=1e-3)
    assert deltas["no_sa"]["Overall/Avg"][2] < 0  # 40% against 70% right: the whole interval below 0
    with pytest.raises(ValueError, match="no runs of the reference variant 'full'"):
        ablation_deltas(records, {"no_sa": runs["no_sa"]})


def document(**changes) -> dict:
    cell = {"Audio-Visual/Location": [-5.0, -8.0, -2.0], "Overall/Avg": [-1.0, -2.0, 0.5]}
    base = dict(scale="test", cues={"position_in_pooled": False}, converged={"full/seed0": True},
                deltas={v: cell for v in ("no_slt", "no_sasr", "no_sa", "no_ta")},
                cue_experiment={"knob": "position_in_pooled", "deltas": {"on": {"no_sa": cell}, "off": {"no_sa": cell}}})
    return base | changes


def test_write_ablations_writes_the_keys_the_issue_names(tmp_path):
    path = write_ablations(tmp_path / "results" / "lesson" / "ablations.json", **document())
    doc = json.loads(path.read_text())
    assert {"scale", "cues", "deltas", "converged", "cue_experiment"} <= set(doc)
    assert doc["deltas"]["no_sa"]["Audio-Visual/Location"] == [-5.0, -8.0, -2.0]


@pytest.mark.parametrize("changes, message", [
    (dict(deltas={"no_sa": {"Audio-Visual/Location": [0.0, -1.0, 1.0]}}), "lacks the variants \\['no_slt', 'no_sasr', 'no_ta'\\]"),
    (dict(converged={"full/seed0": "yes"}), "converged must be a non-empty dict of run -> bool"),
    (dict(cue_experiment={"knob": "position_in_pooled"}), "cue_experiment must be a dict with its own deltas"),
])
def test_write_ablations_refuses_a_malformed_document_and_writes_nothing(tmp_path, changes, message):
    path = tmp_path / "ablations.json"
    path.write_text("previous\n")
    with pytest.raises(ValueError, match=f"{path}: not written: .*{message}"):
        write_ablations(path, **document(**changes))
    assert path.read_text() == "previous\n"
    bad = document()
    bad["deltas"]["no_ta"] = {"Location": [1.0, 2.0, 3.0]}
    with pytest.raises(ValueError, match="key 'Location' is not spelled \"Group/Type\""):
        write_ablations(path, **bad)


def test_the_slt_experiment_is_checked_written_and_judged_against_its_own_reference(tmp_path):
    drop, flat = [-3.0, -5.0, -1.0], [0.5, -1.0, 2.0]
    slt = {"reference": "no_slt", "deltas": {"no_sa": {"Audio-Visual/Location": drop},
                                             "no_ta": {"Audio-Visual/Temporal": flat}}}
    path = write_ablations(tmp_path / "ablations.json", **document(slt_experiment=slt))
    assert json.loads(path.read_text())["slt_experiment"] == slt
    verdict = {(row["variant"], row["type"]): row["shown"] for row in prediction_check(slt["deltas"], WITHOUT_SLT_PREDICTIONS)}
    assert verdict == {("no_sa", "Audio-Visual/Location"): True, ("no_ta", "Audio-Visual/Temporal"): False}
    # every variant of the experiment switches SLT off, and one block more
    assert all(switches["use_slt"] is False and len(switches) == 2 for switches, _, _ in WITHOUT_SLT_PREDICTIONS.values())
    path.write_text("previous\n")
    with pytest.raises(ValueError, match="slt_experiment.deltas lacks the variants \\['no_ta'\\]"):
        write_ablations(path, **document(slt_experiment={"reference": "no_slt", "deltas": {"no_sa": {"Overall/Avg": drop}}}))
    with pytest.raises(ValueError, match="slt_experiment must be a dict with its reference and deltas"):
        write_ablations(path, **document(slt_experiment={"deltas": slt["deltas"]}))
    assert path.read_text() == "previous\n"


def test_a_benchmark_with_other_cues_gets_its_own_folder_name():
    from sasr_lite.notebook_utils import cue_suffix

    assert cue_suffix("lesson") == cue_suffix("lesson", "lesson") == ""
    assert cue_suffix("tiny", "lesson") == "-position_in_pooled-off-playing_in_pooled-off-time_in_features-on"
    assert cue_suffix("lesson", {"position_in_pooled": True, "playing_in_pooled": False,
                                 "time_in_features": True}) == "-position_in_pooled-on"
