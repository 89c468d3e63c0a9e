"""Numbers a notebook measured, written to a file that README quotes instead of retyping.

A notebook ends its measuring with ``record(SIZES.scale, "09_evaluation", {...})``, which writes
``results/<scale>/09_evaluation.json`` beside the notebook (atomically; the notebook's own file,
rewritten each run). The lesson-scale files are committed with the lesson outputs (`make
notebooks` rewrites both), and README's Status quotes them in blocks

    <!-- result: notebooks/results/lesson/09_evaluation.json -->
    ...the table `quote` renders...
    <!-- /result -->

that tests/test_results.py checks against the files. ``python -m sasr_lite.results FILE`` prints
the block for a file.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Mapping
from pathlib import Path

from sasr_lite.data.files import read_json, write_json_atomic

FORMAT = "sasr-lite-result"
RESULTS = Path("results")  # relative to the notebook's folder (its working directory)


def record(scale: str, name: str, values: Mapping[str, int | float | str], note: str,
           root: str | Path = RESULTS) -> Path:
    """Write ``values`` (label -> number or short text, in the order given) as ``root/scale/name.json``.

    ``note`` says how the numbers were measured (one or two sentences, quoted with them).
    """
    bad = {k: type(v).__name__ for k, v in values.items() if not isinstance(v, (int, float, str)) or
           isinstance(v, bool)}
    if bad:
        raise TypeError(f"record({name!r}): values must be numbers or text; got {bad}")
    path = Path(root) / scale / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(path, {
        "format": FORMAT, "notebook": name, "scale": scale, "note": note,
        "written": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"), "values": dict(values)})


def quote(result: Mapping, source: str) -> str:
    """The README block's body for ``result`` (a file `record` wrote, read from ``source``)."""
    if result.get("format") != FORMAT:
        raise ValueError(f"{source}: not a result file written by sasr_lite.results.record "
                         f"(format {result.get('format')!r})")
    lines = [f"From `{source}` (notebook {result['notebook']}, {result['scale']} scale, written "
             f"{result['written']}): {result['note']}", "", "| measured | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in result["values"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m sasr_lite.results FILE...  (prints each file's README block)", file=sys.stderr)
        return 2
    for path in paths:
        print(f"<!-- result: {path} -->\n{quote(read_json(path, 'result file'), path)}<!-- /result -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
