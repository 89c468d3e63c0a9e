"""`make student`: the notebooks without their solutions, to hand out as labs.

The solutions sit between nbgrader-style markers (``### BEGIN SOLUTION`` / ``### END SOLUTION``,
read as nbgrader reads them: any number of ``#``, an optional trailing ``#``, any case). This
module clears them with nbconvert's preprocessors: each marked region becomes a
stub that raises NotImplementedError (indented as its marker was), and every output is cleared.
Markdown cells tagged ``instructor`` (how the copies are made and graded) are left out.
A student copy runs top to bottom: each unfinished exercise's `check` prints FAIL and the
notebook goes on.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor

from sasr_lite.data.files import write_text_atomic
from sasr_lite.outputs import claim, folder_lock, record_outputs

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"  # as the notebooks write them
STUB = 'raise NotImplementedError("your code here")'
DEFAULT_OUT = Path.home() / "sasr-lite-student"  # outside the source tree: students' answers never land in the kit
# nbgrader's reading of a marker line: any number of '#', an optional trailing '#', any case
_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)\s+SOLUTION\s*#*\s*$", re.IGNORECASE)


def solution_marker(line: str) -> str | None:
    """"BEGIN" or "END" when ``line`` is a solution marker, else None."""
    found = _MARKER.match(line)
    return found.group(1).upper() if found else None


INSTRUCTOR = "instructor"  # the tag of a markdown cell meant for the instructor only


def for_students(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without the cells tagged `INSTRUCTOR` (how the copies are made, how they are graded)."""
    nb.cells = [cell for cell in nb.cells if INSTRUCTOR not in cell.get("metadata", {}).get("tags", [])]
    return nb


class ClearSolutions(Preprocessor):
    """Replace every solution region of a code cell with `STUB`, at the region's indentation."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and any(solution_marker(line) for line in cell.source.splitlines()):
            cell.source = clear_solutions(cell.source, where=f"cell {index}")
        return cell, resources


def clear_solutions(source: str, where: str = "source") -> str:
    """``source`` with each BEGIN/END SOLUTION region (markers included) replaced by the stub."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        marker = solution_marker(line)
        if marker == "BEGIN":
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif marker == "END":
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without a {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} without an {END}")
    return "\n".join(out)


def student_copies(src: str | Path = "notebooks", out: str | Path = DEFAULT_OUT, overwrite: bool = False) -> list[Path]:
    """Write every numbered notebook of ``src`` to ``out`` without solutions or outputs.

    Every notebook is read and cleared before the first is written, so a malformed notebook or an
    unclosed marker leaves ``out`` as it was. ``out`` must be new or empty (`sasr_lite.outputs.claim`):
    an existing student folder may hold a student's answers, so it is refused, even one this
    command wrote, unless ``overwrite``, which moves it aside to ``OUT.old-N``."""
    src, out = Path(src), Path(out)
    if src.resolve() == out.resolve():
        raise ValueError(f"--out {out} is the --src folder: the student copies would replace the solved notebooks")
    paths = sorted(src.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no numbered notebooks (NN_*.ipynb) in {src}")
    cleared = {}
    for path in paths:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # nbformat raises JSON, validation and encoding errors of several kinds
            raise ValueError(f"{path}: not a readable notebook ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''})") from None
        for preprocessor in (ClearSolutions(), ClearOutputPreprocessor()):
            try:
                nb, _ = preprocessor.preprocess(nb, {})
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from None
        nb.metadata.pop("sasr_lite", None)  # the executed scale and time belong to the solved copy
        for_students(nb)
        cleared[path.name] = nbformat.writes(nb) + "\n"
    with folder_lock(out, "student"):
        claim(out, "student", overwrite=overwrite)
        written = [write_text_atomic(out / name, text) for name, text in cleared.items()]
        record_outputs(out, "student")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make student", description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("notebooks"), help="solved notebooks (default notebooks)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where the copies go (default {DEFAULT_OUT})")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT exists and is not empty: move it aside to OUT.old-N")
    args = parser.parse_args(argv)
    try:
        written = student_copies(args.src, args.out, args.overwrite)
    except (OSError, ValueError) as err:
        print(f"make student: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} student notebooks to {args.out}/ (solutions replaced by stubs, outputs cleared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
