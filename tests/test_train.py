"""Training: it learns, resuming is exact, configs come from files and flags, the CLI works."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from sasr_lite import cli
from sasr_lite.checkpoint import ConfigMismatchError, load_checkpoint
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.baselines import AnswerPrior
from sasr_lite.evaluate import accuracy_table, evaluate_split
from sasr_lite.train import train
from sasr_lite.train_command import parse

QUIET = dict(progress=False, tensorboard=False)


pytestmark = pytest.mark.usefixtures("one_thread")  # fixtures in conftest.py


def test_loss_falls_and_accuracy_beats_the_answer_prior(tiny):
    """On the questions it trained on, the model must go past what the per-template answer prior
    gets from the same questions: it has learnt from the question words and the features.

    Held out, a run this short on 60 videos does not beat the prior (the demo's larger benchmark
    is where that is measured); at this size the model first learns the prior, then the rest."""
    config = TrainConfig(epochs=30, batch_size=8, lr=1e-3, step_size=100, negatives=False, eval_every=0, **QUIET)
    result = train(tiny, SaSRConfig.tiny(), config)
    history = result.history
    assert history["loss_total"].iloc[-1] < 0.6 * history["loss_total"].iloc[0]
    assert history["loss_avqa"].iloc[-1] < 0.6 * history["loss_avqa"].iloc[0]
    records = tiny.records["train"]
    prior = AnswerPrior().fit(records)
    prior_accuracy = accuracy_table(records, prior.predict(records), "prior")[("Overall", "Avg")].iloc[0]
    ours = evaluate_split(result.model, tiny, "train", grade=False).table[("Overall", "Avg")].iloc[0]
    assert ours > prior_accuracy + 5, (ours, prior_accuracy)


def test_resume_reaches_exactly_the_weights_of_an_uninterrupted_run(tiny, tmp_path):
    config = TrainConfig(epochs=3, batch_size=8, max_batches=3, lr=1e-3, step_size=2, **QUIET)
    model_config = SaSRConfig.tiny(dropout=0.2)  # dropout draws from the RNG the checkpoint must restore
    straight = train(tiny, model_config, config, out_dir=tmp_path / "straight")
    train(tiny, model_config, config.replace(epochs=1), out_dir=tmp_path / "resumed")
    interrupted = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert interrupted.epoch == 0
    resumed = train(tiny, model_config, config, out_dir=tmp_path / "resumed", resume=True)
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name
    assert len(resumed.history) == 3
    pd.testing.assert_frame_equal(
        resumed.history.drop(columns=["samples_per_s", "epoch_seconds"]),
        straight.history.drop(columns=["samples_per_s", "epoch_seconds"]))
    metrics = pd.read_csv(tmp_path / "resumed" / "metrics.csv")
    assert list(metrics["epoch"]) == [0, 1, 2]
    assert metrics["lr"].tolist() == pytest.approx([1e-3, 1e-3, 3e-4])  # StepLR x0.3 every 2 epochs


def test_resume_with_another_config_fails_naming_the_field(tiny, tmp_path):
    config = TrainConfig(epochs=1, batch_size=8, max_batches=1, **QUIET)
    train(tiny, SaSRConfig.tiny(), config, out_dir=tmp_path)
    with pytest.raises(ConfigMismatchError, match="train batch_size: checkpoint has 8, expected 4"):
        train(tiny, SaSRConfig.tiny(), config.replace(epochs=2, batch_size=4), out_dir=tmp_path, resume=True)
    with pytest.raises(ConfigMismatchError, match="model use_sasr"):
        train(tiny, SaSRConfig.tiny(use_sasr=False), config.replace(epochs=2), out_dir=tmp_path, resume=True)


def test_config_file_and_flags_override_the_papers_recipe(tmp_path):
    default = TrainConfig()
    assert (default.batch_size, default.epochs, default.lr, default.step_size, default.gamma) == (16, 80, 1e-4, 16, 0.3)
    file = tmp_path / "run.yaml"
    file.write_text("epochs: 5\nlr: 0.001\nmodel:\n  d_model: 64\n  lambda_match: 0.25\n")
    args = parse(["data", "--config", str(file), "--epochs", "7", "--negatives", "false", "--model.use_slt", "false"])
    model_config, config = args.model_config, args.train_config
    assert (config.epochs, config.lr, config.negatives, config.batch_size) == (7, 1e-3, False, 16)
    assert (model_config.d_model, model_config.lambda_match, model_config.use_slt) == (64, 0.25, False)
    tiny = parse(["data", "--tiny", "--model.d_model", "48"]).model_config
    assert tiny == SaSRConfig.tiny(d_model=48)  # --tiny sets the defaults, flags still win
    dashed = parse(["data", "--max-batches", "3", "--batch-size=4"]).train_config  # as the other commands spell flags
    assert (dashed.max_batches, dashed.batch_size) == (3, 4)
    pairs = parse(["data", "--model", "arch=official", "--model=d_model=256", "--model.word_dim", "64"]).model_config
    assert (pairs.arch, pairs.d_model, pairs.word_dim) == ("official", 256, 64)  # --model KEY=VALUE still works
    bad = tmp_path / "bad.json"
    bad.write_text('{"epoch": 3}')
    with pytest.raises(ValueError, match="'epoch' is not accepted"):
        parse(["data", "--config", str(bad)])


def test_train_command_writes_metrics_checkpoints_and_config(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", str(tiny.root), "--out", str(out), "--tiny", "--epochs", "2", "--batch_size", "8",
                     "--max_batches", "2", "--progress", "false", "--tensorboard", "false"]) == 0
    assert "final val accuracy" in capsys.readouterr().out
    metrics = pd.read_csv(out / "metrics.csv")
    expected = {"epoch", "lr", "loss_total", "loss_avqa", "loss_source", "loss_reg", "loss_match",
                "train_accuracy", "val_accuracy", "samples_per_s"}
    assert expected <= set(metrics.columns) and len(metrics) == 2
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt.epoch == 1 and ckpt.release == "synthetic" and ckpt.train_config["epochs"] == 2
    assert ckpt.vocabularies["answer"] == tiny.answer_vocab.tokens
    assert ckpt.model_config.num_answers == len(tiny.answer_vocab)
    assert (out / "config.json").is_file()
    best = load_checkpoint(out / "best.pt")  # the weights of the best epoch, without the optimizer's state
    best_epoch = int(metrics["val_accuracy"].idxmax())
    assert best.epoch == best_epoch and best.optimizer_state is None and ckpt.optimizer_state is not None
    assert (out / "best.pt").stat().st_size < 0.6 * (out / "checkpoint.pt").stat().st_size


def test_progress_bar_is_plain_text_and_shows_each_loss_part(tiny, capsys):
    train(tiny, SaSRConfig.tiny(), TrainConfig(epochs=1, batch_size=8, max_batches=10, tensorboard=False))
    err = capsys.readouterr().err
    for part in ("total=", "avqa=", "source=", "reg=", "match=", "samples/s", "val acc"):
        assert part in err, part


def test_python_dash_m_sasr_lite_train_trains(tiny, tmp_path):
    """The README's `python -m sasr_lite.train` (and so `torchrun -m sasr_lite.train`) runs the trainer."""
    import subprocess
    import sys

    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sasr_lite.train", str(tiny.root), "--tiny", "--epochs", "1",
                           "--max_batches", "2", "--num_threads", "1", "--progress", "false", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "done: 1 epochs" in done.stdout
    assert (out / "checkpoint.pt").is_file() and (out / "metrics.csv").is_file()


def test_the_official_network_trains_and_evaluates_through_the_same_commands(tiny, tmp_path, capsys):
    """`--model.arch official` picks the ported official network everywhere: train, checkpoint, eval."""
    out = tmp_path / "official"
    assert cli.main(["train", str(tiny.root), "--out", str(out), "--tiny", "--model", "arch=official",
                     "--model.d_model", "512", "--epochs", "1", "--batch_size", "4", "--max_batches", "2",
                     "--progress", "false", "--tensorboard", "false", "--num_threads", "1"]) == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt.model_config.arch == "official"
    assert any(key.startswith("sasr.") for key in ckpt.model_state), "the official source-aware module's weights"
    assert cli.main(["eval", str(out / "checkpoint.pt"), str(tiny.root), "--out", str(out / "eval")]) == 0
    assert "SaSR-Net" in capsys.readouterr().out and (out / "eval" / "test_results.json").is_file()
