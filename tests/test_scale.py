"""One switch for the scale (SASR_LITE_SCALE / SCALE) and one for real data (SASR_LITE_DATA / DATA)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import torch

from sasr_lite.notebook_utils import notebook_data, run_root, sizes
from sasr_lite.scale import resolve_scale
from sasr_lite.data.loading import load_data

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_unset_scale_is_lesson_on_a_cpu_and_paper_with_cuda(monkeypatch):
    monkeypatch.delenv("SASR_LITE_SCALE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_scale() == "lesson"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_scale() == "paper"
    monkeypatch.setenv("SASR_LITE_SCALE", "test")
    assert resolve_scale() == "test" and resolve_scale("lesson") == "lesson"  # the parameter wins


def test_a_bad_scale_names_where_it_came_from(monkeypatch):
    monkeypatch.setenv("SASR_LITE_SCALE", "huge")
    with pytest.raises(ValueError, match=r"SASR_LITE_SCALE='huge' is not a scale; choose one of test, lesson, paper"):
        resolve_scale()
    with pytest.raises(ValueError, match=r"SCALE='fast' is not a scale"):
        resolve_scale("fast")


def test_each_scale_has_its_sizes():
    test, lesson, paper = sizes("test"), sizes("lesson"), sizes("paper")
    assert (test.synth_size, lesson.synth_size, paper.synth_size) == ("tiny", "small", "full")
    assert paper.model.d_model == 512 and paper.train.epochs == 80 and paper.train.lr == 1e-4  # the paper's recipe
    assert lesson.model.d_model == 128 and len(lesson.ablation_seeds) == 3
    assert [s.runs for s in (test, lesson, paper)] == [Path("runs/test"), Path("runs/lesson"), Path("runs/paper")]
    assert test.smoke and not lesson.smoke


def test_every_notebook_has_a_papermill_parameters_cell():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "SCALE = None" in tagged[0].source, path.name
        assert ("DATA = None" in tagged[0].source) == (path.name[:2] in ("08", "09", "10", "11", "12", "13")), path.name


def _as_prepared_music_avqa(tiny_root: Path, folder: Path) -> Path:
    """The tiny benchmark laid out as data_scripts/ prepare MUSIC-AVQA: annotations and store/ only."""
    folder.mkdir()
    for split in ("train", "val", "test"):
        shutil.copy(tiny_root / f"avqa-{split}.json", folder / f"avqa-{split}.json")
    shutil.copytree(tiny_root / "store", folder / "store")
    return folder


def test_data_switch_finds_a_prepared_folder_and_names_a_wrong_one(tiny, tmp_path, monkeypatch):
    prepared = _as_prepared_music_avqa(tiny.root, tmp_path / "music_avqa")
    monkeypatch.setenv("SASR_LITE_DATA", str(prepared))
    assert notebook_data(sizes("test")) == prepared
    data = load_data(prepared, splits=("train",))
    assert data.release == "custom" and run_root(sizes("test"), data) == Path("runs/test/custom")
    with pytest.raises(FileNotFoundError, match=r"DATA=.*nowhere: no avqa-train.json there"):
        notebook_data(sizes("test"), tmp_path / "nowhere")
    monkeypatch.setenv("SASR_LITE_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"SASR_LITE_DATA=.*empty: no avqa-train.json"):
        notebook_data(sizes("test"))


@pytest.mark.slow
def test_notebooks_08_to_11_train_and_evaluate_on_the_data_switch(tiny, tmp_path, monkeypatch):
    """08 trains on the prepared folder; 09-11 load that model and check it was trained on it."""
    from nbclient import NotebookClient

    prepared = _as_prepared_music_avqa(tiny.root, tmp_path / "music_avqa")
    monkeypatch.setenv("SASR_LITE_DATA", str(prepared))
    monkeypatch.setenv("SASR_LITE_SCALE", "test")
    work = tmp_path / "notebooks"
    work.mkdir()
    printed = {}
    for name in ("08_training", "09_evaluation", "10_ablations", "11_attention_probe"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
        printed[name] = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"data: {prepared}" in printed["08_training"]
    assert "annotations: custom release" in printed["08_training"]
    for name in ("09_evaluation", "11_attention_probe"):  # they checked 08's run against their data
        assert "annotations: custom release, train" in printed[name], name
    assert (work / "runs" / "test" / "custom" / "sasr" / "checkpoint.pt").is_file()
    assert not (work / "runs" / "test" / "sasr").exists(), "real data must not share the synthetic run folder"


def test_papermill_sets_the_scale_parameter(tmp_path, monkeypatch):
    """`papermill -p SCALE test` overrides the environment: the injected cell follows the tagged one."""
    import papermill

    monkeypatch.setenv("SASR_LITE_SCALE", "paper")  # would generate the full benchmark if it won
    work = tmp_path / "notebooks"
    work.mkdir()
    out = work / "02.out.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "02_data_and_questions.ipynb"), str(out), parameters={"SCALE": "test"},
                               cwd=str(work), kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert "scale: test" in "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
