"""Every notebook also runs at the paper scale: the paper-size model and every paper-only branch.

nbval (in `make test`) checks the notebooks at the test scale, and the committed outputs come from
the lesson scale. The paper scale is what a course runs on a GPU, so a branch that only it takes
could break unseen. Here each notebook runs top to bottom in a fresh kernel at the paper scale;
only the data and the schedule are shrunk (the tiny benchmark, one epoch of two batches, one
ablation seed), by patching `notebook_utils.sizes` in a first cell, so the run takes about a
minute and a half on a CPU.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SHRINK_PAPER_SCALE = '''
import dataclasses, os
os.environ["SASR_LITE_SCALE"] = "paper"  # SCALE = None resolves to the paper scale from here on
import sasr_lite.notebook_utils as notebook_utils
_sizes = notebook_utils.sizes

def _shrunk(scale=None):
    paper = _sizes(scale)
    assert paper.scale == "paper", paper.scale
    short = lambda config: config.replace(epochs=1, max_batches=2)
    return dataclasses.replace(paper, synth_size="tiny", train=short(paper.train), ablation=short(paper.ablation),
                               comparison=short(paper.comparison), ablation_seeds=(0,), baseline_epochs=1,
                               avqa_size="tiny", multiple_choice=short(paper.multiple_choice),
                               ablation_size="tiny", experiment=short(paper.experiment))

notebook_utils.sizes = _shrunk
'''


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the notebooks: the paper scale writes runs/paper and data/ next to them."""
    folder = tmp_path_factory.mktemp("paper-scale") / "notebooks"
    folder.mkdir()
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, folder / path.name)
    yield folder
    shutil.rmtree(folder.parent)  # several GB of paper-size checkpoints


@pytest.fixture
def only_earlier_runs(workdir):
    """Remove the run folders a notebook adds when it ends (paper-size checkpoints: up to a GB each).

    What earlier notebooks trained stays (notebook 00 trains the model that 03-11 reuse); a later
    notebook that wants a removed run trains it again, in seconds at this schedule.
    """
    runs = workdir / "runs"
    before = set(runs.rglob("*")) | {runs}
    yield
    for path in sorted(runs.rglob("*")) if runs.is_dir() else []:
        if path not in before and path.parent in before and path.is_dir():
            shutil.rmtree(path)


def _texts(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_notebook_runs_at_the_paper_scale(name, workdir, only_earlier_runs, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("SASR_LITE_SCALE", raising=False)
    nb = nbformat.read(workdir / name, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SHRINK_PAPER_SCALE))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    assert "scale: paper" in _texts(nb)
    if name.startswith("10_"):  # the experiments run on the paper-size model and write their record
        assert "wrote results/paper/ablations.json" in _texts(nb)
