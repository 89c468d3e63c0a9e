"""Bad input stops the work with a clear error, and nothing already written is lost (issue 15's rows).

Rows tested next to the code they concern: ``"anser": null`` and other non-string answers, and a
question id used twice (tests/test_annotations.py); data-parallel training with each ablation
switch off (tests/test_distributed.py); the same seed writing the same bytes for every file of
`sasr-lite synth` (tests/test_synth_generate.py); `python -m sasr_lite.train` (tests/test_train.py
and tests/test_readme_commands.py). Every other row is here.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.evaluate import evaluate_split
from sasr_lite.data.loading import load_data
from sasr_lite.errors import NonFiniteError
from sasr_lite.train import train

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
    data = load_data(poisoned, splits=("train", "val", "test"))  # same annotation files, poisoned features
    with pytest.raises(NonFiniteError, match=r"epoch 2, step \d+: the training loss is not finite .* videos \['\d+"):
        train(data, SaSRConfig.tiny(), CONFIG.replace(epochs=2), out_dir=out, resume=True)
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() == before, "the good checkpoint was overwritten"
    assert good.checkpoint == out / "checkpoint.pt"


def test_nan_features_stop_evaluation_instead_of_answering_index_0(tiny, poisoned):
    model = train(tiny, SaSRConfig.tiny(), CONFIG).model
    data = load_data(poisoned, splits=("test",), vocabularies=tiny.vocabularies)
    with pytest.raises(NonFiniteError, match=r"questions \(ids \[.*\]\) got NaN or infinite answer logits; their videos"):
        evaluate_split(model, data, "test")


def test_python_dash_m_sasr_lite_train_exits_non_zero_on_nan(poisoned, tmp_path):
    done = subprocess.run([sys.executable, "-m", "sasr_lite.train", str(poisoned), "--tiny", "--epochs", "1",
                           "--max_batches", "2", "--num_threads", "1", "--progress", "false", "--out", str(tmp_path / "run")],
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


@pytest.mark.parametrize("flags, expected", [
    (["--model.use_slt", "maybe"], 'Parser key "model.use_slt": Expected a <class \'bool\'>. Got value: maybe'),
    (["--model.d_model", "abc"], 'Parser key "model.d_model": Expected a <class \'int\'>. Got value: abc'),
    (["--lr", "nan"], 'Parser key "lr": Expected a <class \'float\'>. Got value: nan'),
    (["--epochs", "1.5"], 'Parser key "epochs": Expected a <class \'int\'>. Got value: 1.5'),
    (["--max_batches", "-1"], "TrainConfig.max_batches must be >= 1 or None, got -1"),
    (["--checkpoint_every", "0"], "TrainConfig.checkpoint_every must be >= 1, got 0"),
    (["--lr", "-0.1"], "TrainConfig.lr must be > 0, got -0.1"),
    (["--model.spatial_norm", "l1"], "spatial_norm must be 'l2' or 'none', got 'l1'"),
])
def test_a_bad_flag_is_refused_by_the_parser_naming_it(flags, expected):
    from sasr_lite.train_command import parse

    with pytest.raises(ValueError) as caught:
        parse(["data", *flags])
    assert str(caught.value) == expected


def test_a_config_file_with_a_wrong_type_fails_before_training(tiny, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 1\nmodel:\n  use_slt: maybe\n")
    done = subprocess.run([sys.executable, "-m", "sasr_lite.train", str(tiny.root), "--config", str(bad),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f'Parser key "model.use_slt": Expected a <class \'bool\'>. Got value: maybe (flags and config file {bad})' in done.stderr
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
    bad.write_text("max_batches: -1\n")
    command = [sys.executable, "-m", "sasr_lite.cli", "train", str(tiny.root), "--config", str(bad),
               "--out", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "sasr-lite train: error: TrainConfig.max_batches must be >= 1 or None, got -1 (--debug shows the traceback)"]
    debug = subprocess.run(command + ["--debug"], capture_output=True, text=True, timeout=300)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "max_batches must be >= 1" in debug.stderr


def test_resume_on_other_annotation_files_is_refused_unless_allowed_and_keeps_the_first_checksums(tiny, tmp_path):
    import json

    from sasr_lite.checkpoint import load_checkpoint

    root, out = _tiny_copy(tiny, tmp_path), tmp_path / "run"
    train(load_data(root), SaSRConfig.tiny(), CONFIG, out_dir=out)
    first = hashlib.sha256((root / "avqa-train.json").read_bytes()).hexdigest()
    before = (out / "checkpoint.pt").read_bytes()
    train_file = root / "avqa-train.json"  # same questions, other bytes: only the checksum changes
    train_file.write_text(json.dumps(json.loads(train_file.read_text()), indent=2))
    second = hashlib.sha256(train_file.read_bytes()).hexdigest()
    longer = CONFIG.replace(epochs=2)
    with pytest.raises(ValueError, match=rf"checkpoint.pt was trained on other annotation files \(train: {first[:12]} "
                                         rf"in the checkpoint, {second[:12]} in .*avqa-train.json\).*--allow_new_annotations"):
        train(load_data(root), SaSRConfig.tiny(), longer, out_dir=out, resume=True)
    assert (out / "checkpoint.pt").read_bytes() == before, "a refused resume must not touch the checkpoint"

    train(load_data(root), SaSRConfig.tiny(), longer, out_dir=out, resume=True, allow_new_annotations=True)
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt.epoch == 1
    assert ckpt.extra["annotations"]["train"]["sha256"] == first, "the first files' checksums are never rewritten"
    assert [a["train"]["sha256"] for a in ckpt.extra["resumed_with_annotations"]] == [second]
    recorded = json.loads((out / "config.json").read_text())
    assert recorded["annotations"]["train"]["sha256"] == first
    assert recorded["resumed_with_annotations"][0]["train"]["sha256"] == second


class _FullDisk:
    """A file that runs out of space after ``room`` bytes, as a full disk does (ENOSPC)."""

    def __init__(self, file, room: int):
        self.file, self.room = file, room

    def write(self, data) -> int:
        if len(data) > self.room:
            import errno

            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def test_a_full_disk_is_named_and_the_previous_file_survives(tmp_path):
    import torch

    from sasr_lite.data.files import write_atomic

    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"the good checkpoint")
    # torch.save reports ENOSPC as "[enforce fail ...] unexpected pos"; the kit names the cause
    with pytest.raises(OSError, match=rf"no space left on device writing {target}"):
        write_atomic(target, lambda f: torch.save({"w": torch.zeros(4096)}, _FullDisk(f, 1000)))
    assert target.read_bytes() == b"the good checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"], "no temporary file may be left behind"


def test_written_files_get_the_usual_mode_not_owner_only(tmp_path):
    import os

    import torch

    from sasr_lite.data.files import write_atomic, write_text_atomic

    umask = os.umask(0o022)
    os.umask(umask)
    write_text_atomic(tmp_path / "a.json", "{}")
    write_atomic(tmp_path / "b.npy", lambda f: np.save(f, np.zeros(3)))
    write_atomic(tmp_path / "c.pt", lambda f: torch.save({}, f))
    for name in ("a.json", "b.npy", "c.pt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_leftover_folders_of_killed_store_builds_are_removed_and_live_ones_kept(tmp_path):
    import os

    from sasr_lite.data.store_writer import StoreWriter

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, live_pid = int(finished.stdout), os.getppid()
    dead = tmp_path / f".train.partial-{dead_pid}"
    live = tmp_path / f".train.partial-{live_pid}"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "audio.npy").write_bytes(b"half a build")
    with StoreWriter(tmp_path / "train", ["v0"], num_segments=2, num_positions=3) as writer:
        writer.write(0, audio=np.zeros((2, 128)), visual=np.zeros((2, 512)), maps=np.zeros((2, 3, 512)))
    assert not dead.exists(), "a dead build's folder must be cleaned"
    assert live.exists(), "a running build's folder must be left alone"
    assert (tmp_path / "train" / "manifest.json").is_file()


def test_a_non_utf8_annotation_file_is_named(tmp_path):
    from sasr_lite.data.annotations import load_annotations

    bad = tmp_path / "avqa-train.json"
    bad.write_bytes('[{"question_content": "caf\u00e9"}]'.encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{bad}: not UTF-8 text \(byte \d+: invalid"):
        load_annotations(bad)


def test_a_zero_length_store_file_is_named(tiny, tmp_path):
    from sasr_lite.data.store import FeatureStore

    store = _tiny_copy(tiny, tmp_path) / "store" / "train"
    (store / "maps.npy").write_bytes(b"")
    with pytest.raises(ValueError, match=r"maps.npy: empty or cut short"):
        FeatureStore.open(store)


def test_eval_of_a_split_without_annotations_names_the_missing_file(tiny, tmp_path, capsys):
    from sasr_lite import cli

    run = train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=tmp_path / "run")
    assert cli.main(["eval", str(run.checkpoint), str(tiny.root), "--split", "bogus"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"sasr-lite eval: error: no avqa-bogus.json in {tiny.root} for the 'bogus' split "
                          "(annotation files there: ['avqa-test.json', 'avqa-train.json', 'avqa-val.json'])"), err


# --- issue 25: provenance where two files meet, counts checked before any work, one line per weak case
@pytest.fixture(scope="module")
def tiny_run(tiny, tmp_path_factory):
    """A one-epoch run on the tiny benchmark (its checkpoint is read, never written, by the tests)."""
    return train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=tmp_path_factory.mktemp("tiny_run") / "run")


def _other_store(tiny, tmp_path, split: str):
    """A copy of the tiny benchmark's store folder whose ``split`` store has other rows under the same
    ids (as another seed's would): one video's recorded row checksum differs."""
    import json

    stores = tmp_path / "other_store"
    shutil.copytree(tiny.root / "store", stores)
    manifest = json.loads((stores / split / "manifest.json").read_text())
    first = manifest["ids"][0]
    manifest["row_sha256"][first] = hashlib.sha256(b"other rows").hexdigest()
    (stores / split / "manifest.json").write_text(json.dumps(manifest))
    return stores


def test_compare_refuses_a_run_evaluated_on_other_annotations(tiny, tiny_run, tmp_path, capsys):
    import json

    from sasr_lite import cli

    other = _tiny_copy(tiny, tmp_path)  # same ids and answers, other bytes: another file all the same
    test_file = other / "avqa-test.json"
    test_file.write_text(json.dumps(json.loads(test_file.read_text()), indent=1))
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["eval", str(tiny_run.checkpoint), str(tiny.root), "--out", str(a)]) == 0
    assert cli.main(["eval", str(tiny_run.checkpoint), str(other), "--out", str(b)]) == 0
    capsys.readouterr()
    assert cli.main(["compare", str(a), str(b), "--data", str(tiny.root), "--n-boot", "20"]) == 1
    err = capsys.readouterr().err
    mine = hashlib.sha256((tiny.root / "avqa-test.json").read_bytes()).hexdigest()
    assert f"{b / 'test_results.json'} records that test_predictions.csv was evaluated on {test_file}" in err
    assert f"but {tiny.root / 'avqa-test.json'} has sha256 {mine[:12]}" in err
    assert cli.main(["compare", str(a), str(a), "--data", str(tiny.root), "--n-boot", "20"]) == 0


def test_eval_refuses_a_store_from_another_seed_with_the_same_ids(tiny, tiny_run, tmp_path, capsys):
    from sasr_lite import cli

    stores = _other_store(tiny, tmp_path, "test")
    out = tmp_path / "eval"
    assert cli.main(["eval", str(tiny_run.checkpoint), str(tiny.root), "--store", str(stores), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"--store {stores / 'test'} holds other features than {tiny.root / 'store' / 'test'}" in err
    assert not list(out.glob("*.csv")), "nothing may be written for refused features"
    assert cli.main(["eval", str(tiny_run.checkpoint), str(tiny.root), "--out", str(out)]) == 0
    import json

    recorded = json.loads((out / "test_results.json").read_text())["store"]
    assert recorded == {"path": str(tiny.root / "store" / "test"), "sha256": tiny.stores["test"].digest}


def test_resume_on_other_features_is_refused_naming_both_stores(tiny, tmp_path):
    out = tmp_path / "run"
    train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=out)
    before = (out / "checkpoint.pt").read_bytes()
    stores = _other_store(tiny, tmp_path, "train")
    with pytest.raises(ValueError, match=rf"checkpoint.pt was trained on other features \(train: \w{{12}} from "
                                         rf"{tiny.root / 'store' / 'train'} in the checkpoint, \w{{12}} in "
                                         rf"{stores / 'train'}\)"):
        train(load_data(tiny.root, stores, splits=("train", "val", "test")), SaSRConfig.tiny(), CONFIG.replace(epochs=2),
              out_dir=out, resume=True)
    assert (out / "checkpoint.pt").read_bytes() == before


def test_the_store_digest_is_one_checksum_of_ids_and_rows(tiny):
    store = tiny.stores["train"]
    rows = store.manifest["row_sha256"]
    expected = hashlib.sha256("".join(f"{i} {rows[i]}\n" for i in store.ids).encode()).hexdigest()
    assert store.digest == expected


@pytest.mark.parametrize("argv, expected", [
    (["inspect", "x.json", "--top", "-1"], "argument --top: must be >= 1, got -1"),
    (["bench", "--threads", "0"], "argument --threads: must be >= 1, got 0"),
    (["eval", "c.pt", "d", "--ci", "--n-boot", "0"], "argument --n-boot: must be >= 1, got 0"),
    (["compare", "a", "b", "--data", "d", "--n-boot", "0"], "argument --n-boot: must be >= 1, got 0"),
    (["demo", "--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
    (["extract", "v.mp4", "--out", "o", "--limit", "0"], "argument --limit: must be >= 1, got 0"),
    (["inspect", "x.json", "--top", "two"], "argument --top: 'two' is not a whole number"),
])
def test_count_flags_are_checked_before_any_work(argv, expected, capsys, tmp_path, monkeypatch):
    from sasr_lite import cli

    monkeypatch.chdir(tmp_path)  # without the check, demo would write its default folders here

    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2 and expected in capsys.readouterr().err


@pytest.mark.parametrize("flags, expected", [
    (["--epochs", "0"], "TrainConfig.epochs must be >= 1, got 0"),
    (["--num_threads", "0"], "TrainConfig.num_threads must be >= 1 or None, got 0"),
])
def test_train_counts_of_zero_are_refused(flags, expected):
    from sasr_lite.train_command import parse

    with pytest.raises(ValueError) as caught:
        parse(["data", *flags])
    assert str(caught.value) == expected


def test_bench_json_naming_a_folder_is_refused_before_measuring(tmp_path, capsys):
    from sasr_lite import cli

    assert cli.main(["bench", "--quick", "--json", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"--json {tmp_path} is a folder; give a file name, e.g. {tmp_path / 'bench.json'}" in err
    assert "device" not in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, expected", [
    (b"model: 3\n", "model: is 3, not a mapping; a config file holds training settings at the top level"),
    (b"", "empty; a config file holds training settings"),
    (b"- 1\n- 2\n", "a list ([1, 2]), not a mapping"),
    (b"\xff\xfe\x00binary", "not UTF-8 text (byte 0: invalid start byte)"),
    (b"\x00\x01\x02", "not valid YAML or JSON"),
    (b"epochs: [1\n", "not valid YAML or JSON"),
])
def test_a_malformed_config_file_is_one_line_naming_it(tiny, tmp_path, content, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    command = [sys.executable, "-m", "sasr_lite.cli", "train", str(tiny.root), "--config", str(bad),
               "--out", str(tmp_path / "run"), "--tiny", "--epochs", "1", "--max_batches", "1", "--progress", "false"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"sasr-lite train: error: {bad}: ") and expected in line, line
    assert not (tmp_path / "run").exists()


def test_a_hand_set_answer_head_the_data_do_not_need_is_refused(tiny, tmp_path):
    from sasr_lite.train_command import parse, run

    config = tmp_path / "mc.yaml"
    config.write_text("model:\n  answer_head: multiple_choice\n")
    for argv in (["--model.answer_head", "multiple_choice"], ["--config", str(config)]):
        args = parse([str(tiny.root), "--out", str(tmp_path / "run"), "--tiny", "--epochs", "1", "--max_batches", "1",
                      "--progress", "false", *argv])
        with pytest.raises(ValueError, match=rf"model.answer_head 'multiple_choice': {tiny.root} holds MUSIC-AVQA, "
                                             r"whose answers need the 'closed' head; leave the setting out"):
            run(args)
    assert not (tmp_path / "run").exists()
    assert not parse([str(tiny.root), "--preset", "lesson"]).model_given  # a preset's sizes are not the user's


@pytest.mark.parametrize("bad_id", ["\u00b2", 10**30, str(10**30)])
def test_an_avqa_yang_id_that_is_no_int64_is_named(tmp_path, bad_id):
    import json

    from sasr_lite.data.avqa_yang import load_records

    record = {"id": bad_id, "video_name": "v0", "question_text": "Which?", "question_type": "Which",
              "multi_choice": ["a", "b", "c", "d"], "answer": 0}
    path = tmp_path / "train_qa.json"
    path.write_text(json.dumps([record]))
    with pytest.raises(ValueError, match=rf"{path}.*'id' must be a non-negative integer below 2\*\*63, got"):
        load_records(path)


def test_verify_store_without_row_checksums_fails_naming_the_manifest(tiny, tmp_path, capsys):
    import json

    from sasr_lite import cli

    store = _tiny_copy(tiny, tmp_path) / "store" / "train"
    manifest = json.loads((store / "manifest.json").read_text())
    del manifest["row_sha256"]
    (store / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["verify-store", str(store)]) == 1
    assert f"{store / 'manifest.json'}: no row_sha256" in capsys.readouterr().out


def test_a_folder_holding_two_benchmarks_is_refused(tiny, tmp_path):
    root = _tiny_copy(tiny, tmp_path)
    (root / "synth.json").unlink()  # a hand-made folder: nothing says which benchmark it is
    (root / "train_qa.json").write_text("[]")
    with pytest.raises(ValueError, match=rf"{root} holds the annotation files of 2 benchmarks \(MUSIC-AVQA: "
                                         r"avqa-train.json, avqa-val.json, avqa-test.json; .*: train_qa.json\)"):
        load_data(root)


def test_a_video_missing_from_the_store_names_a_flag_that_exists(tiny):
    from sasr_lite.data.dataset import AVQADataset

    records = tiny.records["train"]
    with pytest.raises(ValueError) as caught:
        AVQADataset(records, tiny.stores["val"], tiny.question_vocab, tiny.answer_vocab)
    message = str(caught.value)
    assert "sasr-lite build-store FEATURES OUT --annotations FILE" in message
    assert "in Python, give AVQADataset skip_missing=True" in message
