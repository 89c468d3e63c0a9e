"""Bad input stops the work with a clear error, and nothing already written is lost (issue 15's rows)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from sasr_lite.config import SaSRConfig
from sasr_lite.evaluate import evaluate_split
from sasr_lite.train import NonFiniteError, TrainConfig, load_data, train

CONFIG = TrainConfig(epochs=1, max_batches=3, batch_size=8, lr=1e-3, num_threads=1, progress=False, verbose=False,
                     tensorboard=False, device="cpu")


@pytest.fixture
def poisoned(tiny, tmp_path):
    """A copy of the tiny benchmark whose train and test stores hold NaN in every video's audio."""
    root = tmp_path / "tiny"
    shutil.copytree(tiny.root, root)
    for split in ("train", "test"):
        audio = np.load(root / "store" / split / "audio.npy", mmap_mode="r+")
        audio[:, 0, 0] = np.nan
        audio.flush()
    return root


def test_a_nan_feature_stops_training_naming_epoch_step_and_videos(tiny, poisoned, tmp_path):
    out = tmp_path / "run"
    good = train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=out)  # a good checkpoint first
    before = hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest()
    data = load_data(poisoned, splits=("train", "val"))
    with pytest.raises(NonFiniteError, match=r"epoch 1, step \d+: the training loss is not finite .* videos \['\d+"):
        train(data, SaSRConfig.tiny(), CONFIG, out_dir=out)
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() == before, "the good checkpoint was overwritten"
    assert good.checkpoint == out / "checkpoint.pt"


def test_nan_features_stop_evaluation_instead_of_answering_index_0(tiny, poisoned):
    model = train(tiny, SaSRConfig.tiny(), CONFIG).model
    data = load_data(poisoned, splits=("test",), vocabularies=tiny.vocabularies)
    with pytest.raises(NonFiniteError, match=r"questions \(ids \[.*\]\) got NaN or infinite answer logits; their videos"):
        evaluate_split(model, data, "test")


def test_python_dash_m_sasr_lite_train_exits_non_zero_on_nan(poisoned, tmp_path):
    done = subprocess.run([sys.executable, "-m", "sasr_lite.train", str(poisoned), "--tiny", "--epochs", "1",
                           "--max-batches", "2", "--num-threads", "1", "--no-progress", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "the training loss is not finite" in done.stderr
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.parametrize("bad, expected", [
    (dict(use_slt="maybe"), r"SaSRConfig: use_slt='maybe' is not True or False"),
    (dict(d_model="abc"), r"SaSRConfig: d_model='abc' is not a whole number"),
    (dict(dropout=float("nan")), r"SaSRConfig: dropout=nan is not a finite number"),
])
def test_model_settings_of_the_wrong_type_are_refused_before_any_work(bad, expected):
    with pytest.raises(ValueError, match=expected):
        SaSRConfig(**bad)


@pytest.mark.parametrize("bad, expected", [
    (dict(max_batches=-1), r"max_batches must be >= 1 or None, got -1"),
    (dict(checkpoint_every=0), r"checkpoint_every must be >= 1, got 0"),
    (dict(lr=float("nan")), r"lr=nan is not a finite number"),
    (dict(lr=-1e-3), r"lr must be > 0"),
    (dict(epochs="1"), r"epochs='1' is not a whole number"),
    (dict(negatives="yes"), r"negatives='yes' is not True or False"),
])
def test_training_settings_out_of_range_are_refused_before_any_work(bad, expected):
    with pytest.raises(ValueError, match=expected):
        TrainConfig(**bad)


def test_a_config_file_with_a_wrong_type_fails_before_training(tiny, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: '1'\nmodel:\n  use_slt: maybe\n")
    done = subprocess.run([sys.executable, "-m", "sasr_lite.train", str(tiny.root), "--config", str(bad),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "use_slt='maybe' is not True or False" in done.stderr
    assert not (tmp_path / "run").exists(), "nothing may be written for a bad config"
