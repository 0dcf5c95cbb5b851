"""The live run view in a real JupyterLab 4, driven by Debian's chromium.

A notebook defines a 20-task graph whose tasks report progress, a status message and a
tracking URL, then runs it with ``%nbflow run Root``. The test watches the DOM: the
tracking link shows up while tasks run, every graph node turns DONE, the overall bar
reaches 100%, and a click on a node opens its details. The screenshot
``test-artifacts/lab_run.png`` shows what a person would see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nbformat
import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Lab

pytestmark = pytest.mark.slow

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
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp?.shell.currentWidget;
    const kernel = panel?.sessionContext?.session?.kernel;
    return kernel?.status === "idle" && panel.content?.widgets?.length > 0;
}"""


def write_notebook(root: Path) -> str:
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
    nbformat.write(notebook, root / "run.ipynb")
    return "run.ipynb"


def show_view(page: Page) -> None:
    """Scroll the notebook so the whole run view is on screen."""
    page.evaluate(
        "document.querySelector('.nbflow-view').scrollIntoView({block: 'end'})"
    )


def open_notebook(page: Page, lab: Lab, name: str) -> None:
    page.goto(lab.page_url(f"lab/tree/{name}"))
    page.wait_for_function(KERNEL_IDLE, timeout=45_000)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_lab_run_view_goes_live_to_done(
    lab: Lab, browser: Browser, artifacts: Path
) -> None:
    name = write_notebook(lab.root)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_notebook(page, lab, name)

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
        show_view(page)
        page.screenshot(path=artifacts / "lab_running.png")
        page.wait_for_function(
            f"document.querySelectorAll('{NODES}.DONE').length === 20", timeout=60_000
        )
        overall = page.wait_for_selector(
            '.nbflow-overall-bar[aria-valuenow="100"]', timeout=10_000
        )
        page.wait_for_selector(".nbflow-summary", timeout=10_000)

        assert page.locator(NODES).count() == 20
        assert "20/20 done (100%)" in page.inner_text(".nbflow-overall")
        assert overall.is_visible()
        assert "succeeded: 20 tasks: 20 done" in page.inner_text(".nbflow-summary")

        page.locator(f"{NODES}[data-id^='Step_7_']").click()
        detail = page.wait_for_selector(".nbflow-detail a.nbflow-link", timeout=10_000)
        assert detail.get_attribute("href") == "https://ci.example.org/logs/step/7"
        assert "Step(i=7)" in page.inner_text(".nbflow-detail-title")
        show_view(page)
        page.screenshot(path=artifacts / "lab_run.png")
        assert errors == []
    except Exception:
        page.screenshot(path=artifacts / "lab_failure.png")
        outputs = page.inner_text(".jp-Notebook")
        log = lab.log.read_text(errors="replace")[-2000:]
        pytest.fail(f"page errors: {errors}\nnotebook:\n{outputs}\nserver log:\n{log}")
    finally:
        page.close()
