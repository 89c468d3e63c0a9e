"""Notebook 11 in JupyterLab, as a learner uses it: Run All, then every control of the probe redraws it.

tests/test_probe.py drives the panel's Python objects; only a browser shows whether the widget
manager renders the panel at all (without it, or in an untrusted notebook, the page shows the text
``VBox(children=...``) and whether a click, a pick or a typed question reaches the kernel and comes
back as a new picture. The panel's figure is an Image widget: each redraw gives its ``img`` a new
blob URL, and the element screenshots before and after must differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from lab_page import LabPage, errors, placeholders, unrendered_widgets

pytestmark = pytest.mark.browser
T = TypeVar("T")

NOTEBOOK = "run/11_attention_probe.ipynb"
RUN_ALL_TIMEOUT_S = 300  # a clean copy generates the tiny benchmark and trains the test model first (~25 s)
REDRAW_TIMEOUT_S = 60  # each redraw takes 1-2 s; a busy machine (make test) can be much slower
TYPED = "Is the piano playing?"


IMAGE = ".jp-OutputArea-output .widget-vbox img.widget-image"  # the probe's picture (the static copy is no widget)
# the notebook's kernel status and the picture's source, read together
_STATE = """([path, sel]) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path);
  const kernel = panel.sessionContext.session?.kernel;
  const img = document.querySelector(sel);
  return {idle: !!kernel && kernel.status === 'idle', src: img ? img.src : null};
}"""


class Panel:
    """The probe's widgets on the page; `changes` performs one action and checks the picture changed."""

    def __init__(self, lab: LabPage, save_to):
        self.lab, self.save_to = lab, save_to
        self.node = lab.page.locator(".jp-OutputArea-output .widget-vbox:has(img.widget-image)")
        self.image = self.node.locator("img.widget-image")
        self.shots: list[bytes] = []  # each also kept as NN-<step>.png in the test's folder

    def dropdown(self, label: str):
        return self.node.locator(f".widget-dropdown:has(label:text-is('{label}')) select")

    @property
    def status(self) -> str:
        return self.node.locator(".widget-html-content").inner_text()

    def screenshot(self, step: str) -> None:
        """An element screenshot of the picture once it is decoded (a screenshot taken while the new
        blob is still loading is blank, and two blank ones would look like no change)."""
        self.lab.page.wait_for_function(
            "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
            arg=IMAGE, timeout=REDRAW_TIMEOUT_S * 1000)
        name = f"{len(self.shots) + 1:02d}-{step.replace(' ', '-')}.png"
        self.shots.append(self.image.screenshot(path=self.save_to / name))

    def settle(self, quiet_s: float = 1.5) -> None:
        """Wait until the kernel has been idle and the picture unchanged for ``quiet_s``. One action
        can queue several redraws (a slider drag sends a value per step of the mouse), and the kernel
        shows idle for a moment between them, so one idle reading does not mean they are done."""
        deadline, quiet_since, last = time.monotonic() + REDRAW_TIMEOUT_S, None, None
        while time.monotonic() < deadline:
            state = self.lab.page.evaluate(_STATE, [NOTEBOOK, IMAGE])
            now = time.monotonic()
            if state != last or not state["idle"]:
                quiet_since, last = now, state
            elif now - quiet_since >= quiet_s:
                return
            self.lab.page.wait_for_timeout(250)
        raise TimeoutError(f"the probe kept redrawing or the kernel stayed busy for {REDRAW_TIMEOUT_S} s")

    def changes(self, step: str, action: Callable[[], T]) -> T:
        """Do ``action``, wait until the kernel sent a new picture and every redraw it caused is done,
        and assert that the picture differs from the last screenshot; returns what ``action`` returned."""
        self.settle()
        src = self.image.get_attribute("src")
        result = action()
        # the element is found again at each poll: a redraw may replace it
        self.lab.page.wait_for_function(
            "([sel, src]) => { const img = document.querySelector(sel); return img && img.src !== src; }",
            arg=[IMAGE, src], timeout=REDRAW_TIMEOUT_S * 1000)
        self.settle()
        self.screenshot(step)
        assert self.shots[-1] != self.shots[-2], f"the probe's picture did not change after: {step}"
        return result

    def drag_segment(self, fraction: float) -> None:
        """Drag the segment slider's handle to ``fraction`` of the track, with the mouse."""
        self.node.locator(".widget-slider").scroll_into_view_if_needed()  # the mouse works in the viewport
        handle = self.node.locator(".widget-slider .noUi-handle").bounding_box()
        track = self.node.locator(".widget-slider .noUi-base").bounding_box()
        y = handle["y"] + handle["height"] / 2
        self.lab.page.mouse.move(handle["x"] + handle["width"] / 2, y)
        self.lab.page.mouse.down()
        self.lab.page.mouse.move(track["x"] + fraction * track["width"], y, steps=8)
        self.lab.page.mouse.up()

    def pick_another(self, label: str) -> str:
        """Select the option after the current one in the ``label`` dropdown; returns its text."""
        select = self.dropdown(label)
        options = select.locator("option").all_inner_texts()
        index = (select.evaluate("s => s.selectedIndex") + 1) % len(options)
        select.select_option(index=index)
        return options[index]


def test_probe_renders_after_run_all_and_every_control_redraws_it(lab, tmp_path):
    lab.open(NOTEBOOK)
    lab.wait_kernel_idle(NOTEBOOK)
    lab.command("notebook:clear-all-cell-outputs")
    cleared = lab.outputs(NOTEBOOK)
    assert not any(c["outputs"] or c["count"] for c in cleared), "the committed outputs are still there"

    lab.run_all(NOTEBOOK, RUN_ALL_TIMEOUT_S)
    lab.wait_no_placeholders(NOTEBOOK)
    cells = lab.outputs(NOTEBOOK)
    assert not errors(cells), f"Run All raised: {errors(cells)}"
    assert all(c["count"] for c in cells if c["type"] == "code"), "Run All left cells unrun"
    assert not unrendered_widgets(cells), f"widgets not rendered: {unrendered_widgets(cells)}"
    assert not placeholders(cells), f"widgets still loading: {placeholders(cells)}"

    panel = Panel(lab, tmp_path)
    assert panel.image.count() == 1, "no probe panel with its picture on the page"
    panel.screenshot("after-run-all")

    readout = panel.node.locator(".widget-readout")
    last = readout.inner_text()  # the notebook moved the slider to the last segment
    panel.changes("segment slider", lambda: panel.drag_segment(0.3))
    assert readout.inner_text() != last

    question = panel.changes("another question", lambda: panel.pick_another("question"))
    assert " ".join(question.split()[:3]) in panel.status

    questions = panel.dropdown("question").locator("option").all_inner_texts()
    panel.changes("another video", lambda: panel.pick_another("video"))
    assert panel.dropdown("question").locator("option").all_inner_texts() != questions, "the video's questions"

    typed = panel.node.locator(".widget-text input")
    panel.changes("typed question", lambda: (typed.fill(TYPED), typed.press("Enter")))
    assert TYPED.rstrip("?") in panel.status
