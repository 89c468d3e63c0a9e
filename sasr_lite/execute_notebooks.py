"""Sync every jupytext pair and execute the notebooks in place, so committed .ipynb carry outputs.

    make notebooks                                           # --fresh at the lesson scale: the committed outputs
    .venv/bin/python -m sasr_lite.execute_notebooks          # all notebooks, lesson scale (CPU minutes)
    .venv/bin/python -m sasr_lite.execute_notebooks 03 05    # only notebooks whose name starts with 03 / 05
    .venv/bin/python -m sasr_lite.execute_notebooks --scale paper  # the paper's sizes (a course run on a GPU)
    .venv/bin/python -m sasr_lite.execute_notebooks --sync-only  # resync the pairs, execute nothing
    .venv/bin/python -m sasr_lite.execute_notebooks --fresh  # first move notebooks/runs/<scale> aside (as on a clean clone)

Run it from the repository root (``--dir`` points elsewhere). The scale reaches each kernel as
``SASR_LITE_SCALE`` and is recorded in the notebook's metadata (``metadata.sasr_lite.scale``), so
a test can tell which scale the committed outputs come from, with the seconds it took and the
day it ran. After executing, `record_times` collects those from every notebook of the scale into
``notebooks/results/<scale>/notebook_times.json`` (`sasr_lite.results`), which README quotes.

The .py (py:percent) file is the source a reviewer edits; `jupytext --sync` takes the input cells
from whichever file of a pair was modified last. Notebooks run in order (08 writes the checkpoint
that 09-11 reuse), each in a fresh kernel from the current environment, working directory
notebooks/ (the same one nbval uses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from sasr_lite.data.files import write_text_atomic
from sasr_lite.outputs import move_aside
from sasr_lite.results import record
from sasr_lite.scale import SCALES

CELL_TIMEOUT = 3 * 3600  # seconds per cell


def notebook_scripts(folder: Path, prefixes: list[str]) -> list[Path]:
    scripts = sorted(folder.glob("[0-9][0-9]_*.py"))
    if prefixes:
        scripts = [s for s in scripts if any(s.name.startswith(p) for p in prefixes)]
    if not scripts:
        raise SystemExit(f"execute_notebooks: no numbered notebook in {folder} (prefixes {prefixes})")
    return scripts


def sync(path: Path) -> None:
    """jupytext --sync with the repository's jupytext.toml (pairing and metadata filter)."""
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--sync", "--quiet", str(path)])


def as_displayed(text: str) -> str:
    """A stream's text as Jupyter shows it: on every line, only what follows the last carriage
    return (a progress bar redraws its line with ``\r`` many times a second; storing every redraw
    made a training notebook's file ten times larger than what a reader sees)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def keep_what_is_displayed(nb) -> None:
    """Rewrite the stream outputs of ``nb`` in place as a notebook front end shows them: consecutive
    chunks of one stream (stdout or stderr) merged into one output, then `as_displayed`."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.get("output_type") == "stream" and previous is not None
                    and previous.get("output_type") == "stream" and previous["name"] == output["name"]):
                previous["text"] += output["text"]
            else:
                merged.append(output)
        for output in merged:
            if output.get("output_type") == "stream":
                output["text"] = as_displayed(output["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def execute(ipynb: Path, timeout: int, scale: str) -> float:
    """Run one notebook top to bottom in a fresh kernel at ``scale``, record the scale and the
    seconds it took in its metadata, and write it back atomically."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ipynb, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ipynb.parent)}},
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata["sasr_lite"] = {"scale": scale, "seconds": round(elapsed, 1),
                                "executed": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")}
    keep_what_is_displayed(nb)
    write_text_atomic(ipynb, nbformat.writes(nb) + "\n")
    return elapsed


def record_times(folder: Path, scale: str) -> Path | None:
    """Write ``folder/results/<scale>/notebook_times.json``: the seconds of each notebook's last
    execution at ``scale`` (its metadata), their sum, and in the note the days they ran; None (and
    nothing written) when no notebook was executed at that scale."""
    values, days = {}, {}
    for ipynb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        meta = json.loads(ipynb.read_text()).get("metadata", {}).get("sasr_lite", {})
        if meta.get("scale") != scale or "seconds" not in meta:
            continue
        values[f"{ipynb.stem} (s)"] = meta["seconds"]
        days.setdefault(meta.get("executed", "a day not recorded"), []).append(ipynb.stem[:2])
    if not values:
        return None
    values["all of them, one after the other (s)"] = round(sum(values.values()), 1)
    when = "; ".join(f"{', '.join(stems)} on {day}" for day, stems in sorted(days.items()))
    note = (f"seconds each notebook took at its last execution at the {scale} scale (`python -m "
            f"sasr_lite.execute_notebooks`, kept in its metadata), in a fresh kernel on the machine that ran "
            f"it, reusing whatever finished runs it found (notebooks/runs); executed {when}")
    return record(scale, "notebook_times", values, note, root=folder / "results")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose file name starts with these")
    parser.add_argument("--scale", choices=SCALES, default="lesson", help="test, lesson (default) or paper")
    parser.add_argument("--sync-only", action="store_true", help="resync pairs without executing")
    parser.add_argument("--fresh", action="store_true",
                        help="move this scale's checkpoints (notebooks/runs/<scale>) aside to <scale>.old-N first, "
                             "as on a fresh clone (never deleted: see sasr_lite.outputs)")
    # a training cell is one cell: notebook 10's 27 lesson runs take about 50 minutes on 2 cores and
    # notebook 12's official-network budget run 30-40, so the limit catches a hung kernel, not a slow run
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT,
                        help=f"seconds per cell (default {CELL_TIMEOUT}: a lesson-scale training cell takes up to "
                             "an hour on 2 cores)")
    parser.add_argument("--dir", type=Path, default=Path("notebooks"), help="notebook folder (default notebooks)")
    args = parser.parse_args(argv)

    # The kernel inherits this environment: the scale; the inline backend, not Agg.
    os.environ["SASR_LITE_SCALE"] = args.scale
    os.environ.pop("MPLBACKEND", None)
    folder = args.dir.resolve()
    scripts = notebook_scripts(folder, args.prefixes)
    if args.fresh and not args.sync_only and (folder / "runs" / args.scale).exists():
        move_aside(folder / "runs" / args.scale)

    total = 0.0
    for script in scripts:
        ipynb = script.with_suffix(".ipynb")
        sync(script)
        if args.sync_only:
            print(f"synced   {script.stem}")
            continue
        elapsed = execute(ipynb, args.timeout, args.scale)
        total += elapsed
        sync(ipynb)  # the executed .ipynb is now the newer file: rewrite its .py twin from it
        print(f"executed {script.stem:<32} {elapsed:6.1f} s")
    if not args.sync_only:
        print(f"total {total:.1f} s ({args.scale} scale)")
        times = record_times(folder, args.scale)
        print(f"wrote {times}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
