"""Fixtures of the browser tests: a JupyterLab server on copies of the notebooks, a headless Chromium, a page.

The tests need Debian's Chromium and the ``playwright`` package (Playwright's own browser download
is not available everywhere, so it drives the system's binary). Without them the tests skip with
the install hint; ``make test-browser`` sets ``SASR_LITE_REQUIRE_BROWSER=1``, which turns the skip
into a failure. ``SASR_LITE_CHROMIUM`` points at another Chromium binary (a path that does not
exist hides Chromium). On failure a test leaves screenshots and a dump of every cell's outputs in
its temporary folder and prints where.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from lab_page import LabPage, dump
from lab_server import LabServer

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# /usr/bin/chromium is a wrapper script; Playwright must start the binary itself
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"
INSTALL_HINT = "browser tests need Chromium and Playwright: apt-get install chromium; pip install -e '.[notebooks,dev]'"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    path = os.environ.get("SASR_LITE_CHROMIUM", DEBIAN_CHROMIUM)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary; skips (fails under ``SASR_LITE_REQUIRE_BROWSER=1``) without it or Playwright.
    `lab_server` asks for it too, so that no server starts for tests that skip."""
    path = chromium_path()
    if path is None or importlib.util.find_spec("playwright") is None:
        missing = "Chromium" if path is None else "the playwright package"
        if os.environ.get("SASR_LITE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing} not found; {INSTALL_HINT}", pytrace=False)
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def lab_server(chromium, tmp_path_factory):
    """JupyterLab at the test scale serving ``run/`` (notebooks to execute) and ``committed/`` (to open only)."""
    home = tmp_path_factory.mktemp("jupyterlab")
    for folder in ("run", "committed"):
        (home / "root" / folder).mkdir(parents=True)
        for notebook in NOTEBOOKS.glob("*.ipynb"):
            shutil.copy2(notebook, home / "root" / folder)
    server = LabServer(home / "root", home)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lab(browser, lab_server):
    """A page with JupyterLab open on a fresh workspace, shared by one test module."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = LabPage(context.new_page(), lab_server.url("lab?reset"))
    yield page
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, for `failure_artefacts`."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def failure_artefacts(request, tmp_path):
    """After a failed test that used a page: a screenshot of the page and of every output area, and a
    text dump of every cell's outputs of the notebooks it opened, in the test's temporary folder."""
    yield
    report = getattr(request.node, "report_call", None)
    lab: LabPage | None = request.node.funcargs.get("lab")
    if report is None or not report.failed or lab is None:
        return
    folder = tmp_path / "failure"
    folder.mkdir()
    lab.page.screenshot(path=folder / "page.png")
    for path in lab.opened:
        (folder / f"{Path(path).stem}.outputs.txt").write_text(dump(lab.outputs(path)))
    # JupyterLab scrolls inside its own panel: a page screenshot shows one screenful, these show every output
    for i, area in enumerate(lab.page.locator(".jp-Cell-outputArea:has(.jp-OutputArea-child):visible").all()):
        area.screenshot(path=folder / f"output-{i:02d}.png", timeout=10_000)
    print(f"\nbrowser test artefacts: {folder} (JupyterLab's log: {request.node.funcargs['lab_server'].log})")
