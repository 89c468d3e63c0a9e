"""data_scripts/ for AVQA-Yang: annotations (file:// URLs, never the network), the clip check on
tiny rendered 10 s clips, features at 10 segments and a store per split with T = 10, the chain."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from features_helpers import two_instrument_scene

from sasr_lite.data.store import FeatureStore
from sasr_lite.data.store_command import annotation_video_ids
from sasr_lite.synth.media import render_scene

SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "data_scripts"
AVQA_YANG_SCRIPTS = ("download_avqa_yang_annotations", "download_avqa_yang_videos", "extract_avqa_yang_features",
                     "build_avqa_yang_store", "prepare_avqa_yang")  # fmt: skip
MISSING = "file:///nonexistent-sasr-lite-test-folder"  # fails at once, contacts no host
# clip names as the annotations give them: VGGSound's <YouTube id>_<start, 6 digits>, and the short form
CLIP_A, CLIP_B, CLIP_C = "--0PQM4-hqg_000030", "-HG3Omg_89c_30", "0012y1s1bJI_000350"


@pytest.fixture
def script(monkeypatch):
    """Import a data script as a module (prepare_avqa_yang imports its siblings)."""
    monkeypatch.syspath_prepend(str(SCRIPTS_DIR))
    return importlib.import_module


def qa_records(video_names: list[str], first_id: int = 0) -> list[dict]:
    """AVQA-Yang-format records, one question per clip."""
    return [
        {"id": first_id + i, "video_name": name, "video_id": 300 + first_id + i,
         "question_text": "What happened in the video?",
         "multi_choice": ["motorboat", "Yacht consignment", "Sailboat set sail", "Consignment car"],
         "answer": 1, "question_type": "Happening", "question_relation": "View"}
        for i, name in enumerate(video_names)
    ]  # fmt: skip


def write_split(folder: Path, split: str, video_names: list[str], first_id: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{split}_qa.json"
    path.write_text(json.dumps(qa_records(video_names, first_id)))
    return path


def render_clip(folder: Path, name: str, seconds: int = 10) -> Path:
    """A tiny clip (32x24, 2 fps, with sound) of `seconds` s named <name>.mp4."""
    return render_scene(two_instrument_scene(name), folder, seconds=seconds, fps=2, size=(32, 24), wav=False)


def test_every_avqa_yang_script_answers_help(script, capsys):
    assert {p.stem for p in SCRIPTS_DIR.glob("*avqa_yang*.py")} == set(AVQA_YANG_SCRIPTS)
    for name in AVQA_YANG_SCRIPTS:
        with pytest.raises(SystemExit) as exit_:
            script(name).main(["--help"])
        assert exit_.value.code == 0
        assert "usage:" in capsys.readouterr().out
    # run as a file from the repository root, as the README says (prepare imports its siblings)
    out = subprocess.run([sys.executable, str(SCRIPTS_DIR / "prepare_avqa_yang.py"), "--help"],
                         capture_output=True, text=True, cwd=SCRIPTS_DIR.parent)  # fmt: skip
    assert out.returncode == 0 and "build_avqa_yang_store.py" in out.stdout


def test_annotations_without_network_fail_naming_the_url(script, tmp_path, capsys):
    out = tmp_path / "avqa_yang"
    rc = script("download_avqa_yang_annotations").main(["--out", str(out), "--base-url", MISSING, "--timeout", "2"])
    assert rc == 1 and f"could not download {MISSING}/train_qa.json" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())  # nothing half-written


def test_annotations_download_validates_and_is_idempotent(script, tmp_path, capsys):
    download = script("download_avqa_yang_annotations").main
    served = tmp_path / "served"
    write_split(served, "train", [CLIP_A, CLIP_B, CLIP_A])
    write_split(served, "val", [CLIP_C], first_id=10)
    out = tmp_path / "data"
    args = ["--out", str(out), "--base-url", served.as_uri()]
    assert download(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["SOURCE.json", "train_qa.json", "val_qa.json"]
    source = json.loads((out / "SOURCE.json").read_text())
    assert source["train"]["records"] == 3 and source["train"]["videos"] == 2
    assert source["train"]["url"] == f"{served.as_uri()}/train_qa.json"
    assert source["val"]["sha256"] == hashlib.sha256((served / "val_qa.json").read_bytes()).hexdigest()
    mtime = (out / "train_qa.json").stat().st_mtime_ns
    capsys.readouterr()
    assert download(args) == 0
    assert "present (3 questions), skipped" in capsys.readouterr().out
    assert (out / "train_qa.json").stat().st_mtime_ns == mtime

    # a page that is not JSON: refused, naming the URL, the file and what is wrong; the good file stays
    good = (out / "train_qa.json").read_bytes()
    (served / "train_qa.json").write_text("<html>rate limited</html>")
    assert download(args + ["--splits", "train", "--force"]) == 1
    err = capsys.readouterr().err
    assert f"{served.as_uri()}/train_qa.json is not an AVQA-Yang annotation file (train_qa.json)" in err
    assert "not valid JSON (line 1, column 1)" in err and "was left as it was" in err
    assert (out / "train_qa.json").read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["SOURCE.json", "train_qa.json", "val_qa.json"]

    # valid JSON, but a record lacks its answer: the record is named, nothing is written
    broken = qa_records([CLIP_A, CLIP_B])
    del broken[1]["answer"]
    (served / "train_qa.json").write_text(json.dumps(broken))
    fresh = tmp_path / "fresh"
    assert download(["--out", str(fresh), "--base-url", served.as_uri(), "--splits", "train"]) == 1
    err = capsys.readouterr().err
    assert f"{served.as_uri()}/train_qa.json record 1: missing key(s) ['answer']" in err
    assert "nothing was written to" in err
    assert not list(fresh.iterdir())


def test_videos_check_lists_missing_and_wrong_length_clips(script, tmp_path, capsys):
    check = script("download_avqa_yang_videos").main
    data = tmp_path / "avqa_yang"
    write_split(data, "train", [CLIP_A, CLIP_B, "short_clip_000005"])
    write_split(data, "val", [CLIP_C, "garbage_000001", CLIP_A], first_id=10)
    videos = data / "videos"
    render_clip(videos, CLIP_A)
    render_clip(videos, "short_clip_000005", seconds=4)  # cut at the wrong length
    (videos / "garbage_000001.mp4").write_bytes(b"\x00\x01garbage" * 100)
    render_clip(videos, "not_needed_000000")
    args = ["--data", str(data), "--commands", str(tmp_path / "get_clips.sh")]
    assert check(args) == 1
    captured = capsys.readouterr()
    assert "mn.cs.tsinghua.edu.cn/avqa" in captured.out and "yt-dlp" in captured.out
    assert "1 of 5 needed clips present and 10 s long" in captured.out and "1 other videos ignored" in captured.out
    assert (data / "missing_clips.txt").read_text() == f"{CLIP_B}\n{CLIP_C}\n"
    bad = dict(line.split("\t") for line in (data / "bad_clips.txt").read_text().splitlines())
    assert sorted(bad) == ["garbage_000001", "short_clip_000005"]
    assert bad["short_clip_000005"].startswith("lasts 4.00 s, not 10 s")
    assert bad["garbage_000001"].startswith("unreadable: cannot open media file")
    assert "garbage_000001.mp4" in bad["garbage_000001"]
    assert "missing 2" in captured.err and "wrong length or unreadable 2" in captured.err
    rows = (data / "clips.csv").read_text().splitlines()
    assert rows[0] == "video_name,youtube_id,start_seconds,end_seconds,splits"
    assert f"{CLIP_A},--0PQM4-hqg,30,40,train val" in rows and f"{CLIP_B},-HG3Omg_89c,30,40,train" in rows
    commands = (tmp_path / "get_clips.sh").read_text()
    assert "--download-sections '*30-40'" in commands and "https://www.youtube.com/watch?v=-HG3Omg_89c" in commands
    assert "watch?v=short_clip" in commands and CLIP_A not in commands  # only the clips to (re)fetch
    assert subprocess.run(["bash", "-n", str(tmp_path / "get_clips.sh")]).returncode == 0  # valid bash

    # fix the folder: every clip present and 10 s long -> exit 0, stale lists removed
    (videos / "garbage_000001.mp4").unlink()
    for name in (CLIP_B, CLIP_C, "short_clip_000005", "garbage_000001"):
        render_clip(videos, name)
    assert check(["--data", str(data)]) == 0
    assert "5 of 5 needed clips present and 10 s long" in capsys.readouterr().out
    assert not (data / "missing_clips.txt").exists() and not (data / "bad_clips.txt").exists()
    # a clip a little short passes with a wider tolerance (its YouTube video ends early)
    render_clip(videos, "short_clip_000005", seconds=9)
    assert check(["--data", str(data)]) == 1
    assert check(["--data", str(data), "--tolerance", "1.5"]) == 0


def test_videos_check_needs_annotations_with_vggsound_names(script, tmp_path, capsys):
    check = script("download_avqa_yang_videos").main
    data = tmp_path / "avqa_yang"
    assert check(["--data", str(data)]) == 2
    assert "download_avqa_yang_annotations.py" in capsys.readouterr().err
    write_split(data, "train", ["no-start-second"])
    write_split(data, "val", [CLIP_A])
    assert check(["--data", str(data)]) == 2
    assert "video_name 'no-start-second' is not <YouTube id>_<start second>" in capsys.readouterr().err


def test_features_at_ten_segments_and_a_store_per_split(script, tmp_path, capsys):
    data = tmp_path / "avqa_yang"
    write_split(data, "train", [CLIP_B, CLIP_A, CLIP_B])
    write_split(data, "val", [CLIP_C], first_id=10)
    for name in (CLIP_A, CLIP_B, CLIP_C):
        render_clip(data / "videos", name)

    extract = script("extract_avqa_yang_features").main
    common = ["--videos", str(data / "videos"), "--out", str(data / "feats"), "--allow-random-weights",
              "--weights-dir", str(tmp_path / "no-weights")]  # fmt: skip
    assert extract(common + ["--seconds", "60"]) == 2
    assert "--seconds is fixed at 10" in capsys.readouterr().err
    assert extract(common) == 0
    audio = np.load(data / "feats" / "vggish" / f"{CLIP_B}.npy")
    maps = np.load(data / "feats" / "res18_14x14" / f"{CLIP_B}.npy")
    assert audio.shape == (10, 128) and maps.shape == (10, 512, 14, 14)
    manifest = json.loads((data / "feats" / "manifest.json").read_text())
    assert manifest["seconds"] == 10
    assert manifest["videos"][CLIP_B]["padded_frames"] == 0 and manifest["videos"][CLIP_B]["padded_audio"] == 0

    build = script("build_avqa_yang_store").main
    assert build(["--data", str(data)]) == 0
    train, val = FeatureStore.open(data / "store" / "train"), FeatureStore.open(data / "store" / "val")
    assert train.ids == sorted([CLIP_A, CLIP_B]) and val.ids == [CLIP_C]
    assert (train.T, train.P, train.stride, train.manifest["num_frames"]) == (10, 196, 1, 10)
    row = train.index_of(CLIP_B)  # every segment kept, in order: row t is second t
    np.testing.assert_array_equal(train.audio[row], audio.astype(np.float16))
    np.testing.assert_array_equal(train.maps[row, 3], maps[3].reshape(512, 196).T.astype(np.float16))
    capsys.readouterr()
    assert build(["--data", str(data)]) == 0
    assert "complete (2 clips), skipped" in capsys.readouterr().out

    # a clip without features: an error naming it, or left out with --skip-missing
    write_split(data, "val", [CLIP_C, "gone_000010"], first_id=10)
    assert build(["--data", str(data), "--splits", "val"]) == 1
    assert "gone_000010" in capsys.readouterr().err
    assert build(["--data", str(data), "--splits", "val", "--skip-missing"]) == 0
    assert FeatureStore.open(data / "store" / "val").ids == [CLIP_C]


def test_build_store_reads_ids_from_both_annotation_formats(tmp_path):
    yang = write_split(tmp_path, "val", [CLIP_B, CLIP_A, CLIP_B])
    music = tmp_path / "avqa-val.json"
    music.write_text(json.dumps([{"video_id": "00000001", "question_id": 0, "type": '["Audio", "Counting"]',
                                  "question_content": "Is there a <Object> sound?", "templ_values": '["violin"]',
                                  "question_deleted": 0, "anser": "yes"}]))  # fmt: skip
    assert annotation_video_ids([yang]) == sorted([CLIP_A, CLIP_B])
    assert annotation_video_ids([music, yang]) == sorted(["00000001", CLIP_A, CLIP_B])
    with pytest.raises(ValueError, match=r"avqa-val.json"):  # a MUSIC-AVQA name is read as MUSIC-AVQA
        annotation_video_ids([yang.rename(tmp_path / "avqa-val.json")])


def test_prepare_runs_the_steps_in_order_and_stops_at_the_first_failure(script, monkeypatch, capsys):
    prepare = script("prepare_avqa_yang")
    calls: list[tuple[str, list[str]]] = []

    def step(name: str, rc: int = 0):
        def main(argv):
            calls.append((name, argv))
            return rc
        return main

    for name in ("download_avqa_yang_annotations", "download_weights", "extract_avqa_yang_features",
                 "build_avqa_yang_store"):  # fmt: skip
        monkeypatch.setattr(script(name), "main", step(name))
    monkeypatch.setattr(script("download_avqa_yang_videos"), "main", step("download_avqa_yang_videos", rc=1))
    assert prepare.main(["--data", "d", "--", "--device", "cuda"]) == 1
    assert [c[0] for c in calls] == ["download_avqa_yang_annotations", "download_weights", "download_avqa_yang_videos"]
    assert "step 'videos' failed (exit 1)" in capsys.readouterr().err
    calls.clear()
    assert prepare.main(["--data", "d", "--skip-missing", "--", "--device", "cuda"]) == 0
    assert calls[3] == ("extract_avqa_yang_features", ["--videos", "d/videos", "--out", "d/feats", "--device", "cuda"])
    assert calls[4] == ("build_avqa_yang_store", ["--data", "d", "--skip-missing"])
