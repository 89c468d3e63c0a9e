"""The output rule (sasr_lite/outputs.py): no command overwrites or deletes what it did not write,
a run folder has one writer at a time, and ``--overwrite`` moves old output aside (issue 25)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from sasr_lite import cli
from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.outputs import MARKER, claim, folder_lock, record_outputs
from sasr_lite.train import train

CONFIG = TrainConfig(epochs=1, max_batches=2, batch_size=8, num_threads=1, progress=False, verbose=False,
                     tensorboard=False, device="cpu")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the rule itself ------------------------------------------------------------------------------
def test_claim_new_own_foreign_changed_and_overwrite(tmp_path):
    folder = tmp_path / "out"
    assert claim(folder, "synth") == "new"  # absent
    folder.mkdir()
    assert claim(folder, "synth") == "new"  # empty
    (folder / "a.json").write_text("{}")
    with pytest.raises(FileExistsError, match=rf"{folder} holds files that sasr-lite synth did not write, e.g. a.json; "
                                              r"refusing .* --overwrite moves it aside to out.old-1"):
        claim(folder, "synth", replace_own=True)
    record_outputs(folder, "synth")
    assert claim(folder, "synth", replace_own=True) == "replace"  # its own, unchanged
    with pytest.raises(FileExistsError, match=r"holds an earlier sasr-lite synth output; --resume continues it"):
        claim(folder, "synth")  # a command that does not rebuild its own output must be told
    with pytest.raises(FileExistsError, match=r"written by sasr-lite synth"):
        claim(folder, "train")
    (folder / "a.json").write_text('{"edited": 1}')
    with pytest.raises(FileExistsError, match=rf"{folder}/a.json was not written by sasr-lite synth or changed since"):
        claim(folder, "synth", replace_own=True)
    (folder / "b.txt").write_text("beside")
    assert claim(folder, "synth", overwrite=True) == "new"
    assert not folder.exists() and _snapshot(tmp_path / "out.old-1")["b.txt"] == b"beside"
    folder.mkdir()
    (folder / "c").write_text("x")
    claim(folder, "synth", overwrite=True)
    assert (tmp_path / "out.old-2" / "c").is_file(), "a second overwrite takes the next free name"


def test_the_lock_refuses_a_live_owner_and_takes_over_a_dead_ones(tmp_path, capsys):
    folder = tmp_path / "run"
    with folder_lock(folder, "train") as lock:
        owner = json.loads(lock.read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        with pytest.raises(FileExistsError, match=rf"{folder} is in use by sasr-lite train \(pid {os.getpid()} on "
                                                  rf"{socket.gethostname()}, since .*\); wait for it"):
            with folder_lock(folder, "eval"):
                pass
    assert not lock.exists(), "the lock goes with its holder"
    dead = _dead_pid()
    lock.write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "command": "sasr-lite train"}))
    with folder_lock(folder, "train"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert f"taking over the lock of sasr-lite train (pid {dead}), which is no longer running" in capsys.readouterr().err
    lock.write_text(json.dumps({"pid": dead, "host": "another-host", "command": "sasr-lite train"}))
    with pytest.raises(FileExistsError, match=rf"in use by sasr-lite train \(pid {dead} on another-host"):
        with folder_lock(folder, "train"):  # a PID of another machine cannot be checked from here
            pass


# --- train -------------------------------------------------------------------------------------------
def test_train_refuses_a_finished_run_without_resume_and_overwrite_moves_it_aside(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=out)
    before = _snapshot(out)
    assert cli.main(["train", str(tiny.root), "--out", str(out), "--tiny", "--epochs", "1", "--max-batches", "1",
                     "--progress", "false", "--num-threads", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{out} holds an earlier sasr-lite train output; --resume continues it, --overwrite moves it aside " \
           "to run.old-1" in err
    assert _snapshot(out) == before, "a refused run must not touch the old one"
    train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=out, overwrite=True)
    assert _snapshot(tmp_path / "run.old-1") == before
    assert (out / "checkpoint.pt").is_file()


def test_resume_without_a_checkpoint_is_refused(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"--resume: {tmp_path / 'new'} holds no earlier sasr-lite train "
                                                 "output to continue"):
        train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=tmp_path / "new", resume=True)
    assert not (tmp_path / "new").exists()
    crashed = tmp_path / "crashed"  # a run that stopped before its first checkpoint
    record_outputs(crashed, "train")
    with pytest.raises(FileNotFoundError, match=rf"--resume: no checkpoint.pt in {crashed}"):
        train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=crashed, resume=True)


def test_train_on_missing_data_leaves_no_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="annotation folder not found"):
        train(tmp_path / "no-such-data", SaSRConfig.tiny(), CONFIG, out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".*.lock")), "the lock goes with the refused run"


def test_a_second_train_on_a_locked_folder_is_refused_naming_the_owner(tiny, tmp_path):
    out = tmp_path / "run"
    with folder_lock(out, "train"):
        with pytest.raises(FileExistsError, match=rf"{out} is in use by sasr-lite train \(pid {os.getpid()}"):
            train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=out)
    assert not out.exists()


def test_two_train_processes_at_once_one_is_refused(tiny, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "sasr_lite.train", str(tiny.root), "--out", str(out), "--tiny", "--epochs", "2",
               "--max_batches", "2", "--progress", "false", "--num_threads", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    # the loser met either the winner's lock or the winner's finished run; both name the folder
    assert f"{out} is in use by sasr-lite train (pid" in refused or "holds an earlier sasr-lite train output" in refused
    assert len(json.loads((out / "config.json").read_text())) and (out / "checkpoint.pt").is_file()


# --- synth, demo, build-store, extract, eval ---------------------------------------------------------
def _hand_made(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "store").mkdir(parents=True)
    (folder / "avqa-train.json").write_text("[]")
    (folder / "store" / "notes.txt").write_text("my store")
    return folder


def test_synth_refuses_a_folder_of_hand_made_files(tmp_path, capsys):
    folder = _hand_made(tmp_path)
    before = _snapshot(folder)
    assert cli.main(["synth", "--out", str(folder), "--size", "tiny"]) == 1
    assert "holds files that sasr-lite synth did not write, e.g. avqa-train.json" in capsys.readouterr().err
    assert _snapshot(folder) == before
    assert cli.main(["synth", "--dataset", "avqa-yang", "--out", str(folder), "--size", "tiny"]) == 1
    assert _snapshot(folder) == before


def test_demo_keeps_a_custom_benchmark_and_the_files_beside_it(tmp_path, capsys):
    from sasr_lite.synth.cache import ensure_benchmark
    from sasr_lite.synth.generate import generate

    root = generate(tmp_path / "bench", size=10, seed=0)
    (root / "my-notes.txt").write_text("mine")
    before = _snapshot(root)
    with pytest.raises(FileExistsError, match=rf"{root} needs regenerating \(size 10, not 'tiny'\), but {root} holds "
                                              "files that sasr-lite synth did not write"):
        ensure_benchmark(root, "tiny", seed=0)
    assert _snapshot(root) == before
    # the CLI says the same in one line, before any work
    assert cli.main(["demo", "--data", str(root), "--out", str(tmp_path / "demo")]) == 1
    assert "needs regenerating" in capsys.readouterr().err and _snapshot(root) == before
    assert not (tmp_path / "demo").exists()
    # a benchmark the generator wrote and nobody changed is its own to regenerate
    (root / "my-notes.txt").unlink()
    record_outputs(root, "synth")
    ensure_benchmark(root, 10, seed=1)
    assert json.loads((root / "synth.json").read_text())["seed"] == 1


def test_demo_epochs_zero_is_refused_not_read_as_no_override(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["demo", "--epochs", "0"])
    assert stopped.value.code == 2
    assert "argument --epochs: must be >= 1, got 0" in capsys.readouterr().err


def test_build_store_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    folder = _hand_made(tmp_path) / "store"
    ids = tmp_path / "ids.txt"
    ids.write_text("v0\n")
    assert cli.main(["build-store", str(tmp_path), str(folder), "--ids", str(ids)]) == 1
    assert "holds files that sasr-lite build-store did not write, e.g. notes.txt" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "my store"


def test_extract_refuses_a_folder_of_features_it_did_not_write(tmp_path, capsys):
    folder = tmp_path / "official"
    (folder / "vggish").mkdir(parents=True)
    (folder / "vggish" / "v0.npy").write_bytes(b"not ours")
    (tmp_path / "v0.mp4").write_bytes(b"")
    assert cli.main(["extract", str(tmp_path / "v0.mp4"), "--out", str(folder), "--allow-random-weights",
                     "--weights-dir", str(tmp_path / "none")]) == 2
    assert "holds files that sasr-lite extract did not write (no manifest*.json), e.g. vggish/v0.npy" in \
        capsys.readouterr().err
    assert (folder / "vggish" / "v0.npy").read_bytes() == b"not ours"


def test_eval_refuses_a_foreign_results_folder_and_replaces_its_own(tiny, tmp_path, capsys):
    run = train(tiny, SaSRConfig.tiny(), CONFIG, out_dir=tmp_path / "run")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_table.csv").write_text("my table")
    assert cli.main(["eval", str(run.checkpoint), str(tiny.root), "--out", str(mine)]) == 1
    assert "holds files that sasr-lite eval did not write, e.g. test_table.csv" in capsys.readouterr().err
    assert (mine / "test_table.csv").read_text() == "my table"
    assert cli.main(["eval", str(run.checkpoint), str(tiny.root)]) == 0
    assert cli.main(["eval", str(run.checkpoint), str(tiny.root)]) == 0, "its own unchanged results are replaced"
    (run.out_dir / "eval" / "test_table.csv").write_text("edited by hand")
    assert cli.main(["eval", str(run.checkpoint), str(tiny.root)]) == 1
    assert "test_table.csv was not written by sasr-lite eval or changed since" in capsys.readouterr().err


def test_make_notebooks_fresh_moves_the_old_runs_aside(tmp_path, monkeypatch):
    from sasr_lite import execute_notebooks

    runs = tmp_path / "runs" / "test"
    (runs / "sasr").mkdir(parents=True)
    (runs / "sasr" / "checkpoint.pt").write_bytes(b"weights")
    (tmp_path / "01_a.py").write_text("x = 1\n")
    monkeypatch.setattr(execute_notebooks, "sync", lambda path: None)  # the kernel's work is not this test's
    monkeypatch.setattr(execute_notebooks, "execute", lambda *args: 0.0)
    assert execute_notebooks.main(["--fresh", "--scale", "test", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "runs" / "test.old-1" / "sasr" / "checkpoint.pt").read_bytes() == b"weights"


# --- student copies --------------------------------------------------------------------------------
def _notebook(folder: Path, name: str, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    (folder / name).write_text(nbformat.writes(nb))


@pytest.mark.parametrize("begin, end", [
    ("### BEGIN SOLUTION ###", "### END SOLUTION ###"),
    ("###BEGIN SOLUTION", "###END SOLUTION"),
    ("# begin solution", "# End Solution"),
    ("  ## BEGIN SOLUTION #", "  ##### END SOLUTION"),
])
def test_solution_markers_are_read_as_nbgrader_reads_them(begin, end):
    from sasr_lite.labs.student import STUB, clear_solutions

    indent = begin[: len(begin) - len(begin.lstrip())]  # the stub keeps its marker's indentation
    assert clear_solutions(f"x = 1\n{begin}\nanswer = 42\n{end}\ncheck(x)") == f"x = 1\n{indent}{STUB}\ncheck(x)"


def test_student_copies_go_outside_the_source_tree_by_default():
    from sasr_lite.labs.student import DEFAULT_OUT

    repository = Path(__file__).resolve().parents[1]
    assert not DEFAULT_OUT.resolve().is_relative_to(repository)


def test_student_copies_refuse_the_source_folder_and_students_answers(tmp_path, capsys):
    from sasr_lite.labs.student import main

    src = tmp_path / "src"
    _notebook(src, "01_a.ipynb", "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    before = _snapshot(src)
    assert main(["--src", str(src), "--out", str(src)]) == 1
    assert f"--out {src} is the --src folder" in capsys.readouterr().err
    assert _snapshot(src) == before
    out = tmp_path / "student"
    assert main(["--src", str(src), "--out", str(out)]) == 0
    (out / "01_a.ipynb").write_text((out / "01_a.ipynb").read_text().replace("raise NotImplementedError", "answer = 41 #"))
    answered = _snapshot(out)
    assert main(["--src", str(src), "--out", str(out)]) == 1
    assert f"{out} holds an earlier sasr-lite student output" in capsys.readouterr().err
    assert _snapshot(out) == answered, "the student's answer must survive"
    fresh = tmp_path / "fresh"
    assert main(["--src", str(src), "--out", str(fresh)]) == 0
    assert main(["--src", str(src), "--out", str(fresh)]) == 1, "even its own unchanged copies are a student folder"
    assert main(["--src", str(src), "--out", str(out), "--overwrite"]) == 0
    assert _snapshot(tmp_path / "student.old-1") == answered


def test_an_unclosed_marker_or_a_broken_notebook_writes_nothing(tmp_path, capsys):
    from sasr_lite.labs.student import main

    src, out = tmp_path / "src", tmp_path / "student"
    _notebook(src, "01_a.ipynb", "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    _notebook(src, "02_b.ipynb", "### BEGIN SOLUTION ###\nanswer = 42")
    assert main(["--src", str(src), "--out", str(out)]) == 1
    assert f"{src / '02_b.ipynb'}: cell 0: ### BEGIN SOLUTION without an ### END SOLUTION" in capsys.readouterr().err
    assert not out.exists(), "no copy may be written before every notebook is read"
    (src / "02_b.ipynb").write_bytes(b"\x89PNG not a notebook")
    assert main(["--src", str(src), "--out", str(out)]) == 1
    assert f"{src / '02_b.ipynb'}: not a readable notebook" in capsys.readouterr().err
    assert not out.exists()
    assert MARKER not in [p.name for p in src.iterdir()]


def test_gpu_check_replaces_its_own_report_and_refuses_other_files(tmp_path, monkeypatch, capsys):
    from sasr_lite import gpu_check

    for step in ("synth", "train", "notebook", "bench", "data_path"):  # the steps' work is not this test's
        monkeypatch.setattr(gpu_check, step, lambda *a: {"skipped": True})
    out = tmp_path / "report"
    argv = ["--device", "cpu", "--tiny", "--out", str(out)]
    assert gpu_check.main(argv) == 0
    assert gpu_check.main(argv) == 0, "its own unchanged report is replaced"
    (out / "notes.txt").write_text("mine")
    assert gpu_check.main(argv) == 1
    assert f"{out}/notes.txt was not written by sasr-lite gpu-check" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
