"""Where the tests find the real MUSIC-AVQA annotations: never in the repository (their licence and
size keep them out), only in a folder named by an environment variable, which `.ci/run` sets when a
copy lies beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_ENV = "SASR_LITE_MUSIC_AVQA_ANNOTATIONS"  # a folder holding avqa-val.json and avqa-test.json


def real_annotations(*names: str) -> list[Path]:
    """The named files of the real annotation folder. Skips, saying how to run the test, when the
    variable is unset; fails, naming the file, when it is set but a file is missing there."""
    folder = os.environ.get(REAL_ENV)
    if not folder:
        pytest.skip(f"set {REAL_ENV} to a folder holding the real MUSIC-AVQA {', '.join(names)} to run this test")
    paths = [Path(folder).expanduser() / name for name in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.fail(f"{REAL_ENV}={folder}, but {', '.join(missing)} is not there")
    return paths


def optional_real_folder() -> Path | None:
    """The real annotation folder when the variable names one, else None (for tests that only
    compare against the real files when they can)."""
    folder = os.environ.get(REAL_ENV)
    return Path(folder).expanduser() if folder else None


PAPER_ENV = "SASR_LITE_PAPER_TEXT"  # the paper's text extracted from its PDF (not redistributable)


def paper_text() -> str:
    """The paper's text, from the file named by SASR_LITE_PAPER_TEXT (skipped, with the hint, when unset)."""
    path = os.environ.get(PAPER_ENV)
    if not path:
        pytest.skip(f"set {PAPER_ENV} to the paper's text (extracted from its PDF) to run this test")
    if not Path(path).is_file():
        pytest.fail(f"{PAPER_ENV}={path}, but that file is not there")
    return Path(path).read_text(encoding="utf-8")
