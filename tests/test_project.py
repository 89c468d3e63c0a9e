"""The project's promises to a new user: pinned environment, two-command README, CLI, CI."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PINNED = ("torch", "torchvision", "torchaudio")


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)\s*", req)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_pyproject_pins_the_gpu_machine_torch_stack():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins(project["dependencies"])
    assert pins == {**pins, "torch": "2.11.0", "torchvision": "0.26.0", "torchaudio": "2.11.0"}
    assert project["requires-python"].startswith(">=3.11")
    assert project["scripts"]["sasr-lite"] == "sasr_lite.cli:main"


def test_environment_yml_parses_and_matches_pyproject_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    env_pins = _pins(pip_section)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    project_pins = _pins(project["dependencies"])
    for name in PINNED:
        assert env_pins[name] == project_pins[name], name
    assert any(line.startswith("-e .[") for line in pip_section), "environment.yml must install the kit"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))]
    assert commands[-1] == "make test" and [c for c in commands if "make" in c.split()] == ["make test"]


def test_ci_installs_chromium_so_the_browser_tests_run_rather_than_skip():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"apt-get install -y -q --no-install-recommends chromium", ci)
    assert "export SASR_LITE_REQUIRE_BROWSER=1" in ci
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0
    rule = re.search(r"^test-browser:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert rule and "SASR_LITE_REQUIRE_BROWSER=1" in rule.group(1) and rule.group(1).endswith("pytest tests/browser")


def test_makefile_targets_create_the_venv_first():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "test-browser", "lab"):
        rule = re.search(rf"^{target}:(.*)$", makefile, re.M)
        assert rule and "$(STAMP)" in rule.group(1), f"`make {target}` must create .venv first"


def test_cli_lists_every_subcommand_and_rejects_unknown_ones():
    out = subprocess.run([sys.executable, "-m", "sasr_lite.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for name in ("inspect", "synth", "train", "eval", "compare", "demo", "bench", "extract", "build-store", "verify-store",
                 "grade"):
        assert name in out.stdout
    bad = subprocess.run([sys.executable, "-m", "sasr_lite.cli", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'frobnicate'" in bad.stderr


@pytest.mark.parametrize("name", ["inspect", "build-store", "verify-store", "synth", "render", "extract", "train", "eval", "compare", "demo",
                                  "bench", "grade"])
def test_every_subcommand_has_help(name):
    out = subprocess.run([sys.executable, "-m", "sasr_lite.cli", name, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"sasr-lite {name}" in out.stdout


def test_no_device_literals_in_the_package():
    offenders = [p for p in (ROOT / "sasr_lite").rglob("*.py") if ".cuda" + "()" in p.read_text()]
    assert offenders == []


# Where the project's text lives. notebooks/*.py and README.md join this list once they cite
# docs/design.md instead of the old outside notes.
SELF_CONTAINED = ("sasr_lite", "tests", "data_scripts", "docs", "Makefile", "README.md",
                  *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "notebooks").glob("*.py"))))
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".yml", ".yaml", ".json", ".cfg", ".sh", ""}
# spelt in two parts so this file does not name them itself
OUTSIDE_NAMES = ("DESIGN" + ".md", ".." + "/shared")
DESIGN_CITATION = re.compile(r"docs/design\.md\s*(?:#\s*)?(?:section|§)\s*(\d+(?:\.\d+)*)")


def _project_text_files(places=SELF_CONTAINED) -> list[Path]:
    files = []
    for place in places:
        path = ROOT / place
        found = [path] if path.is_file() else path.rglob("*")
        files += [p for p in found if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]
    return sorted(files)


def test_no_project_file_names_the_outside_design_notes():
    files = _project_text_files()
    assert any(p.name == "design.md" for p in files), "docs/design.md is missing"
    offenders = [f"{p.relative_to(ROOT)}: {name}" for p in files
                 for name in OUTSIDE_NAMES if name in p.read_text(errors="replace")]
    assert offenders == []


def test_every_design_citation_names_a_section_of_docs_design():
    headings = re.findall(r"^#+ (\d+(?:\.\d+)*)\.? ", (ROOT / "docs" / "design.md").read_text(), re.M)
    assert {"2.1", "3.4", "4.2", "5.1"} <= set(headings)  # the numbered layout the code cites
    cited = {(str(p.relative_to(ROOT)), number) for p in _project_text_files()
             for number in DESIGN_CITATION.findall(p.read_text(errors="replace"))}
    assert len(cited) >= 10  # the package cites it throughout
    assert sorted(c for c in cited if c[1] not in headings) == []
