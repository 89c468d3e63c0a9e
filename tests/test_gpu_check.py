"""`make gpu-check`: refuses without CUDA (exit 2, nothing written); its steps run end to end on the CPU."""

from __future__ import annotations

import json

import pytest
import torch

from sasr_lite import gpu_check


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the check would run for real")
def test_without_cuda_it_says_so_and_exits_2(tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path / "report")]) == 2
    assert "no CUDA device is visible to torch" in capsys.readouterr().err
    assert not (tmp_path / "report").exists(), "nothing may run or be written without CUDA"


def test_every_step_runs_on_the_cpu_at_toy_sizes_and_lands_in_the_report(tmp_path):
    out = tmp_path / "gpu-check"
    assert gpu_check.main(["--device", "cpu", "--tiny", "--out", str(out), "--epochs", "2"]) == 0
    report = json.loads((out / "report.json").read_text())
    steps = report["steps"]
    assert list(steps) == ["environment", "bench", "data_path", "synth", "train", "notebook"]
    assert all(step["ok"] for step in steps.values()), {k: v.get("error") for k, v in steps.items()}
    assert report["ok"] and report["total_seconds"] > 0
    model_rows = [r for r in steps["bench"]["rows"] if r["model"] == "paper"]
    assert sorted({(r["batch"], r["questions/video"]) for r in model_rows}) == [(4, 1), (4, 5)]
    assert all(r["samples/s"] > 0 for r in steps["bench"]["rows"])
    assert "batch_loader_resident" in steps["data_path"]["samples_per_s"]
    assert (steps["train"]["epochs"], steps["train"]["backend"]) == (2, "gloo")
    notebook = json.loads((out / "notebook" / "05_spatial_attention.ipynb").read_text())
    assert notebook["metadata"]["sasr_lite"]["scale"] == "test"
    errors = [o for c in notebook["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_a_failing_step_is_recorded_and_the_rest_still_run(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("the synthetic benchmark could not be written")

    monkeypatch.setattr(gpu_check, "synth", broken)
    monkeypatch.setattr(gpu_check, "notebook", lambda *a: {"skipped": True})
    monkeypatch.setattr(gpu_check, "bench", lambda *a: {"skipped": True})
    monkeypatch.setattr(gpu_check, "data_path", lambda *a: {"skipped": True})
    assert gpu_check.main(["--device", "cpu", "--tiny", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["steps"]["synth"]["error"] == "ValueError: the synthetic benchmark could not be written"
    assert not report["steps"]["train"]["ok"]  # no benchmark to train on, said in its own entry
    assert report["steps"]["notebook"]["ok"] and not report["ok"]
