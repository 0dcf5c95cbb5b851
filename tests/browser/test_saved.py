"""A saved notebook shows each run's last state in JupyterLab without a kernel.

A notebook runs a pipeline that fails (and one that succeeds) in a real JupyterLab,
is saved by JupyterLab, and is opened again with no kernel running it (its kernel name
points at no kernel, so nothing can start). The runs' outputs must be their final
snapshots: the graph with failed and upstream-failed nodes, the summary in words, the
failure with its error, and no "model not found" or "running" left from the live view.
Screenshots: ``saved_live.png`` (the run just ended, kernel alive),
``saved_reopened.png`` (no kernel) and ``saved_reopened_dark.png`` (dark theme).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from nbflow.widgets.snapshot import decode_graph
from tests.browser.conftest import ARTIFACTS
from tests.browser.live_run import open_notebook

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Server

pytestmark = pytest.mark.slow

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FAILED_SUMMARY = (
    "failed: 3 tasks: 1 complete before the run, 1 failed, 1 upstream failed"
)
TASKS = """\
import os
import nbflow


class SavedClean(nbflow.Task):
    day = nbflow.DateParameter()

    def output(self):
        return nbflow.LocalTarget(f"out/clean-{self.day}.csv")

    def run(self):
        print("reading rows for", self.day)
        raise ValueError(f"bad rows on {self.day}")


class SavedLoad(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget("out/load.csv")

    def run(self):
        with self.output().open("w") as out:
            out.write("ok")


class SavedReport(nbflow.Task):
    day = nbflow.DateParameter()

    def requires(self):
        return [SavedClean(day=self.day), SavedLoad()]

    def output(self):
        return nbflow.LocalTarget(f"out/report-{self.day}.csv")

    def run(self):
        with self.output().open("w") as out:
            out.write("ok")
"""
CELLS = [
    "%load_ext nbflow",
    TASKS,
    "%nbflow run SavedLoad",
    "%nbflow run SavedReport --day 2024-06-03",  # last: a failed cell stops Run All
]
#: WCAG contrast of an element's text with the first opaque background behind it.
CONTRAST = """(element) => {
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const part = (c) => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * part(r) + 0.7152 * part(g) + 0.0722 * part(b);
    };
    let node = element, background = null;
    while (node && node.nodeType === 1) {
        const colour = rgb(getComputedStyle(node).backgroundColor);
        if (colour.length === 3 || (colour.length === 4 && colour[3] > 0.9)) {
            background = colour.slice(0, 3);
            break;
        }
        node = node.parentElement;
    }
    background = background || [255, 255, 255];
    const [a, b] = [luminance(rgb(getComputedStyle(element).color)),
                    luminance(background)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def write_notebook(root: Path, name: str, kernel: str) -> str:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(notebook, root / name)
    return name


def saved_outputs(path: Path) -> list[list[dict]]:
    return [cell.get("outputs", []) for cell in json.loads(path.read_text())["cells"]]


def wait_saved(path: Path, timeout: float = 30) -> list[list[dict]]:
    """Wait until the file on disk holds both runs' snapshots."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outputs = saved_outputs(path)
        if len(outputs) == 4 and all(
            "nbflow-snapshot" in json.dumps(outputs[i]) for i in (2, 3)
        ):
            return outputs
        time.sleep(0.25)
    pytest.fail(f"the saved notebook has no snapshots: {saved_outputs(path)}")
    return []  # pragma: no cover


def run_and_save(page: Page, lab: Server, name: str, artifacts: Path) -> None:
    open_notebook(page, lab, f"lab/tree/{name}")
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    )
    try:
        page.wait_for_function(
            "document.querySelectorAll('.nbflow-snapshot').length === 2",
            timeout=90_000,
        )
    except Exception:
        page.screenshot(animations="disabled", path=artifacts / "saved_failure.png")
        log = lab.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"notebook:\n{page.inner_text('.jp-Notebook')}\nlog:\n{log}")
    page.locator(".nbflow-snapshot").first.scroll_into_view_if_needed()
    page.screenshot(animations="disabled", path=artifacts / "saved_live.png")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")


def reopen_without_kernel(page: Page, lab: Server, name: str) -> None:
    """Open ``name`` (which names no kernel) and choose No Kernel in Lab's dialog."""
    page.goto(lab.page_url(f"lab/workspaces/reopened/tree/{name}"))  # only this one
    page.locator(".jp-Dialog button", has_text="No Kernel").first.click(timeout=45_000)
    try:
        page.wait_for_function(
            "document.querySelectorAll('.nbflow-snapshot').length === 2",
            timeout=30_000,
        )
        page.wait_for_function(  # the graphs are drawn
            "[...document.querySelectorAll('img.nbflow-graph')]"
            ".every((img) => img.complete && img.naturalWidth > 0)",
            timeout=30_000,
        )
    except Exception:
        page.screenshot(
            animations="disabled", path=ARTIFACTS / "saved_reopened_failure.png"
        )
        raise
    assert "No Kernel" in page.inner_text(
        ".jp-Toolbar-kernelName, .jp-StatusBar-Widget"
    )


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_saved_notebook_shows_last_states_without_a_kernel(
    lab: Server, browser: Browser, artifacts: Path
) -> None:
    name = write_notebook(lab.root, "saved_run.ipynb", "python3")
    page = browser.new_page(viewport={"width": 1300, "height": 1300})
    try:
        run_and_save(page, lab, name, artifacts)
        outputs = wait_saved(lab.root / name)
    finally:
        page.close()

    assert WIDGET_MIME not in json.dumps(outputs)
    failed_text = json.dumps(outputs[3])
    assert FAILED_SUMMARY in failed_text
    assert "%nbflow show SavedClean --day 2024-06-03," in failed_text
    reopened = json.loads((lab.root / name).read_text())
    del reopened["metadata"]["kernelspec"]  # nothing to start: Lab asks, we say none
    reopened["metadata"].pop("language_info", None)
    (lab.root / "reopened.ipynb").write_text(json.dumps(reopened))  # not trusted

    page = browser.new_page(viewport={"width": 1300, "height": 1300})
    try:
        reopen_without_kernel(page, lab, "reopened.ipynb")
        page.locator(".nbflow-snapshot").first.scroll_into_view_if_needed()
        page.screenshot(animations="disabled", path=artifacts / "saved_reopened.png")
        text = page.inner_text(".jp-Notebook")

        assert "model not found" not in text.lower()
        assert "Loading widget" not in text
        assert "): running:" not in text
        assert FAILED_SUMMARY in text
        assert "succeeded: 1 tasks: 1 done" in text
        graph = decode_graph(page.locator(".nbflow-snapshot").nth(1).inner_html())
        assert graph.count('class="node FAILED"') == 1
        assert graph.count('class="node UPSTREAM_FAILED"') == 1
        assert "ValueError: bad rows on 2024-06-03" in text
        summary = page.locator(".nbflow-snapshot .nbflow-summary").first
        assert summary.evaluate(CONTRAST) >= 4.5

        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Dark'})"
        )
        page.wait_for_function(
            "document.body.dataset.jpThemeLight === 'false'", timeout=20_000
        )
        page.wait_for_function(  # the dark theme's colours apply to the text
            "(e) => (getComputedStyle(e).color.match(/\\d+/g) || [0])"
            ".map(Number)[0] > 150",
            arg=summary.element_handle(),
            timeout=20_000,
        )
        # the theme switch shows Lab's splash: let it go before the picture
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=20_000)
        page.locator(".nbflow-snapshot").first.scroll_into_view_if_needed()
        page.screenshot(
            animations="disabled", path=artifacts / "saved_reopened_dark.png"
        )

        assert summary.evaluate(CONTRAST) >= 4.5
    finally:
        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Light'})"
        )
        page.close()
