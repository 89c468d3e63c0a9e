"""Every notebook also runs with FAST = False: the paper-size model and every full-mode branch.

nbval (in `make test`) checks the notebooks in fast mode only. Full mode is what a course runs on a
GPU, so a branch that only full mode takes could break unseen. Here each notebook runs top to
bottom in a fresh kernel with fast mode off; only the data and the schedule are shrunk (the tiny
benchmark, one epoch of two batches, one ablation seed), by patching `notebook_utils.sizes` in a
first cell, so the run takes about a minute and a half on a CPU.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SHRINK_FULL_MODE = '''
import dataclasses, os
os.environ.pop("SASR_LITE_FAST", None)  # FAST = fast_mode() is False from here on
import sasr_lite.notebook_utils as notebook_utils
_full_sizes = notebook_utils.sizes

def _shrunk(fast):
    full = _full_sizes(False)
    short = lambda config: config.replace(epochs=1, max_batches=2)
    return dataclasses.replace(full, synth_size="tiny", train=short(full.train), quick=short(full.quick),
                               ablation=short(full.ablation), ablation_seeds=(0,))

notebook_utils.sizes = _shrunk
'''


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the notebooks: full mode writes runs/full and data/ next to them."""
    folder = tmp_path_factory.mktemp("full-mode") / "notebooks"
    folder.mkdir()
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, folder / path.name)
    return folder


def _texts(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_notebook_runs_in_full_mode(name, workdir, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("SASR_LITE_FAST", raising=False)
    nb = nbformat.read(workdir / name, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SHRINK_FULL_MODE))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    if name.startswith("00_"):
        assert "fast mode: False" in _texts(nb)
    if name.startswith("03_"):  # the paper's width, D = 512, not the tiny model's
        assert "tokens_a (G^a)               shape [2, 22, 512]" in _texts(nb)
