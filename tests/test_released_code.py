"""`sasr_lite.released_code` and ``sasr-lite bench --released``: the authors' code timed beside the kit.

The released code is not part of the kit, so these tests write a small stand-in checkout with its
layout (sasr_net/models.py with SaSR_Net, sasr_net/loss.py with its four losses, a helper imported
by its bare name from sasr_net/modules) and check how the kit loads, trains and times it.
"""

from __future__ import annotations

import sys
import textwrap

import pandas as pd
import pytest
import torch

from sasr_lite import cli
from sasr_lite.bench import benchmark, same_run_ratios, summary_markdown
from sasr_lite.released_code import load_released, random_inputs, released_steps

pytestmark = pytest.mark.usefixtures("one_thread")  # fixtures in conftest.py

MODELS = '''
import torch
from torch import nn
from scaling import ONE  # sasr_net/modules/scaling.py, imported by its bare name as the released code does


class SaSR_Net(nn.Module):
    """Outputs in the released network's order; p[i] is added to output i so that each loss's
    weight in the training step is the gradient of p[i]."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 42)
        self.p = nn.Parameter(torch.zeros(5))

    def forward(self, audio, visual_posi, visual_nega, question):
        B, T = audio.shape[:2]
        out_qa = self.fc(audio.mean(1)) + ONE * self.p[0]
        ones = audio.new_ones
        match_posi = self.p[1] * ones(B * T, 2) + visual_posi.mean()
        match_nega = visual_nega.mean() * ones(B * T, 2)
        av_cls_prob = self.p[2] * ones(22, 22)
        v_prob, a_prob = self.p[3] * ones(B, 22), self.p[4] * ones(B, 22)
        return out_qa, match_posi, match_nega, av_cls_prob, v_prob, a_prob, None
'''

LOSSES = '''
from torch import nn


class LossAVQA(nn.Module):
    def forward(self, pred, target):
        return pred.mean()


class LossAVMatch(nn.Module):
    def forward(self, out_match_posi, out_match_nega):
        return out_match_posi.mean()


class LossCorrelation(nn.Module):
    def __init__(self, num_class):
        super().__init__()

    def forward(self, pred):
        return pred.mean()


class LossSemantic(nn.Module):
    def forward(self, pred, target):
        return (pred * target).sum() / target.sum()
'''


@pytest.fixture
def released(tmp_path):
    """A stand-in checkout with the released code's layout."""
    root = tmp_path / "SaSR-Net"
    (root / "sasr_net" / "modules").mkdir(parents=True)
    (root / "sasr_net" / "models.py").write_text(textwrap.dedent(MODELS))
    (root / "sasr_net" / "loss.py").write_text(textwrap.dedent(LOSSES))
    (root / "sasr_net" / "modules" / "scaling.py").write_text("ONE = 1.0\n")
    yield root
    sys.modules.pop("scaling", None)


def test_the_training_step_weighs_the_losses_as_the_released_main_does(released):
    path_before = list(sys.path)
    model, train_once, infer_once = released_steps(released, batch_size=3, device=torch.device("cpu"))
    assert sys.path == path_before  # the checkout's folders were on the path only while importing
    train_once()
    # L_qa + 0.5 L_match + 0.5 (L_semantic^v + L_semantic^a) + 0.5 L_correlation
    assert model.p.grad.tolist() == pytest.approx([1.0, 0.5, 0.5, 0.5, 0.5])
    assert model.p.abs().min() > 0  # and Adam stepped every one of them
    before = [p.detach().clone() for p in model.parameters()]
    infer_once()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_random_inputs_have_the_shapes_the_released_loader_gives():
    batch = random_inputs(2, torch.device("cpu"))
    assert batch["visual_posi"].shape == batch["visual_nega"].shape == (2, 10, 512, 14, 14)
    assert batch["audio"].shape == (2, 10, 128) and batch["question"].shape == (2, 14)
    assert batch["question"].max() < 93 and batch["target"].max() < 42
    assert set(batch["items"].unique().tolist()) <= {0.0, 1.0} and batch["items"].shape == (2, 22)


def test_a_folder_that_is_not_the_released_code_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"not a checkout of the released SaSR-Net code \(no sasr_net/models.py, "
                                         r"sasr_net/loss.py\)"):
        load_released(tmp_path)


def test_a_package_the_released_code_needs_is_named(released):
    models = released / "sasr_net" / "models.py"
    models.write_text("import einops_not_installed_here\n" + models.read_text())
    with pytest.raises(ImportError, match=r"models.py: the released code imports 'einops_not_installed_here', which "
                                          r"this environment lacks; install its packages"):
        load_released(released)


def test_bench_times_the_released_code_in_the_same_alternation(released):
    table = benchmark("cpu", batch_sizes=(2,), steps=1, data_batches=1, num_videos=4, questions_per_video=(1, 2),
                      rounds=2, precisions=("fp32",), peak_size=256, released=released)
    rows = table[table["model"] == "released"]
    # fp32, one question per sample: the released code has no shared video path and no bf16 step
    assert set(rows["what"]) == {"model training", "model inference"}
    assert set(rows["questions/video"]) == {1} and set(rows["precision"]) == {"fp32"}
    assert (rows["GFLOP/sample"] > 0).all()  # its own products, counted by the flop counter
    ratios = same_run_ratios(table)
    speeds = table.set_index(["model", "what", "questions/video"])["samples/s"]
    for _, r in ratios.iterrows():
        if r["questions/video"] != 1:
            assert pd.isna(r["paper / released"])
        elif not r["noisy vs released"]:
            expected = speeds[("paper", r["what"], 1)] / speeds[("released", r["what"], 1)]
            assert r["paper / released"] == pytest.approx(expected)


def test_summary_quotes_the_released_ratio():
    result = {"device": "cpu", "threads": 2, "peaks_gflops": {"fp32": 100.0}, "processor": "CPU",
              "rows": [{"model": m, "what": w, "precision": "fp32", "questions/video": 1, "batch": 16,
                        "samples/s": s, "GFLOP/sample": 1.0, "spread": 1.0, "% roofline": s}
                       for m, s in (("paper", 50.0), ("released", 5.0))
                       for w in ("model training", "model inference")],
              "ratios": [{"what": "model training", "precision": "fp32", "batch": 16, "questions/video": 1,
                          "paper / official": None, "paper / released": 10.0, "noisy vs released": False}]}
    text = summary_markdown(result, "r.json")
    assert "| released | fp32 | 1 | 1.00 | 5.0 (5%) | 5.0 (5%) |" in text
    assert ("same run: the paper's model runs in fp32, 10.0x its samples/s in training and 10.0x in inference."
            in text)
    noisy = {**result, "rows": [{**r, "spread": 1.5} if r["model"] == "released" else r for r in result["rows"]]}
    assert "in fp32, noisy its samples/s in training and noisy in inference." in summary_markdown(noisy, "r.json")
    # a GPU run measures batches of 16 and 64: one sentence each, each against its own batch size
    larger = {**result, "rows": result["rows"] + [{**r, "batch": 64, "samples/s": r["samples/s"] * (4 if
                                                     r["model"] == "paper" else 1)} for r in result["rows"]]}
    text = summary_markdown(larger, "r.json")
    assert "batch 16, one question per sample), same run: the paper's model runs in fp32, 10.0x" in text
    assert "batch 64, one question per sample), same run: the paper's model runs in fp32, 40.0x" in text


def test_bench_refuses_a_wrong_released_folder_before_measuring(tmp_path, capsys):
    assert cli.main(["bench", "--quick", "--released", str(tmp_path)]) == 1
    assert "not a checkout of the released SaSR-Net code" in capsys.readouterr().err


def test_bench_json_records_the_released_rows_and_ratio(released, tmp_path, monkeypatch):
    import json

    import sasr_lite.bench as bench

    real = bench.benchmark
    monkeypatch.setattr(bench, "benchmark", lambda *a, **k: real(
        "cpu", batch_sizes=(2,), steps=1, data_batches=1, num_videos=4, questions_per_video=(1,), rounds=1,
        precisions=("fp32",), peak_size=256, released=k["released"], lesson=False))
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--threads", "1", "--released", str(released), "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    speeds = {(r["model"], r["what"]): r["samples/s"] for r in saved["rows"] if r["model"] != "-"}
    assert {m for m, _ in speeds} == {"paper", "official", "released"}
    for r in saved["ratios"]:
        expected = speeds[("paper", r["what"])] / speeds[("released", r["what"])]
        assert r["paper / released"] == pytest.approx(expected)
