"""The course-lab grader (`sasr_lite.labs`): every exercise passes its definition's solution, run as
its notebook cell runs it (tests/exercise_cells.py); every implement check refuses its stub, the
package's own function and a solution that calls it, and names a classic mistake; predict checks
name known slips; experiment checks validate the report and its numbers against the run folders it names."""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sasr_lite import evaluate, losses
from sasr_lite.baselines import AnswerPrior
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.data import official_features
from sasr_lite.features import vggish
from sasr_lite.labs import check, exercises
from sasr_lite.labs.exercise import POINTS
from sasr_lite.labs.registry import EXERCISES
from sasr_lite.model import AnswerHead, CrossAttention, SaSRBranch, SourceTokens, SpatialAttention, TemporalAttention
from sasr_lite.model import self_attention as package_self_attention
from sasr_lite.model import slt
from sasr_lite.model.sasrnet import SaSROutput
from sasr_lite.notebook_utils import overall_test_accuracy
from sasr_lite.train import train as train_run

from exercise_cells import reference_answer

IMPLEMENT = sorted(i for i, e in EXERCISES.items() if e.kind == "implement")
PREDICT = sorted(i for i, e in EXERCISES.items() if e.kind == "predict")
EXPERIMENT = sorted(i for i, e in EXERCISES.items() if e.kind == "experiment")
EVIDENCED = [i for i in EXPERIMENT if EXERCISES[i].spec.unchecked is None]  # graded on their run folders


def grade(capsys, exercise_id, answer) -> tuple[bool, str]:
    """check()'s result and its printed verdict on one line."""
    passed = check(exercise_id, answer)
    return passed, " ".join(capsys.readouterr().out.split())


# --- right answers: each exercise's definition, run as its notebook cell runs it ---------------------
SOLUTIONS = {i: reference_answer(e) for i, e in EXERCISES.items()}
self_attention = SOLUTIONS["03.self_attention"]  # the one the edge-case tests below build on


# --- the package's own functions, handed in as they are or called inside a "solution" --------------
PACKAGE = {
    "01.log_mel": (vggish.log_mel_spectrogram, "sasr_lite.features.vggish.log_mel_spectrogram"),
    "01.stride_sampling": (official_features.load_official_video, "sasr_lite.data.official_features.load_official_video"),
    "02.answer_prior": (AnswerPrior().predict, "sasr_lite.baselines.AnswerPrior"),
    "03.self_attention": (functools.partial(slt.self_attention, return_weights=False),
                          "sasr_lite.model.slt.self_attention"),
    "03.token_block": (SourceTokens(22, 32), "sasr_lite.model.slt.SourceTokens"),
    "04.cross_attn": (CrossAttention(8).forward, "sasr_lite.model.sasr.CrossAttention"),
    "04.sasr_branch": (SaSRBranch(8), "sasr_lite.model.sasr.SaSRBranch"),
    "05.spatial_attention": (SpatialAttention(8, 8), "sasr_lite.model.spatial.SpatialAttention"),
    "05.match_targets": (losses.sasr_losses, "sasr_lite.losses.sasr_losses"),
    "06.temporal_attention": (TemporalAttention(), "sasr_lite.model.temporal.TemporalAttention"),
    "07.answer_fusion": (AnswerHead(8, 5), "sasr_lite.model.answer.AnswerHead"),
    "07.total_loss": (losses.sasr_losses, "sasr_lite.losses.sasr_losses"),
    "09.bootstrap_interval": (evaluate.bootstrap_table, "sasr_lite.evaluate.bootstrap_table"),
    "10.paired_bootstrap": (evaluate.paired_bootstrap, "sasr_lite.evaluate.paired_bootstrap"),
}


def stride_via_package(audio, maps, stride):
    with tempfile.TemporaryDirectory() as root:
        for path, x in zip(official_features.official_paths(root, "v"), (audio, maps)):
            path.parent.mkdir()
            np.save(path, x.numpy())
        rows = official_features.load_official_video(root, "v", stride, len(audio))
        return tuple(torch.from_numpy(np.array(rows[k])) for k in ("audio", "maps", "visual"))


def prior_via_package(train_templates, train_answers, test_templates):
    prior = AnswerPrior()
    prior.fit([])  # any call reaches the blocked method
    return prior.predict([])


def token_block_via_package(f_r, tokens):
    block = SourceTokens(*tokens.shape)
    block.tokens.data.copy_(tokens)
    return block(f_r)[:2]


def cross_attn_via_package(a, b, *weights):
    attn = CrossAttention(a.shape[-1])
    for p, w in zip(attn.parameters(), weights):
        p.data.copy_(w)
    return attn(a, b)[0]


def branch_via_package(f_s, tokens, params):
    branch = SaSRBranch(f_s.shape[-1])
    branch.load_state_dict(params)
    return branch(f_s, tokens)[:2]


def spatial_via_package(f_a_g, f_v_g, maps, fc_weight, fc_bias, norm="l2", temperature=1.0):
    block = SpatialAttention(f_a_g.shape[-1], maps.shape[-1], norm=norm, temperature=temperature)
    block.fc.weight.data.copy_(fc_weight)
    block.fc.bias.data.copy_(fc_bias)
    return block(f_a_g, f_v_g, maps)


def losses_via_package(answer_logits, answer, presence_a, presence_v, sources, token_logits, match_logits,
                       match_logits_neg, *lambdas):
    B, T, _ = match_logits.shape
    output = SaSROutput(answer_logits=answer_logits, match_logits=match_logits, match_logits_neg=match_logits_neg,
                        presence_a=presence_a, presence_v=presence_v, token_logits=token_logits,
                        spatial_attn=torch.ones(B, T, 1), temporal_attn_a=torch.full((B, T), 1 / T),
                        temporal_attn_v=torch.full((B, T), 1 / T))
    return losses.sasr_losses(output, answer, sources, SaSRConfig.tiny())["total"]


def fusion_via_package(f_a_ta, f_a_g, f_v_ta, f_v_sa, q, *weights):
    head = AnswerHead(q.shape[-1], weights[2].shape[0])
    for p, w in zip(head.parameters(), weights):
        p.data.copy_(w)
    return head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)


CALLS_PACKAGE = {
    "01.log_mel": lambda waveform: vggish.log_mel_spectrogram(waveform),
    "01.stride_sampling": stride_via_package,
    "02.answer_prior": prior_via_package,
    "03.self_attention": lambda f: package_self_attention(f),  # a notebook's own imported name
    "03.token_block": token_block_via_package,
    "04.cross_attn": cross_attn_via_package,
    "04.sasr_branch": branch_via_package,
    "05.spatial_attention": spatial_via_package,
    "05.match_targets": lambda pos, neg: losses.sasr_losses(None, None, None, None)["match"],
    "06.temporal_attention": lambda q, f: TemporalAttention()(q, f),
    "07.answer_fusion": fusion_via_package,
    "07.total_loss": losses_via_package,
    "09.bootstrap_interval": lambda c, n_boot, seed, level: evaluate.bootstrap_table([], {}, n_boot, seed, level),
    "10.paired_bootstrap": lambda a, b, n_boot, seed, level: evaluate.paired_bootstrap([], {}, {}, n_boot, seed, level),
}


# --- classic wrong implementations and the hint each must get -----------------------------------------
def log_mel_log10(waveform):
    frames = waveform.unfold(-1, 400, 160)
    window = torch.hann_window(400, periodic=True, dtype=torch.float64)
    return torch.log10(torch.fft.rfft(frames * window, n=512).abs() @ vggish.mel_matrix() + 0.01)


def stride_no_transpose(audio, maps, stride):
    kept = maps[::stride]
    maps = kept.reshape(len(kept), 196, 512)
    return audio[::stride], maps, maps.mean(1)


def prior_first_seen(train_templates, train_answers, test_templates):
    by_template = {}
    for key, answer in zip(train_templates, train_answers):
        by_template.setdefault(key, []).append(answer)
    fallback = Counter(train_answers).most_common(1)[0][0]
    return [Counter(by_template[k]).most_common(1)[0][0] if k in by_template else fallback for k in test_templates]


def self_attention_wrong_axis(f):
    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-2) @ f


def token_block_separately(f_r, tokens):
    return self_attention(f_r), self_attention(tokens.expand(len(f_r), -1, -1))


def cross_attn_unscaled(a, b, w_q, b_q, w_k, b_k, w_v, b_v):
    q, k, v = a @ w_q.T + b_q, b @ w_k.T + b_k, b @ w_v.T + b_v
    return torch.softmax(q @ k.transpose(1, 2), dim=-1) @ v


def _attn(p, prefix, a, b):
    return SOLUTIONS["04.cross_attn"](a, b, *(p[f"{prefix}.fc_{x}.{y}"] for x in "qkv" for y in ("weight", "bias")))


def branch_no_residual(f_s, tokens, params):
    D = f_s.shape[-1]
    read = _attn(params, "token_attn", tokens, f_s) @ params["token_fc.weight"].T + params["token_fc.bias"]
    new = F.layer_norm(read, (D,), params["token_norm.weight"], params["token_norm.bias"])
    f_g = _attn(params, "segment_attn", f_s, new) @ params["segment_fc.weight"].T + params["segment_fc.bias"]
    return f_g, new


def spatial_without_l2(f_a_g, f_v_g, maps, fc_weight, fc_bias, norm="l2", temperature=1.0):
    return SOLUTIONS["05.spatial_attention"](f_a_g, f_v_g, maps, fc_weight, fc_bias, "none", temperature)


def temporal_unscaled(q, f):
    weights = torch.softmax((f * q.unsqueeze(1)).sum(-1), dim=-1)
    return (weights.unsqueeze(-1) * f).sum(1), weights


def fusion_no_shortcut(f_a_ta, f_a_g, f_v_ta, f_v_sa, q, *weights):
    return SOLUTIONS["07.answer_fusion"](f_a_ta, torch.zeros_like(f_a_g), f_v_ta, torch.zeros_like(f_v_sa), q, *weights)


def total_unweighted(*args, **kwargs):
    return SOLUTIONS["07.total_loss"](*args[:8], 1.0, 1.0, 1.0)


WRONG = {
    "01.log_mel": (log_mel_log10, "you used log10"),
    "01.stride_sampling": (stride_no_transpose, "without moving the channels last"),
    "02.answer_prior": (prior_first_seen, "ties: you keep the answer seen first"),
    "03.self_attention": (self_attention_wrong_axis, "your softmax runs over the wrong axis"),
    "03.token_block": (token_block_separately, "attended over the segments and over the tokens separately"),
    "04.cross_attn": (cross_attn_unscaled, "you left out the 1/sqrt(D) scaling"),
    "04.sasr_branch": (branch_no_residual, "you left out the residual"),
    "05.spatial_attention": (spatial_without_l2, "you did not L2-normalise"),
    "05.match_targets": (lambda pos, neg: SOLUTIONS["05.match_targets"](neg, pos), "your targets are swapped"),
    "06.temporal_attention": (temporal_unscaled, "you left out the 1/sqrt(D) scaling"),
    "07.answer_fusion": (fusion_no_shortcut, "you left out the shortcut"),
    "07.total_loss": (total_unweighted, "without their weights"),
    "09.bootstrap_interval": (lambda *a: tuple(v / 100 for v in SOLUTIONS["09.bootstrap_interval"](*a)), "fractions"),
    "10.paired_bootstrap": (lambda a, b, *rest: SOLUTIONS["10.paired_bootstrap"](b, a, *rest), "wrong sign"),
}


# --- the table --------------------------------------------------------------------------------------
def test_exercises_table_covers_every_notebook_with_every_kind():
    table = exercises()
    assert list(table.columns) == ["id", "notebook", "kind", "objective", "minutes", "points", "stub"]
    assert len(table) >= 24 and table["id"].is_unique
    assert all(re.fullmatch(r"\d\d\.[a-z_]+", i) for i in table["id"])
    assert set(table["kind"]) == {"implement", "predict", "experiment"}
    per_notebook = table["notebook"].value_counts()
    assert len(per_notebook) == 10 and (per_notebook >= 2).all()
    assert all(nb.startswith(i[:2] + "_") for i, nb in zip(table["id"], table["notebook"]))
    assert table["minutes"].map(lambda m: isinstance(m, int) and m > 0).all()
    assert (table["points"] == table["kind"].map(POINTS)).all()  # no exercise overrides its kind's points yet
    assert table["objective"].map(lambda o: "\n" not in o and len(o) > 20).all()
    implement = table[table["kind"] == "implement"]
    assert implement["stub"].map(lambda s: f'raise NotImplementedError("exercise ' in s).all()
    assert all(f'"exercise {i}: write this function"' in s for i, s in zip(implement["id"], implement["stub"]))
    assert table.loc[table["kind"] != "implement", "stub"].isna().all()


def test_an_unknown_id_raises_value_error_naming_the_known_ids():
    with pytest.raises(ValueError, match="unknown exercise '03.self_attn'") as err:
        check("03.self_attn", self_attention)
    assert "03.self_attention" in str(err.value) and "10.paired_bootstrap" in str(err.value)


# --- every exercise ----------------------------------------------------------------------------------
@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_a_right_answer_passes(capsys, request, exercise_id):
    right = request.getfixturevalue("evidence")[exercise_id] if exercise_id in EVIDENCED else SOLUTIONS[exercise_id]
    passed, out = grade(capsys, exercise_id, right)
    assert passed and out.startswith(f"PASS {exercise_id}:"), out


# --- implement exercises -------------------------------------------------------------------------------
def stub_function(exercise_id):
    stub = EXERCISES[exercise_id].stub
    namespace = {"torch": torch, "np": np}
    exec(compile(stub, f"<stub {exercise_id}>", "exec"), namespace)
    return namespace[ast.parse(stub).body[0].name]


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_the_stub_fails_with_its_not_implemented_hint(capsys, exercise_id):
    passed, out = grade(capsys, exercise_id, stub_function(exercise_id))
    assert not passed and out.startswith(f"FAIL {exercise_id}:")
    assert f"your function raised NotImplementedError: exercise {exercise_id}: write this function" in out


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_the_package_function_is_refused(capsys, exercise_id):
    answer, name = PACKAGE[exercise_id]
    passed, out = grade(capsys, exercise_id, answer)
    assert not passed and f"that is the package's own {name}" in out, out


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_a_solution_calling_the_package_function_is_refused(capsys, exercise_id):
    passed, out = grade(capsys, exercise_id, CALLS_PACKAGE[exercise_id])
    assert not passed and f"your function called the package's own {PACKAGE[exercise_id][1]}" in out, out


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_a_classic_mistake_gets_its_hint(capsys, exercise_id):
    wrong, hint = WRONG[exercise_id]
    passed, out = grade(capsys, exercise_id, wrong)
    assert not passed and hint in out, out


def test_checking_leaves_the_package_functions_in_this_process_alone(capsys):
    import sasr_lite.model

    forward = CrossAttention.forward
    assert not check("03.self_attention", CALLS_PACKAGE["03.self_attention"])
    assert not check("04.cross_attn", cross_attn_via_package)
    assert slt.self_attention is package_self_attention and sasr_lite.model.self_attention is package_self_attention
    assert globals()["package_self_attention"] is slt.self_attention  # the student's own name too
    assert CrossAttention.forward is forward
    f = torch.randn(2, 3, 4)
    torch.testing.assert_close(package_self_attention(f), self_attention(f))


def test_a_swallowed_call_of_the_package_function_is_still_caught(capsys):
    def sneaky(f):
        try:
            return package_self_attention(f)
        except Exception:
            return self_attention(f)

    passed, out = grade(capsys, "03.self_attention", sneaky)
    assert not passed and "your function called the package's own sasr_lite.model.slt.self_attention" in out


def test_checking_leaves_the_global_random_state_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    for exercise_id in ("03.token_block", "04.cross_attn", "10.ablated_attention", "04.branch_parameters"):
        check(exercise_id, SOLUTIONS[exercise_id])
    assert torch.equal(torch.rand(3), expected)


def test_any_error_in_a_student_function_is_a_verdict_not_a_crash(capsys):
    def broken(f):
        scores = f @ f  # wrong shapes for a non-square f
        return scores

    passed, out = grade(capsys, "03.self_attention", broken)
    assert not passed and "your function raised RuntimeError" in out and "scores = f @ f" in out
    passed, out = grade(capsys, "03.self_attention", lambda f: None)
    assert not passed and "does your function end with a `return`?" in out
    passed, out = grade(capsys, "03.self_attention", "self_attention")
    assert not passed and "expected your function" in out
    passed, out = grade(capsys, "06.temporal_attention", lambda q, f: SOLUTIONS["06.temporal_attention"](q, f)[0])
    assert not passed and "it should return 2: (f_ta, weights)" in out


def test_a_wrong_shape_and_a_plain_difference_are_reported(capsys):
    passed, out = grade(capsys, "03.self_attention", lambda f: self_attention(f).transpose(-2, -1))
    assert not passed and "S(f) has shape [2, 32, 10], expected [2, 10, 32]" in out
    passed, out = grade(capsys, "03.self_attention", lambda f: self_attention(f) * 1.01)
    assert not passed and "the largest |difference|" in out and "atol=1e-05" in out


def test_the_bootstrap_checks_point_at_the_draws(capsys):
    def own_draws(correct, n_boot=1000, seed=0, level=0.95):
        draws = np.random.default_rng(seed + 1).integers(0, len(correct), (n_boot, len(correct)))
        resampled = 100 * correct[draws].mean(axis=1)
        low, high = np.percentile(resampled, [50 * (1 - level), 50 * (1 + level)])
        return 100 * correct.mean(), low, high

    passed, out = grade(capsys, "09.bootstrap_interval", own_draws)
    assert not passed and "check the draws" in out and "bootstrap_indices" in out


# --- predict and experiment exercises ----------------------------------------------------------------------
@pytest.mark.parametrize("exercise_id", PREDICT)
def test_each_known_slip_is_named(capsys, exercise_id):
    spec = EXERCISES[exercise_id].spec
    for hint, value in spec.wrong().items():
        passed, out = grade(capsys, exercise_id, value)
        assert not passed and " ".join(hint.split()) in out, (hint, out)
    passed, out = grade(capsys, exercise_id, spec.expected() * 3 + 1)
    assert not passed and "is too high" in out and " ".join(spec.clue.split()) in out
    passed, out = grade(capsys, exercise_id, "a number")
    assert not passed and "expected one number" in out


@pytest.mark.parametrize("exercise_id", EXPERIMENT)
def test_an_experiment_report_is_checked_for_its_structure(capsys, request, exercise_id):
    right = request.getfixturevalue("evidence")[exercise_id] if exercise_id in EVIDENCED else SOLUTIONS[exercise_id]
    passed, out = grade(capsys, exercise_id, right)
    assert passed and "cannot judge your explanation" in out
    for broken, reason in [
        ({k: v for k, v in right.items() if k != "after"}, "keys ['after'] are missing"),
        ({**right, "setting": "frobnicate"}, "setting 'frobnicate' is not one this experiment changes"),
        ({**right, "after": 158.0}, "after=158.0 is not an accuracy in percent"),
        ({**right, "after": "58%"}, "is not an accuracy in percent"),
        ({**right, "explanation": "it got worse"}, "at least 12 words"),
        ([right], "got list, not a dict"),
    ]:
        passed, out = grade(capsys, exercise_id, broken)
        assert not passed and reason in out, out


# --- experiment evidence: tiny runs written by the kit's own writers (train, record_test_accuracy) ------
TINY_TRAIN = TrainConfig(epochs=1, max_batches=1, batch_size=8, device="cpu", progress=False, verbose=False,
                         tensorboard=False)


def tiny_run(data, folder, setting: str | None = None, value=None, **train_changes) -> float:
    """Train one batch into ``folder`` (with ``setting`` = ``value``, a SaSRConfig or TrainConfig
    field) and record its test accuracy there, as `run_accuracies` does for the lesson's runs."""
    model, schedule = SaSRConfig.tiny(), TINY_TRAIN.replace(**train_changes)
    if setting in {f.name for f in dataclasses.fields(SaSRConfig)}:
        model = model.replace(**{setting: value})
    elif setting is not None:
        schedule = schedule.replace(**{setting: value})
    result = train_run(data, model, schedule, out_dir=folder)
    return overall_test_accuracy(result.model, data, run_dir=folder)


@pytest.fixture(scope="module")
def notebook_folder(tiny, tmp_path_factory):
    """A notebook's folder holding runs/baseline and runs/<setting> for each evidenced experiment's
    solution (its setting and value); the accuracies each run recorded."""
    root = tmp_path_factory.mktemp("notebook")
    recorded = {"runs/baseline": tiny_run(tiny, root / "runs" / "baseline")}
    for exercise_id in EVIDENCED:
        report = SOLUTIONS[exercise_id]
        folder = f"runs/{report['setting']}"
        recorded[folder] = tiny_run(tiny, root / folder, report["setting"], report["value"])
    return root, recorded


@pytest.fixture
def evidence(notebook_folder, monkeypatch):
    """Each evidenced experiment's solution report with its numbers and run folders (relative:
    the test runs in the notebook's folder, as a kernel does)."""
    root, recorded = notebook_folder
    monkeypatch.chdir(root)
    return {i: {**SOLUTIONS[i], "before": recorded["runs/baseline"], "after": recorded[f"runs/{SOLUTIONS[i]['setting']}"],
                "baseline": "runs/baseline", "run": f"runs/{SOLUTIONS[i]['setting']}"} for i in EVIDENCED}


def test_an_experiment_passes_on_its_recorded_numbers_and_a_made_up_one_fails(capsys, evidence):
    right = evidence["07.loss_weights"]
    passed, out = grade(capsys, "07.loss_weights", {**right, "after": right["after"] + 0.04})  # rounding
    assert passed and "numbers as recorded in the runs' test_result.json" in out, out
    passed, out = grade(capsys, "07.loss_weights", {**right, "after": right["after"] + 3.0})
    assert not passed and f"after={right['after'] + 3.0:.2f} is not the measured accuracy" in out, out
    assert f"runs/lambda_match/test_result.json recorded {right['after']:.2f}" in out
    passed, out = grade(capsys, "07.loss_weights", {**right, "before": 0.61})
    assert not passed and "runs/baseline/test_result.json recorded" in out


def test_runs_whose_configs_do_not_show_the_change_fail(capsys, evidence, notebook_folder, tiny):
    right = evidence["05.spatial_rule"]
    swapped = {**right, "run": right["baseline"], "baseline": right["run"]}
    passed, out = grade(capsys, "05.spatial_rule", swapped)
    assert not passed and "runs/baseline/config.json records spatial_norm='l2', not the 'none'" in out, out
    passed, out = grade(capsys, "05.spatial_rule", {**right, "baseline": right["run"]})
    assert not passed and "runs/spatial_norm/config.json records spatial_norm='none' too" in out, out
    root, _ = notebook_folder
    after = tiny_run(tiny, root / "runs" / "seed1", "spatial_norm", "none", seed=1)
    passed, out = grade(capsys, "05.spatial_rule", {**right, "run": "runs/seed1", "after": after})
    assert not passed and "also differ in ['seed'] (e.g. seed: 1 vs 0)" in out, out


def test_missing_evidence_fails_naming_what_is_missing(capsys, evidence, notebook_folder):
    right = evidence["08.learning_rate"]
    passed, out = grade(capsys, "08.learning_rate", {k: v for k, v in right.items() if k != "run"})
    assert not passed and "keys ['run'] are missing" in out and "run (the changed setting)" in out, out
    passed, out = grade(capsys, "08.learning_rate", {**right, "run": "runs/nowhere"})
    assert not passed and "run config (config.json, written when the run trained) not found" in out, out
    root, _ = notebook_folder
    copy = root / "copied"
    shutil.copytree(root / "runs" / "lr", copy)
    (copy / "test_result.json").unlink()
    passed, out = grade(capsys, "08.learning_rate", {**right, "run": "copied"})
    assert not passed and "recorded test result (test_result.json" in out and "copied/test_result.json" in out, out
    shutil.copytree(root / "runs" / "lr", copy, dirs_exist_ok=True)
    with open(copy / "checkpoint.pt", "ab") as f:  # another checkpoint than the one measured
        f.write(b"0")
    passed, out = grade(capsys, "08.learning_rate", {**right, "run": "copied"})
    assert not passed and "copied/test_result.json was measured on another checkpoint" in out, out


def test_one_run_per_seed_is_graded_on_the_mean_and_relative_folders_resolve_from_the_notebook(
        capsys, evidence, monkeypatch, tmp_path):
    right = evidence["10.ablation"]
    pair = {**right, "baseline": [right["baseline"]] * 2, "run": [right["run"]] * 2}
    assert grade(capsys, "10.ablation", pair)[0]  # lists of folders pass through the sandbox
    folder, spec = Path.cwd(), EXERCISES["10.ablation"].spec
    monkeypatch.chdir(tmp_path)  # the grader runs elsewhere and is given the notebook's folder
    assert spec.grade(pair, folder).passed
    found = spec.grade({**pair, "run": [right["run"]]}, folder)
    assert not found.passed and "run names 1 folder(s) and baseline 2" in found.reason
    found = spec.grade(pair)  # without it, from here the folders are not there
    assert not found.passed and f"not found: {tmp_path / right['run'] / 'config.json'}" in found.reason


def test_the_question_only_experiment_says_it_is_graded_on_structure_only(capsys):
    passed, out = grade(capsys, "09.question_only", {**SOLUTIONS["09.question_only"], "before": 0.61})
    assert passed and "(structure only: the question-only baseline is fitted in the notebook's memory" in out


def test_an_experiment_value_must_fit_its_setting(capsys, evidence):
    passed, out = grade(capsys, "10.ablation", {**evidence["10.ablation"], "setting": "use_spatial", "value": "off"})
    assert not passed and "does not fit use_spatial (it takes True or False)" in out
    passed, out = grade(capsys, "05.spatial_rule", {**evidence["05.spatial_rule"], "value": "cosine"})
    assert not passed and "'l2' or 'none'" in out


def test_a_predict_or_experiment_answer_may_be_a_function_and_an_unfinished_one_fails_gracefully(capsys):
    passed, out = grade(capsys, "05.match_loss_chance", lambda: 2 * math.log(2))
    assert passed and out.startswith("PASS")

    def unfinished():
        raise NotImplementedError()

    for exercise_id in ("05.match_loss_chance", "10.ablation"):
        passed, out = grade(capsys, exercise_id, unfinished)
        assert not passed and "FAIL" in out and "your answer function raised NotImplementedError" in out


NOTEBOOK_D = 32  # notebook 03's global D (SaSRConfig.tiny().d_model), which a copied derivation keeps


def self_attention_copied_from_the_lesson(f):
    """Notebook 03's derivation cell pasted as the body: it divides by the notebook's D."""
    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(NOTEBOOK_D), dim=-1) @ f


def test_a_body_copied_from_the_lesson_fails_and_the_hint_says_why(capsys):
    from sasr_lite.config import SaSRConfig

    assert SaSRConfig.tiny().d_model == NOTEBOOK_D
    passed, out = grade(capsys, "03.self_attention", self_attention_copied_from_the_lesson)
    assert not passed and "you scaled by the notebook's global D = 32" in out and "f.shape[-1]" in out, out
