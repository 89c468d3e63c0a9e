"""`make student`: the notebooks without their solutions, to hand out as labs.

The solutions sit between nbgrader's markers (``### BEGIN SOLUTION`` / ``### END SOLUTION``), so
an instructor who uses nbgrader generates assignments from the same notebooks unchanged. Without
nbgrader, this module does the same with nbconvert's preprocessors: each marked region becomes a
stub that raises NotImplementedError (indented as its marker was), and every output is cleared.
A student copy runs top to bottom: each unfinished exercise's `check` prints FAIL and the
notebook goes on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor

from sasr_lite.data.files import write_text_atomic

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("your code here")'


class ClearSolutions(Preprocessor):
    """Replace every solution region of a code cell with `STUB`, at the region's indentation."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = clear_solutions(cell.source, where=f"cell {index}")
        return cell, resources


def clear_solutions(source: str, where: str = "source") -> str:
    """``source`` with each BEGIN/END SOLUTION region (markers included) replaced by the stub."""
    out, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}: {BEGIN} inside another solution region")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}: {END} without a {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} without an {END}")
    return "\n".join(out)


def student_copies(src: str | Path = "notebooks", out: str | Path = "student") -> list[Path]:
    """Write every numbered notebook of ``src`` to ``out`` without solutions or outputs."""
    src, out = Path(src), Path(out)
    paths = sorted(src.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no numbered notebooks (NN_*.ipynb) in {src}")
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for preprocessor in (ClearSolutions(), ClearOutputPreprocessor()):
            try:
                nb, _ = preprocessor.preprocess(nb, {})
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from None
        nb.metadata.pop("sasr_lite", None)  # the executed scale and time belong to the solved copy
        written.append(write_text_atomic(out / path.name, nbformat.writes(nb) + "\n"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make student", description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("notebooks"), help="solved notebooks (default notebooks)")
    parser.add_argument("--out", type=Path, default=Path("student"), help="where the copies go (default student)")
    args = parser.parse_args(argv)
    written = student_copies(args.src, args.out)
    print(f"wrote {len(written)} student notebooks to {args.out}/ (solutions replaced by stubs, outputs cleared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
