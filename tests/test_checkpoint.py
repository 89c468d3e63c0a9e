"""Checkpoints: exact round trip, atomic writes, and clear errors for bad or mismatched files."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from sasr_lite import checkpoint as ckpt_mod
from sasr_lite.checkpoint import (
    ConfigMismatchError,
    CorruptCheckpointError,
    VocabularyMismatchError,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.model import SaSRNet

VOCABS = {"question": ["<pad>", "<unk>", "Is", "there"], "answer": ["no", "yes"]}


def _trained_state(seed: int = 0):
    """A tiny SaSRNet with one Adam step taken, so optimizer and scheduler have state."""
    torch.manual_seed(seed)
    config = SaSRConfig.tiny(question_vocab_size=4, num_answers=2)
    model = SaSRNet(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.3)
    out = model(torch.rand(2, 3, 128), torch.rand(2, 3, 512), torch.rand(2, 3, 4, 512), torch.ones(2, 5, dtype=torch.long))
    out.answer_logits.sum().backward()
    optimizer.step()
    scheduler.step()
    return config, model, optimizer, scheduler


def _save(path, seed=0, epoch=3, **kw):
    config, model, optimizer, scheduler = _trained_state(seed)
    args = dict(model=model, epoch=epoch, model_config=config, vocabularies=VOCABS, optimizer=optimizer,
                scheduler=scheduler, train_config=TrainConfig(epochs=5), release="synthetic",
                rng_state=capture_rng_state(), history=[{"epoch": 0, "val_accuracy": float("nan")}])
    args.update(kw)
    save_checkpoint(path, **args)
    return config, model, optimizer, scheduler


def test_round_trip_restores_every_part(tmp_path):
    path = tmp_path / "c.pt"
    config, model, optimizer, scheduler = _save(path)
    ckpt = load_checkpoint(path, model_config=config, vocabularies=VOCABS,
                           train_config=TrainConfig(epochs=5).trajectory())
    assert ckpt.epoch == 3 and ckpt.release == "synthetic" and ckpt.model_config == config
    assert ckpt.vocabularies == VOCABS and ckpt.train_config["epochs"] == 5
    for name, value in model.state_dict().items():
        assert torch.equal(ckpt.model_state[name], value), name
    fresh_model = SaSRNet(config)
    fresh_model.load_state_dict(ckpt.model_state)
    fresh_opt = torch.optim.Adam(fresh_model.parameters(), lr=1e-3)
    fresh_opt.load_state_dict(ckpt.optimizer_state)
    a, b = optimizer.state_dict()["state"], fresh_opt.state_dict()["state"]
    assert all(torch.equal(a[k]["exp_avg"], b[k]["exp_avg"]) for k in a)
    assert ckpt.scheduler_state == scheduler.state_dict()


def test_rng_state_round_trip_reproduces_the_same_draws():
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    state = capture_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(3))
    restore_rng_state(state)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])


def test_truncated_file_fails_naming_the_file(tmp_path):
    path = tmp_path / "c.pt"
    _save(path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match="truncated.pt.*truncated or corrupt"):
        load_checkpoint(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CorruptCheckpointError, match="garbage.pt"):
        load_checkpoint(garbage)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    _, model, _, _ = _save(path, seed=0, epoch=1)
    before = path.read_bytes()

    def dying_save(obj, f):  # the disk fills up half-way through the new file
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("No space left on device")

    monkeypatch.setattr(ckpt_mod.torch, "save", dying_save)
    with pytest.raises(OSError, match="No space left"):
        _save(path, seed=1, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path).epoch == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"], "the temporary file must be removed"


def test_model_config_mismatch_names_the_fields(tmp_path):
    path = tmp_path / "c.pt"
    config, *_ = _save(path)
    with pytest.raises(ConfigMismatchError, match="d_model: checkpoint has 32, expected 64") as err:
        load_checkpoint(path, model_config=config.replace(d_model=64, use_slt=False))
    assert err.value.fields == ["model d_model", "model use_slt"]


def test_a_checkpoint_older_than_a_config_field_loads_with_its_default(tmp_path):
    """answer_head came after the first checkpoints: theirs had a closed head, its default."""
    path = tmp_path / "old.pt"
    config, *_ = _save(path)
    payload = torch.load(path, weights_only=True)
    del payload["model_config"]["answer_head"]
    torch.save(payload, path)
    ckpt = load_checkpoint(path, model_config=config)
    assert ckpt.model_config == config and ckpt.model_config.answer_head == "closed"
    with pytest.raises(ConfigMismatchError, match="answer_head: checkpoint has 'closed', expected 'multiple_choice'"):
        load_checkpoint(path, model_config=config.replace(answer_head="multiple_choice"))


def test_train_config_mismatch_names_the_field(tmp_path):
    path = tmp_path / "c.pt"
    _save(path)
    with pytest.raises(ConfigMismatchError, match="train lr: checkpoint has 0.0001, expected 0.001"):
        load_checkpoint(path, train_config=TrainConfig(lr=1e-3).trajectory())


def test_vocabulary_mismatch_is_reported(tmp_path):
    path = tmp_path / "c.pt"
    _save(path)
    other = {"question": VOCABS["question"], "answer": ["no", "yes", "left"]}
    with pytest.raises(VocabularyMismatchError, match="answer: checkpoint has 2 tokens, expected 3"):
        load_checkpoint(path, vocabularies=other)
