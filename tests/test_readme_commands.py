"""Every shell command in README.md runs: a README command can never silently do nothing again.

The commands run in README order in a scratch folder, shrunk where they would take minutes (a
tiny benchmark, a 2-batch training run, ``--help`` for the benchmark); `make` targets are
resolved with ``make -n``. A README command this file does not know how to shrink fails the test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# README command prefix -> how the test shrinks it (extra arguments, textual replacements)
SHRINK: dict[str, tuple[list[str], dict[str, str]]] = {
    "make demo": ([], {"make demo": f"make -n -C {ROOT} demo"}),
    "make test": ([], {"make test": f"make -n -C {ROOT} test"}),
    "sasr-lite synth": ([], {"--size small": "--size tiny"}),
    "sasr-lite inspect": ([], {}),
    "sasr-lite verify-store": ([], {}),
    "sasr-lite train": (["--tiny", "--epochs", "1", "--max-batches", "2", "--progress", "false", "--num-threads", "1"], {}),
    "sasr-lite eval": (["--n-boot", "50"], {}),
    "sasr-lite compare": (["--n-boot", "50"], {"runs/a/eval": "runs/small/eval", "runs/b/eval": "runs/small/eval"}),
    "sasr-lite bench": (["--help"], {}),
    ".venv/bin/python data_scripts/": ([], {".venv/bin/python data_scripts/": f"{sys.executable} {ROOT}/data_scripts/"}),
}


def readme_commands() -> list[str]:
    """The command lines of README.md's bash code blocks, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].split(" # ", 1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def readme_modules() -> list[str]:
    """Modules the README runs with ``python -m`` or ``torchrun ... -m`` in its text."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"`(?:python|torchrun)[^`]*?-m (sasr_lite[\w.]*)", text)))


def shrink(command: str) -> str:
    prefix = next((p for p in SHRINK if command.startswith(p)), None)
    if prefix is None:
        pytest.fail(f"README command {command!r} is not known to tests/test_readme_commands.py: add it to SHRINK")
    extra, replace = SHRINK[prefix]
    for old, new in replace.items():
        command = command.replace(old, new)
    return " ".join([command, *map(shlex.quote, extra)])


def test_every_readme_command_runs(tmp_path):
    commands = readme_commands()
    assert any(c.startswith("sasr-lite train") for c in commands), "README lost its commands?"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "SASR_LITE_SCALE": "test"}
    for command in commands:
        done = subprocess.run(["bash", "-c", shrink(command)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{command!r} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert done.stdout.strip(), f"{command!r} printed nothing"
    # what the commands were meant to leave behind
    assert (tmp_path / "data/synth_small/avqa-train.json").is_file()
    assert (tmp_path / "runs/small/checkpoint.pt").is_file()
    assert (tmp_path / "runs/small/eval/test_results.json").is_file()


@pytest.mark.parametrize("module", readme_modules())
def test_modules_the_readme_runs_with_dash_m_have_an_entry_point(module):
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "usage:" in done.stdout, (module, done.stdout[-500:], done.stderr[-500:])
