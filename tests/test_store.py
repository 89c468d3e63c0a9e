"""Feature store: round trip from official per-video files, atomic builds, and every bad input."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sasr_lite.data.official_features import build_from_official, official_paths
from sasr_lite.data.store import MANIFEST, FeatureStore, read_manifest
from sasr_lite.data.store_writer import StoreWriter


def write_official(root: Path, video_id: str, seed: int, frames: int = 60, dtype=np.float32):
    """`vggish/<id>.npy` [frames,128] and `res18_14x14/<id>.npy` [frames,512,14,14]."""
    rng = np.random.default_rng(seed)
    audio_file, maps_file = official_paths(root, video_id)
    audio_file.parent.mkdir(parents=True, exist_ok=True)
    maps_file.parent.mkdir(parents=True, exist_ok=True)
    audio = rng.standard_normal((frames, 128)).astype(dtype)
    maps = rng.random((frames, 512, 14, 14)).astype(dtype)  # post-ReLU features are >= 0
    np.save(audio_file, audio)
    np.save(maps_file, maps)
    return audio, maps


def small_store(path: Path, n: int = 3, T: int = 4, P: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = [(rng.standard_normal((T, 128)), rng.standard_normal((T, 512)), rng.standard_normal((T, P, 512)))
            for _ in range(n)]
    ids = [f"v{i}" for i in range(n)]
    with StoreWriter(path, ids, num_segments=T, num_positions=P, source="test") as writer:
        for i, (audio, visual, maps) in enumerate(rows):
            writer.write(i, audio=audio, visual=visual, maps=maps)
    return ids, rows


# --- round trip ----------------------------------------------------------------------------------
def test_official_round_trip_at_stride_6(tmp_path):
    root, ids = tmp_path / "features", ["00000001", "00000002"]
    sources = {v: write_official(root, v, seed=i) for i, v in enumerate(ids)}
    store = build_from_official(root, ids, tmp_path / "store", progress=False)

    assert store.ids == ids and len(store) == 2 and (store.T, store.P) == (10, 196)
    assert store.maps.dtype == store.audio.dtype == store.visual.dtype == np.float16
    for i, video_id in enumerate(ids):
        audio, maps = sources[video_id]
        kept = list(range(0, 60, 6))
        np.testing.assert_array_equal(store.audio[i], audio[kept].astype(np.float16))
        # position p = row * 14 + col, channels last
        for t, frame in enumerate(kept):
            for row, col in [(0, 0), (3, 11), (13, 13)]:
                np.testing.assert_array_equal(store.maps[i, t, row * 14 + col], maps[frame, :, row, col].astype(np.float16))
        pooled = maps[kept].mean(axis=(2, 3))
        np.testing.assert_allclose(store.visual[i].astype(np.float32), pooled, rtol=2e-3)

    manifest = store.manifest
    assert manifest["complete"] is True and manifest["ids"] == ids and manifest["stride"] == 6
    assert manifest["dtype"] == "float16" and str(root.resolve()) in manifest["source"]
    assert manifest["shapes"] == {"audio": [2, 10, 128], "visual": [2, 10, 512], "maps": [2, 10, 196, 512]}
    assert store.index_of("00000002") == 1
    with pytest.raises(KeyError, match="'nope' is not in the feature store"):
        store.index_of("nope")


def test_other_stride_keeps_every_nth_segment(tmp_path):
    root = tmp_path / "features"
    audio, _ = write_official(root, "a", seed=0, frames=12)
    write_official(root, "b", seed=1, frames=12)
    store = build_from_official(root, ["a", "b"], tmp_path / "store", stride=5, num_frames=12, progress=False)
    assert store.T == 3 and store.stride == 5
    np.testing.assert_array_equal(store.audio[0], audio[[0, 5, 10]].astype(np.float16))


def test_build_streams_one_video_at_a_time(tmp_path):
    # peak Python-side memory stays near one video's kept segments, far below the store's size
    root, ids = tmp_path / "features", [f"v{i}" for i in range(12)]
    for i, v in enumerate(ids):
        write_official(root, v, seed=i, frames=12, dtype=np.float16)
    tracemalloc.start()
    store = build_from_official(root, ids, tmp_path / "store", stride=1, num_frames=12, progress=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_video = store.T * store.P * 512 * 4  # kept maps in float32
    assert peak < 2 * one_video < store.maps.nbytes / 2


# --- bad official files --------------------------------------------------------------------------
def test_missing_features_list_first_ids_or_skip_with_warning(tmp_path):
    root = tmp_path / "features"
    write_official(root, "a", seed=0, frames=12)
    write_official(root, "b", seed=1, frames=12)
    ids = ["a", "m1", "b", "m2"]
    with pytest.raises(FileNotFoundError, match=r"features missing for 2 of 4 videos .*\['m1', 'm2'\]") as err:
        build_from_official(root, ids, tmp_path / "store", num_frames=12, progress=False)
    assert "m1.npy" in str(err.value)
    assert not (tmp_path / "store").exists()
    with pytest.warns(UserWarning, match="skipping 2 of 4 videos"):
        store = build_from_official(root, ids, tmp_path / "store", num_frames=12, skip_missing=True, progress=False)
    assert store.ids == ["a", "b"]


@pytest.mark.parametrize(
    "corrupt, expected",
    [
        ("four_frames", r"shape \[4, 512, 14, 14\], expected \[60, 512, 14, 14\].*it has 4 frames"),
        ("int_dtype", "dtype int32, expected float32"),
        ("nan", "contains NaN or inf"),
        ("inf_audio", "contains NaN or inf"),
        ("not_npy", "not a readable .npy array"),
        ("audio_shape", r"shape \[60, 64\], expected \[60, 128\]"),
    ],
)
def test_bad_official_files_are_named(tmp_path, corrupt, expected):
    root = tmp_path / "features"
    write_official(root, "good", seed=0)
    audio_file, maps_file = official_paths(root, "bad")
    audio, maps = write_official(root, "bad", seed=1)
    bad_file = maps_file
    if corrupt == "four_frames":
        np.save(maps_file, maps[:4])
    elif corrupt == "int_dtype":
        np.save(maps_file, maps.astype(np.int32))
    elif corrupt == "nan":
        maps[12, 3, 4, 5] = np.nan  # frame 12 is kept at stride 6
        np.save(maps_file, maps)
    elif corrupt == "inf_audio":
        audio[0, 0] = np.inf
        np.save(audio_file, audio)
        bad_file = audio_file
    elif corrupt == "not_npy":
        maps_file.write_bytes(b"not an array")
    elif corrupt == "audio_shape":
        np.save(audio_file, audio[:, :64])
        bad_file = audio_file
    with pytest.raises(ValueError, match=expected) as err:
        build_from_official(root, ["good", "bad"], tmp_path / "store", progress=False)
    assert str(bad_file) in str(err.value)
    assert not (tmp_path / "store").exists() and not list(tmp_path.glob(".store.partial-*"))


# --- StoreWriter -----------------------------------------------------------------------------------
def test_writer_round_trip_any_float_dtype(tmp_path):
    ids, rows = small_store(tmp_path / "s")
    store = FeatureStore.open(tmp_path / "s")
    assert (store.T, store.P, len(store)) == (4, 5, 3) and store.source == "test" and store.stride is None
    for i, (audio, visual, maps) in enumerate(rows):
        np.testing.assert_array_equal(store.audio[i], audio.astype(np.float16))
        np.testing.assert_array_equal(store.visual[i], visual.astype(np.float16))
        np.testing.assert_array_equal(store.maps[i], maps.astype(np.float16))


def test_interrupted_build_never_loads_as_complete(tmp_path):
    path = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        with StoreWriter(path, ["a", "b"], num_segments=2, num_positions=3) as writer:
            writer.write(0, audio=np.zeros((2, 128)), visual=np.zeros((2, 512)), maps=np.zeros((2, 3, 512)))
            raise KeyboardInterrupt
    assert not path.exists() and not list(tmp_path.iterdir())

    # a build killed outright leaves only its hidden partial folder, which refuses to open
    writer = StoreWriter(path, ["a", "b"], num_segments=2, num_positions=3).__enter__()
    writer.write(0, audio=np.zeros((2, 128)), visual=np.zeros((2, 512)), maps=np.zeros((2, 3, 512)))
    partial = next(tmp_path.glob(".store.partial-*"))
    assert read_manifest(partial)["complete"] is False
    with pytest.raises(ValueError, match="incomplete feature store"):
        FeatureStore.open(partial)
    with pytest.raises(FileNotFoundError, match="feature store not found"):
        FeatureStore.open(path)
    for f in writer._files.values():
        f.close()


def test_unwritten_rows_are_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"2 of 3 videos were never written \(first: \['b', 'c'\]\)"):
        with StoreWriter(tmp_path / "s", ["a", "b", "c"], num_segments=1, num_positions=1) as writer:
            writer.write(0, audio=np.zeros((1, 128)), visual=np.zeros((1, 512)), maps=np.zeros((1, 1, 512)))
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("maps", np.zeros((2, 4, 512)), r"video 'a' \(row 0\): maps has shape \[2, 4, 512\], expected \[2, 3, 512\]"),
        ("audio", np.zeros((2, 128), dtype=np.int64), "audio has dtype int64, expected a float dtype"),
        ("visual", np.full((2, 512), np.nan), "visual contains NaN or inf"),
        ("visual", np.full((2, 512), 1e6), "beyond the float16 range"),
    ],
)
def test_writer_rejects_bad_rows(tmp_path, field, value, expected):
    row = {"audio": np.zeros((2, 128)), "visual": np.zeros((2, 512)), "maps": np.zeros((2, 3, 512)), field: value}
    with pytest.raises(ValueError, match=expected):
        with StoreWriter(tmp_path / "s", ["a"], num_segments=2, num_positions=3) as writer:
            writer.write(0, **row)
    assert not (tmp_path / "s").exists()


def test_writer_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"duplicate video ids, e.g. \['a'\]"):
        StoreWriter(tmp_path / "s", ["a", "b", "a"])
    with pytest.raises(ValueError, match="at least one video id"):
        StoreWriter(tmp_path / "s", [])
    writer = StoreWriter(tmp_path / "s", ["a"], num_segments=1, num_positions=1)
    with pytest.raises(RuntimeError, match="outside its `with` block"):
        writer.write(0, audio=np.zeros((1, 128)), visual=np.zeros((1, 512)), maps=np.zeros((1, 1, 512)))
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("...")
    with pytest.raises(FileExistsError, match="is not a feature store; refusing to replace it"):
        with StoreWriter(tmp_path / "precious", ["a"], num_segments=1, num_positions=1):
            pass


def test_rebuild_replaces_an_existing_store(tmp_path):
    small_store(tmp_path / "s", n=3, seed=0)
    _, rows = small_store(tmp_path / "s", n=2, seed=1)
    store = FeatureStore.open(tmp_path / "s")
    assert len(store) == 2
    np.testing.assert_array_equal(store.maps[1], rows[1][2].astype(np.float16))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


# --- damaged stores ------------------------------------------------------------------------------
def test_damaged_stores_name_the_problem(tmp_path):
    small_store(tmp_path / "s")
    damaged = tmp_path / "d"

    shutil.copytree(tmp_path / "s", damaged)
    (damaged / "maps.npy").unlink()
    with pytest.raises(FileNotFoundError, match="missing maps.npy"):
        FeatureStore.open(damaged)

    shutil.rmtree(damaged)
    shutil.copytree(tmp_path / "s", damaged)
    np.save(damaged / "audio.npy", np.zeros((3, 4, 64), dtype=np.float16))
    with pytest.raises(ValueError, match=r"audio.npy: shape \[3, 4, 64\] differs from the manifest's \[3, 4, 128\]"):
        FeatureStore.open(damaged)

    np.save(damaged / "audio.npy", np.zeros((3, 4, 128), dtype=np.float32))
    with pytest.raises(ValueError, match="audio.npy: dtype float32, expected float16"):
        FeatureStore.open(damaged)

    (damaged / MANIFEST).write_text("{")
    with pytest.raises(ValueError, match="manifest.json: not valid JSON"):
        FeatureStore.open(damaged)
    (damaged / MANIFEST).write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a sasr-lite-feature-store manifest"):
        FeatureStore.open(damaged)
    (damaged / MANIFEST).unlink()
    with pytest.raises(FileNotFoundError, match="no manifest.json; not a feature store"):
        FeatureStore.open(damaged)


def test_build_store_command(tmp_path, capsys):
    from sasr_lite.cli import main

    root = tmp_path / "features"
    for i, v in enumerate(["00000001", "00000002"]):
        write_official(root, v, seed=i, frames=12)
    annotations = tmp_path / "avqa-val.json"
    record = {"type": '["Audio-Visual", "Existential"]', "question_content": "Is there a voiceover?",
              "templ_values": "[]", "question_deleted": 0, "anser": "yes"}
    annotations.write_text(json.dumps([{**record, "video_id": v, "question_id": i}
                                       for i, v in enumerate(["00000002", "00000001", "00000002"])]))
    assert main(["build-store", str(root), str(tmp_path / "store"), "--annotations", str(annotations),
                 "--frames", "12", "--stride", "6"]) == 0
    assert "2 videos, T=2, P=196" in capsys.readouterr().out
    assert FeatureStore.open(tmp_path / "store").ids == ["00000001", "00000002"]


def test_build_store_command_reports_errors(tmp_path, capsys):
    from sasr_lite.cli import main

    ids = tmp_path / "ids.txt"
    ids.write_text("00000001\n\n00000002\n")
    assert main(["build-store", str(tmp_path / "features"), str(tmp_path / "store"), "--ids", str(ids)]) == 1
    err = capsys.readouterr().err
    assert "error: features missing for 2 of 2 videos" in err and "['00000001', '00000002']" in err
