"""The live run view scenario shared by the JupyterLab and Notebook 7 browser tests.

A notebook defines a 20-task graph whose tasks report progress, a status message and a
tracking URL, then runs it with ``%nbflow run Root --workers 2``. ``check_live_run``
runs all its cells through the app's command registry (``window.jupyterapp``, exposed
with ``expose_app_in_browser``) and watches the DOM: the tracking link shows up while
tasks run, a click on a node opens its details while the cell still waits, and the
run's last state (which replaces the live view when the run ends) shows every node
DONE. Screenshots show what a person would see.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import nbformat
import pytest

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from playwright.sync_api import Error, Page

    from tests.browser.conftest import Server

TASKS = '''\
import time

import nbflow


class Step(nbflow.Task):
    """One step of three interleaved chains; reports progress as it goes."""

    i = nbflow.IntParameter()

    def requires(self):
        return [Step(i=self.i - 3)] if self.i >= 3 else []

    def output(self):
        return nbflow.LocalTarget(f"out/step_{self.i}.txt")

    def run(self):
        self.set_tracking_url(f"https://ci.example.org/logs/step/{self.i}")
        for percentage in (20, 40, 60, 80, 100):
            self.set_progress_percentage(percentage)
            self.set_status_message(f"step {self.i}: chunk {percentage // 20} of 5")
            time.sleep(0.06)
        with self.output().open("w") as out:
            out.write("ok")


class Root(nbflow.WrapperTask):
    """Everything: 19 steps."""

    def requires(self):
        return [Step(i=i) for i in range(19)]
'''

NODES = ".nbflow-view g.node"
#: A run's last state, which replaces its live view when it ends.
SNAPSHOT = ".nbflow-snapshot"
#: The current widget is notebook ``name``, opened, with an idle kernel (Lab and
#: Notebook 7; Lab may first restore the tabs of an earlier page).
KERNEL_IDLE = """(name) => {
    const panel = window.jupyterapp?.shell.currentWidget;
    const kernel = panel?.sessionContext?.session?.kernel;
    return kernel?.status === "idle" && panel.content?.widgets?.length > 0
        && panel.context?.path === name;
}"""


def write_notebook(root: Path, name: str = "run.ipynb") -> str:
    """Write the notebook into the server's root directory; return its name."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext nbflow"),
        nbformat.v4.new_code_cell(TASKS),
        nbformat.v4.new_code_cell("%nbflow run Root --workers 2"),
    ]
    nbformat.write(notebook, root / name)
    return name


def show_view(page: Page) -> None:
    """Scroll the notebook so the whole run view is on screen."""
    page.evaluate(
        "document.querySelector('.nbflow-view').scrollIntoView({block: 'end'})"
    )


def open_notebook(page: Page, server: Server, path: str) -> None:
    """Open ``path`` (e.g. ``lab/tree/run.ipynb``); wait for an idle kernel."""
    # Lab: a fresh workspace, not the tabs (and kernels) of an earlier page
    page.goto(server.page_url(path) + ("&reset" if path.startswith("lab/") else ""))
    name = re.sub(r"^(lab/tree|notebooks)/", "", path)  # the path in the server's root
    page.wait_for_function(KERNEL_IDLE, arg=name, timeout=45_000)


def _is_upstream(error: Error, upstream_errors: Mapping[str, str]) -> bool:
    """Whether ``error`` is a listed front-end error thrown by the app's own bundle.

    ``upstream_errors`` maps an exact message to the URL fragment of the bundle that
    must hold the innermost stack frame; a stack naming nbflow never matches.
    """
    bundle = upstream_errors.get(error.message)
    frames = [line for line in (error.stack or "").splitlines() if "at " in line]
    return (
        bundle is not None
        and bool(frames)
        and bundle in frames[0]
        and "nbflow" not in (error.stack or "").lower()
    )


def check_live_run(
    page: Page,
    server: Server,
    path: str,
    artifacts: Path,
    stem: str,
    upstream_errors: Mapping[str, str] | None = None,
) -> None:
    """Open the notebook at ``path``, run all cells and check the live view.

    Saves ``<stem>_running.png`` (tasks running, one node's details open) and
    ``<stem>_run.png`` (the run's last state, all done); on failure
    ``<stem>_failure.png`` and a report with the page errors, the notebook's text and
    the server log's tail. Every uncaught page error fails the check, except the front
    end's own known ones listed in ``upstream_errors`` (see ``_is_upstream``).
    """
    errors: list[str] = []

    def record(error: Error) -> None:
        if not _is_upstream(error, upstream_errors or {}):
            errors.append(f"{error.message}\n{error.stack}")

    page.on("pageerror", record)
    try:
        open_notebook(page, server, path)

        # not awaited: the command's promise settles only when every cell has run
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )
        link = page.wait_for_selector(
            '.nbflow-progress-panel a[href^="https://ci.example.org/logs/step/"]',
            timeout=45_000,
        )
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert link.get_attribute("target") == "_blank"
        # while the cell waits, the kernel answers nothing: the view shows what it knows
        page.locator(f"{NODES}[data-id^='Step_0_']").click()
        page.wait_for_selector(".nbflow-detail .nbflow-detail-title", timeout=10_000)
        assert "Step(i=0)" in page.inner_text(".nbflow-detail-title")
        show_view(page)
        page.screenshot(animations="disabled", path=artifacts / f"{stem}_running.png")

        # at its end the run's output becomes its last state, kept when saved
        page.wait_for_selector(f"{SNAPSHOT} .nbflow-summary", timeout=60_000)
        assert final_states(page) == ["DONE"] * 20
        assert "20/20 done (100%)" in page.inner_text(
            f"{SNAPSHOT} .nbflow-overall-text"
        )
        summary = page.inner_text(f"{SNAPSHOT} .nbflow-summary")
        assert "succeeded: 20 tasks: 20 done" in summary
        page.evaluate(f"document.querySelector('{SNAPSHOT}').scrollIntoView()")
        page.screenshot(animations="disabled", path=artifacts / f"{stem}_run.png")
        assert errors == []
    except Exception:
        page.screenshot(animations="disabled", path=artifacts / f"{stem}_failure.png")
        outputs = page.inner_text(".jp-Notebook")
        log = server.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"page errors: {errors}\nnotebook:\n{outputs}\nserver log:\n{log}")


def write_cells(root: Path, name: str, cells: list[str]) -> str:
    """Write a notebook of ``cells`` (code) into ``root``; return its name."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    nbformat.write(notebook, root / name)
    return name


def run_all(page: Page, server: Server, path: str) -> list[str]:
    """Open ``path``, run all its cells (not awaited); return the page errors seen.

    The list fills as errors happen; a test asserts it is empty at its end.
    """
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    open_notebook(page, server, path)
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    )
    return errors


def notebook_text(page: Page, server: Server) -> str:
    """Return the notebook's text and the server log's tail, for a failure report."""
    log = server.log.read_text(errors="replace")[-2000:]
    text = page.evaluate("window.jupyterapp?.shell.currentWidget?.node.innerText")
    return f"notebook:\n{text}\nserver log:\n{log}"


def final_states(page: Page) -> list[str]:
    """Return the sorted node states of the run's last state (inline SVG or image)."""
    inline = page.eval_on_selector_all(
        f"{SNAPSHOT} svg g.node", "nodes => nodes.map(g => g.classList[1])"
    )
    if inline:
        return sorted(inline)
    source = page.get_attribute(f"{SNAPSHOT} img", "src") or ""
    found = re.match(r"data:image/svg\+xml;base64,(.+)", source)
    assert found, f"no graph in the run's last state: {source[:80]!r}"
    root = ET.fromstring(base64.b64decode(found.group(1)))  # noqa: S314  (nbflow's own)
    return sorted(
        group.get("class", "").split()[1]
        for group in root.iter("{http://www.w3.org/2000/svg}g")
        if group.get("class", "").startswith("node ")
    )
