"""Named presets: `sasr-lite train --preset NAME` reads them, flags and config files override them,
and the sizes the data decide are the data's (a flag that disagrees is refused, by name)."""

from __future__ import annotations

import json

import pytest

from sasr_lite import cli
from sasr_lite.config import SaSRConfig
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.paper import paper_number
from sasr_lite.presets import PRESETS
from sasr_lite.train_command import parse, run


def _printed(capsys, *argv: str) -> dict:
    assert cli.main(["train", "data", *argv, "--print_config"]) == 0
    return json.loads(capsys.readouterr().out)


def test_print_config_shows_the_lesson_sizes(capsys):
    printed = _printed(capsys, "--preset", "lesson")
    model, train = printed["model"], printed["train"]
    # the lesson scale as the README and the committed notebooks state it: D = 128, the demo's schedule
    assert (model["d_model"], model["word_dim"], model["arch"]) == (128, 128, "paper")
    schedule = (train["epochs"], train["batch_size"], train["lr"], train["group"], train["num_threads"])
    assert schedule == (9, 32, 5e-4, 8, 2)
    assert printed == {"model": PRESETS["lesson"].model.to_dict(), "train": PRESETS["lesson"].train.to_dict()}


def test_print_config_shows_the_papers_sizes_and_recipe(capsys):
    model, train = _printed(capsys, "--preset", "paper").values()

    def number(key: str) -> float:
        return paper_number(key).value

    assert (train["batch_size"], train["epochs"], train["lr"]) == (number("batch_size"), number("epochs"), number("lr"))
    assert (train["step_size"], train["gamma"]) == (number("lr_step"), number("lr_gamma"))
    assert {model[k] for k in ("lambda_source", "lambda_reg", "lambda_match")} == {number("loss_lambda")}
    assert (model["d_model"], model["word_dim"], model["audio_dim"]) == (
        number("feature_dim"), number("word_dim"), number("vggish_dim"))
    assert model["num_tokens"] == number("instruments") == len(INSTRUMENTS)


def test_flags_and_config_files_override_a_preset(tmp_path, capsys):
    file = tmp_path / "run.yaml"
    file.write_text("epochs: 4\nmodel:\n  d_model: 64\n")
    model, train = _printed(capsys, "--preset", "lesson", "--config", str(file), "--model.d_model", "96").values()
    assert (train["epochs"], model["d_model"]) == (4, 96)  # the file over the preset, the flag over the file
    assert (train["lr"], train["batch_size"], model["word_dim"]) == (5e-4, 32, 128)  # the rest is the preset's
    tiny = parse(["data", "--tiny"])  # --tiny is --preset test
    assert tiny.model_config == SaSRConfig.tiny() and tiny.train_config == PRESETS["test"].train


def test_a_bad_preset_is_named(capsys):
    with pytest.raises(ValueError, match=r"no preset 'huge'; choose one of test, lesson, paper"):
        parse(["data", "--preset", "huge"])
    with pytest.raises(ValueError, match=r"one preset at a time, got lesson, test \(--tiny is --preset test\)"):
        parse(["data", "--preset=lesson", "--tiny"])


def test_a_data_sized_field_set_to_another_value_is_refused_by_name(tiny, tmp_path):
    out = tmp_path / "run"
    answers = len(tiny.answer_vocab)
    config = tmp_path / "model.yaml"
    config.write_text(f"model:\n  num_answers: {answers + 3}\n")
    args = parse([str(tiny.root), "--out", str(out), "--preset", "test", "--config", str(config),
                  "--model.question_len", "14", "--model.question_vocab_size", "7"])
    assert args.model_given == {"num_answers", "question_len", "question_vocab_size"}
    with pytest.raises(ValueError) as err:
        run(args)
    message = str(err.value)
    assert (f"model.question_vocab_size 7: {tiny.root} holds MUSIC-AVQA, whose train questions have a vocabulary of "
            f"{len(tiny.question_vocab)}; leave the setting out (train takes it from the data)") in message
    assert (f"model.num_answers {answers + 3}: {tiny.root} holds MUSIC-AVQA, whose train split has {answers} "
            "answers") in message
    assert "question_len" not in message  # 14 is the data's own length: no conflict
    model_file = tmp_path / "sizes.yaml"  # a --model FILE holds the model's fields at its top level
    model_file.write_text("question_len: 9\n")
    with pytest.raises(ValueError, match=rf"model.question_len 9: .* whose questions are padded to "
                                         rf"{tiny.benchmark.question_len} words; leave the setting out"):
        run(parse([str(tiny.root), "--out", str(out), "--preset", "test", "--model", str(model_file)]))
    assert not out.exists()


def test_a_data_sized_field_that_agrees_with_the_data_trains(tiny, tmp_path):
    out = tmp_path / "run"
    args = parse([str(tiny.root), "--out", str(out), "--preset", "test", "--epochs", "1", "--max_batches", "1",
                  "--progress", "false", "--model.num_answers", str(len(tiny.answer_vocab))])
    assert run(args) == 0 and (out / "checkpoint.pt").is_file()


@pytest.mark.parametrize("scale", sorted(PRESETS))
def test_notebook_10s_model_is_the_scales_model_with_the_residual_and_a_convergence_rule(scale):
    """Notebook 10 changes only what it says: the SaSR residual (and, below the paper scale, the spatial
    temperature) on the scale's own model, and a training schedule that ends by the convergence rule."""
    preset = PRESETS[scale]
    changed = {k for k, v in preset.experiment_model.to_dict().items() if v != preset.model.to_dict()[k]}
    assert "sasr_residual" in changed and changed <= {"sasr_residual", "spatial_temperature"}
    assert preset.experiment_model.sasr_residual and preset.experiment.converge_gain == 0.5
    assert preset.experiment.eval_every == 1 and preset.experiment.epochs > preset.experiment.converge_min_epochs
