"""JupyterLab in a Playwright page: open notebooks, run JupyterLab's own commands, read what is shown.

Commands go through ``window.jupyterapp`` (the server runs with ``expose_app_in_browser``), the
same command registry the menus use, so "Run All" here is the Run menu's ``runmenu:run-all``.
`outputs` pairs every output of a notebook's model with the DOM node JupyterLab rendered for it:
the model says what the kernel sent (an error, a widget view), the node says what the learner sees
(the widget, or its raw ``VBox(...)`` text when the widget manager is missing).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # conftest imports this module before it knows whether Playwright is installed
    from playwright.sync_api import Page

# the notebook panel showing ``path`` (JupyterLab 4: shell.widgets(area) is an iterator)
_PANEL = "const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path);"

_OUTPUTS = _PANEL + """
const text = (value) => [].concat(value ?? []).join('');
return panel.content.widgets.map((cell, index) => {
  const model = cell.model;
  const cellInfo = {index, type: model.type, count: model.executionCount ?? null, trusted: model.trusted, outputs: []};
  if (model.type !== 'code') return cellInfo;
  const children = cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child');
  for (let j = 0; j < model.outputs.length; j++) {
    const out = model.outputs.get(j).toJSON();
    const node = children[j] && children[j].querySelector('.jp-OutputArea-output');
    cellInfo.outputs.push({
      type: out.output_type, mimes: Object.keys(out.data || {}),
      text: out.output_type === 'error' ? `${out.ename}: ${out.evalue}`
                                         : text(out.text ?? (out.data || {})['text/plain']),
      rendered: node && {
        mime: node.dataset.mimeType || null, text: node.innerText.slice(0, 3000),
        widget: node.querySelector('.jupyter-widgets') !== null,
        images: [...node.querySelectorAll('img')].map(img => ({
          loaded: img.complete && img.naturalWidth > 0, visible: img.getBoundingClientRect().width > 0})),
      },
    });
  }
  return cellInfo;
});
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg")
# what JupyterLab shows instead of a widget: its text repr, or the widget manager's placeholders
WIDGET_REPR = re.compile(r"^[A-Z]\w*\((children|value|description|options|layout)=")
WIDGET_PLACEHOLDERS = ("Loading widget", "Error displaying widget")


class LabPage:
    """One browser page with JupyterLab loaded (a fresh workspace)."""

    def __init__(self, page: Page, url: str, timeout_s: float = 90):
        self.page = page
        self.opened: list[str] = []  # notebooks open now, for the failure artefacts
        page.goto(url)
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout_s * 1000)
        page.evaluate("() => window.jupyterapp.restored")

    def command(self, name: str, args: dict | None = None) -> None:
        """Run a JupyterLab command and wait for it (its result, e.g. a widget, stays in the page)."""
        self.page.evaluate("async ([name, args]) => { await window.jupyterapp.commands.execute(name, args); }",
                           [name, args or {}])

    def open(self, path: str, timeout_s: float = 60) -> None:
        """Open the notebook at ``path`` (relative to the server's root) and wait until it is shown."""
        self.command("docmanager:open", {"path": path, "factory": "Notebook"})
        self.opened.append(path)
        self._wait(f"{_PANEL} return panel !== undefined && panel.context.isReady && panel.isRevealed;",
                   path, timeout_s)

    def close(self, path: str) -> None:
        """Close the notebook and end its kernel (one per notebook opened would pile up otherwise)."""
        self._evaluate(f"{_PANEL} return panel.sessionContext.shutdown().then(() => panel.close());", path)
        self.opened.remove(path)

    def wait_kernel_idle(self, path: str, timeout_s: float = 90) -> None:
        """Wait for the notebook's kernel to exist and be idle (the toolbar's "idle" shows before a kernel exists)."""
        self._wait(f"{_PANEL} const kernel = panel.sessionContext.session?.kernel;"
                   "return kernel !== undefined && kernel !== null && kernel.status === 'idle';", path, timeout_s)

    def run_all(self, path: str, timeout_s: float) -> None:
        """Run menu > Run All, then wait until every code cell has run and the kernel is idle, or a cell
        failed, or the kernel died (the checks on `outputs` then say what went wrong)."""
        self.command("runmenu:run-all")
        self._wait(f"""{_PANEL}
            const cells = [...panel.content.widgets].map(cell => cell.model).filter(m => m.type === 'code');
            const failed = cells.some(m => [...Array(m.outputs.length).keys()]
                                             .some(j => m.outputs.get(j).type === 'error'));
            const ran = cells.every(m => m.executionCount);
            const status = panel.sessionContext.session.kernel.status;
            return status === 'dead' || ((failed || ran) && status === 'idle');""", path, timeout_s)

    def wait_images_loaded(self, path: str, timeout_s: float = 30) -> None:
        self._wait(f"{_PANEL} return [...panel.node.querySelectorAll('.jp-OutputArea-output img')]"
                   ".every(img => img.complete);", path, timeout_s)

    def wait_no_placeholders(self, path: str, timeout_s: float = 30) -> None:
        """Widget views show "Loading widget..." for a moment; give them time (the assertions then tell)."""
        placeholders = repr(list(WIDGET_PLACEHOLDERS))
        try:
            self._wait(f"{_PANEL} const texts = [...panel.node.querySelectorAll('.jp-OutputArea-output')]"
                       f".map(n => n.innerText); return !texts.some(t => {placeholders}.some(p => t.includes(p)));",
                       path, timeout_s)
        except TimeoutError:
            pass

    def outputs(self, path: str) -> list[dict]:
        """Every cell of the notebook: type, execution count, trust, and each output as sent and as rendered."""
        return self._evaluate(_OUTPUTS, path)

    def _evaluate(self, body: str, path: str):
        return self.page.evaluate(f"(path) => {{ {body} }}", path)

    def _wait(self, body: str, path: str, timeout_s: float) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(f"(path) => {{ {body} }}", arg=path, timeout=timeout_s * 1000, polling=250)
        except PlaywrightTimeout as error:
            raise TimeoutError(f"{path}: not done after {timeout_s} s") from error


# --- what the checks read from `LabPage.outputs` ---------------------------------------------------
def errors(cells: list[dict]) -> list[str]:
    return [f"cell {c['index']}: {o['text']}" for c in cells for o in c["outputs"] if o["type"] == "error"]


def unrendered_widgets(cells: list[dict]) -> list[str]:
    """Widget outputs shown as anything but a widget (e.g. their text when no widget manager is loaded),
    and raw widget reprs anywhere."""
    found = []
    for cell in cells:
        for out in cell["outputs"]:
            shown = out["rendered"] or {"mime": None, "text": "", "widget": False}
            if WIDGET_VIEW in out["mimes"] and not shown["widget"]:
                found.append(f"cell {cell['index']}: a widget shown as {shown['mime']!r}: {shown['text'][:80]!r}")
            elif WIDGET_REPR.match(shown["text"]):
                found.append(f"cell {cell['index']}: {shown['text'][:80]!r}")
    return found


def placeholders(cells: list[dict]) -> list[str]:
    """Outputs showing the widget manager's "Loading widget..." or "Error displaying widget"."""
    return [f"cell {c['index']}: {o['rendered']['text'][:80]!r}" for c in cells for o in c["outputs"]
            if o["rendered"] and any(p in o["rendered"]["text"] for p in WIDGET_PLACEHOLDERS)]


def shown_images(cell: dict) -> int:
    """Images of the cell's outputs that loaded and take up space on the page."""
    return sum(img["loaded"] and img["visible"]
               for out in cell["outputs"] if out["rendered"] for img in out["rendered"]["images"])


def dump(cells: list[dict]) -> str:
    """A plain-text record of every cell's outputs, as sent and as rendered (a failure's artefact)."""
    lines = []
    for cell in cells:
        lines.append(f"--- cell {cell['index']} ({cell['type']}, count {cell['count']}, trusted {cell['trusted']})")
        for out in cell["outputs"]:
            shown = out["rendered"] or {}
            lines.append(f"  [{out['type']} {', '.join(out['mimes'])}] rendered as {shown.get('mime')!r}, "
                         f"widget {shown.get('widget')}, images {shown.get('images')}")
            lines.extend("    " + line for line in (shown.get("text") or out["text"]).splitlines()[:40])
    return "\n".join(lines) + "\n"
