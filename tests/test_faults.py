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


def _tiny_copy(tiny, tmp_path):
    root = tmp_path / "tiny"
    shutil.copytree(tiny.root, root)
    return root


def test_verify_store_passes_a_clean_store_and_names_a_poisoned_video(tiny, poisoned, capsys):
    from sasr_lite import cli

    assert cli.main(["verify-store", str(tiny.root / "store" / "train")]) == 0
    assert "videos finite and matching their checksums" in capsys.readouterr().out
    assert cli.main(["verify-store", str(poisoned / "store" / "train")]) == 1
    printed = capsys.readouterr()
    assert "non-finite values in audio" in printed.out and "problem(s) in" in printed.err
    # the NaN also changed the rows, so the checksums tell the same videos apart
    assert "differ from the checksum recorded for this id" in printed.out


def test_a_reordered_manifest_id_list_is_found(tiny, tmp_path, capsys):
    import json

    from sasr_lite import cli

    store = _tiny_copy(tiny, tmp_path) / "store" / "train"
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["ids"][0], manifest["ids"][1] = manifest["ids"][1], manifest["ids"][0]
    (store / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["verify-store", str(store)]) == 1
    out = capsys.readouterr().out
    assert f"video {manifest['ids'][0]!r} (row 0): its rows differ from the checksum" in out


def test_a_manifest_that_disagrees_with_its_arrays_is_refused_on_open(tiny, tmp_path):
    import json

    from sasr_lite.data.store import FeatureStore

    store = _tiny_copy(tiny, tmp_path) / "store" / "train"
    manifest = json.loads((store / "manifest.json").read_text())
    (store / "manifest.json").write_text(json.dumps({**manifest, "num_videos": manifest["num_videos"] + 1}))
    with pytest.raises(ValueError, match=r"manifest.json: \d+ ids, num_videos \d+, but audio.npy holds \d+ rows"):
        FeatureStore.open(store)
    del manifest["shapes"]
    (store / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"manifest.json: missing key\(s\) \['shapes'\]"):
        FeatureStore.open(store)


def test_an_expected_error_is_one_message_and_debug_shows_the_traceback(tiny, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  use_slt: maybe\n")
    command = [sys.executable, "-m", "sasr_lite.cli", "train", str(tiny.root), "--config", str(bad),
               "--out", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "sasr-lite train: error: SaSRConfig: use_slt='maybe' is not True or False (--debug shows the traceback)"]
    debug = subprocess.run(command + ["--debug"], capture_output=True, text=True, timeout=300)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "use_slt='maybe'" in debug.stderr
