"""Notebook hygiene: every notebook is a synced jupytext pair, and every committed .ipynb is executed.

nbval compares only cells that carry outputs, so a stripped or stale notebook would silently test
nothing; these checks make that a failure. Refresh with `make notebooks`.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCRIPTS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(nb) -> list[tuple[str, str]]:
    """(cell_type, source) of every cell: what the two files of a pair must agree on."""
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_there_are_notebooks():
    assert SCRIPTS, f"no numbered notebooks found in {NOTEBOOKS}"


def test_every_notebook_is_a_pair():
    scripts = {p.stem for p in SCRIPTS}
    ipynbs = {p.stem for p in IPYNBS}
    assert not scripts - ipynbs, f".py without .ipynb in notebooks/: {sorted(scripts - ipynbs)}"
    assert not ipynbs - scripts, f".ipynb without .py in notebooks/: {sorted(ipynbs - scripts)}"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_pair_in_sync(ipynb: Path):
    script = ipynb.with_suffix(".py")
    if not script.exists():
        pytest.skip("unpaired; reported by test_every_notebook_is_a_pair")
    from_script = _cells(jupytext.read(script))
    from_ipynb = _cells(nbformat.read(ipynb, as_version=4))
    assert len(from_script) == len(from_ipynb), (
        f"{ipynb.name} has {len(from_ipynb)} cells, {script.name} has {len(from_script)}: "
        "run `make notebooks` to resync"
    )
    for index, (a, b) in enumerate(zip(from_script, from_ipynb)):
        assert a == b, f"{ipynb.name} cell {index} differs from {script.name}: run `make notebooks`"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_committed_notebook_is_executed(ipynb: Path):
    nb = nbformat.read(ipynb, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    assert code, f"{ipynb.name} has no code cells"
    counts = [cell.execution_count for cell in code]
    assert None not in counts, f"{ipynb.name}: cell {counts.index(None)} was never executed"
    # One fresh kernel, top to bottom: the counts run 1, 2, 3, ...
    assert counts == list(range(1, len(code) + 1)), f"{ipynb.name}: execution counts {counts}"
    assert any(cell.outputs for cell in code), f"{ipynb.name} carries no outputs"
    errors = [
        index
        for index, cell in enumerate(code)
        if any(out.get("output_type") == "error" for out in cell.outputs)
    ]
    assert not errors, f"{ipynb.name}: code cells {errors} stored an error"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_checked_cells_exist(ipynb: Path):
    """Lax nbval compares only marked cells: each notebook must check at least one real output."""
    nb = nbformat.read(ipynb, as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, f"{ipynb.name} has no '# NBVAL_CHECK_OUTPUT' cell"
    assert all(c.outputs for c in checked), f"{ipynb.name}: a checked cell has no stored output"
