"""nbflow's JupyterLab extension in a real JupyterLab 4, driven by Debian's chromium.

All scenarios share a Lab of its own (its runtime directory, where kernels publish their
run boards, is a temporary one); screenshots go to ``test-artifacts/lab_ext_*.png``.

- A notebook runs a five-task graph in the foreground with ``%nbflow run`` (one task
  waits for a gate file, so the run stays live): the nbflow panel lists the run, a click
  opens its graph view, whose node states follow the run (some done, one running, then
  all done). "Why would it run?" asked while the kernel is busy says "queued", then
  answers. "Run from here" from a node's context menu runs that node and everything
  downstream of it again in the run's kernel (marker files count each task's runs:
  exactly those ran again) and opens the new run's graph; the NotebookTask's executed
  notebook opens in Lab from its detail; "nbflow: Run task..." starts a run in the
  notebook's kernel.
- "nbflow: Connect to server..." connects the panel to a real ``nbflow server`` (a
  token, SQLite) that ran a two-task graph: its state and its graph run show, and the
  run's graph draws.
- In the dark theme, a 321-task run is drawn with its big family as one group node,
  which a double-click opens into its tasks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import REPOSITORY, _serve
from tests.browser.live_run import open_notebook, write_cells

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning")]

#: The graph: LabExtract -> LabClean -> {LabReport, LabSummary (a NotebookTask)},
#: LabExtract -> LabStats; LabAll wraps the leaves. Every run appends to a marker file.
TASKS = """\
import os
import time

import nbflow


def mark(name):
    with open(f"marks/{name}.txt", "a") as marks:
        marks.write("ran\\n")


class LabStep(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(f"out/{type(self).__name__}.txt")

    def run(self):
        mark(type(self).__name__)
        with self.output().open("w") as out:
            out.write("ok")


class LabExtract(LabStep):
    pass


class LabClean(LabStep):
    def requires(self):
        return LabExtract()


class LabStats(LabStep):
    def requires(self):
        return LabExtract()


class LabReport(LabStep):
    def requires(self):
        return LabClean()

    def run(self):
        self.set_status_message("waiting for the gate")
        while not os.path.exists("gate"):
            time.sleep(0.05)
        super().run()


class LabSummary(nbflow.NotebookTask):
    notebook = "summary.ipynb"

    def requires(self):
        return LabClean()

    def output(self):
        return nbflow.LocalTarget("out/LabSummary.txt")


class LabAll(nbflow.WrapperTask):
    def requires(self):
        return [LabReport(), LabStats(), LabSummary()]
"""

#: The graph view on show (other tabs' are hidden).
GRAPH = ".jp-MainAreaWidget:not(.lm-mod-hidden) > .nbflow-lab-graph"
#: What the page sees of the graph view's nodes: {family: drawn state}.
NODE_STATES = f"""() => Object.fromEntries(
  [...document.querySelectorAll('{GRAPH} g.node')]
    .map(g => [g.dataset.id.split('_')[0], g.dataset.state]))"""

FAMILIES = ("LabExtract", "LabClean", "LabStats", "LabReport", "LabSummary", "LabAll")


def _summary_notebook(root: Path) -> None:
    """The NotebookTask's notebook: writes its product and a marker."""
    marks = root / "marks" / "LabSummary.txt"
    sources = [
        "upstream = None\nproduct = None",
        (
            "from pathlib import Path\n"
            "Path(product['output']).write_text('summary')\n"
            f"with open({str(marks)!r}, 'a') as marks:\n"
            "    marks.write('ran\\n')"
        ),
    ]
    cells: list[dict[str, object]] = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": source}
        for source in sources
    ]  # fmt: skip
    cells[0]["metadata"] = {"tags": ["parameters"]}
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    (root / "summary.ipynb").write_text(json.dumps(notebook))


def _runs(lab: Server, path: str = "runs") -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310  (http on 127.0.0.1)
        f"{lab.url}/nbflow/api/{path}", headers={"Authorization": f"token {lab.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def nbflow_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A JupyterLab whose kernels publish their runs into a runtime dir of its own."""
    base = tmp_path_factory.mktemp("lab_extension")
    options = [
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(base / "runtime"))
        serving = _serve("lab", base, options, "LabApp.user_settings_dir")
        server = serving.__enter__()
    try:
        try:
            _runs(server)
        except OSError as error:
            pytest.fail(
                f"GET /nbflow/api/runs failed ({error}): nbflow's Jupyter server "
                "extension is not enabled. Fix: pip install -e . (it installs "
                "etc/jupyter/jupyter_server_config.d/nbflow.json)"
            )
        yield server
    finally:
        serving.__exit__(None, None, None)


def _node_states(page: Page) -> dict[str, str]:
    return page.evaluate(NODE_STATES)  # type: ignore[no-any-return]


def _wait_states(page: Page, expected: dict[str, str], timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"""(expected) => {{
          const states = ({NODE_STATES})();
          return Object.entries(expected).every(([k, v]) => states[k] === v);
        }}""",
        arg=expected,
        timeout=timeout,
    )


def _marks(root: Path) -> dict[str, int]:
    return {
        family: len((root / "marks" / f"{family}.txt").read_text().splitlines())
        for family in FAMILIES
        if (root / "marks" / f"{family}.txt").exists()
    }


def _open_graph_of_run(page: Page, number: int) -> None:
    """Click run ``number`` in the panel; wait for its graph view's nodes."""
    row = page.locator(f".nbflow-lab-run[data-number='{number}']")
    row.wait_for(timeout=30_000)
    row.click()
    page.wait_for_selector(f"{GRAPH} g.node", timeout=30_000)


def test_lab_extension_panel_graph_run_from_here_and_executed_notebook(
    browser: Browser, nbflow_lab: Server, artifacts: Path
) -> None:
    root = nbflow_lab.root
    (root / "marks").mkdir()
    _summary_notebook(root)
    path = write_cells(
        root,
        "lab_ext.ipynb",
        ["%load_ext nbflow", TASKS, "%nbflow run LabAll"],
    )
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    try:
        open_notebook(page, nbflow_lab, f"lab/tree/{path}")
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )

        # the panel lists the run while it goes on; its graph shows live states
        page.evaluate("() => window.jupyterapp.commands.execute('nbflow:open-runs')")
        page.wait_for_selector(
            ".nbflow-lab-run[data-number='1'].nbflow-lab-run-running", timeout=45_000
        )
        _open_graph_of_run(page, 1)
        _wait_states(
            page, {"LabExtract": "DONE", "LabClean": "DONE", "LabReport": "RUNNING"}
        )
        page.locator(f"{GRAPH} g.node[data-id^='LabReport_']").click()
        page.wait_for_selector(
            ".nbflow-lab-detail :text('waiting for the gate')", timeout=10_000
        )
        panel_text = page.inner_text("#nbflow-runs")
        assert "LabAll" in panel_text
        assert "lab_ext.ipynb" in panel_text
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_running.png")

        # the kernel is busy with the foreground run: a question waits its turn
        page.get_by_role("button", name="Why would it run?").click()
        page.wait_for_selector(
            f"{GRAPH} .nbflow-lab-answer :text('queued (the kernel is busy)')",
            timeout=10_000,
        )
        (root / "gate").write_text("open")
        answer = page.wait_for_selector(
            f"{GRAPH} .nbflow-lab-detail .nbflow-lab-answer pre", timeout=60_000
        )
        assert answer is not None
        assert "LabReport" in answer.inner_text()
        _wait_states(page, dict.fromkeys(FAMILIES[:5], "DONE"), timeout=60_000)
        page.wait_for_selector(
            ".nbflow-lab-run[data-number='1'].nbflow-lab-run-succeeded", timeout=30_000
        )
        assert _marks(root) == dict.fromkeys(FAMILIES[:5], 1)
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_done.png")

        # "Why would it run?" from the detail of a task: the kernel's answer, as text
        page.locator(f"{GRAPH} g.node[data-id^='LabStats_']").click()
        page.get_by_role("button", name="Why would it run?").click()
        why = page.wait_for_selector(
            f"{GRAPH} .nbflow-lab-detail .nbflow-lab-answer pre", timeout=30_000
        )
        assert why is not None
        assert "LabStats" in why.inner_text()

        # "Run from here" from LabClean's context menu: it and its downstream run again
        page.locator(f"{GRAPH} g.node[data-id^='LabClean_']").click(button="right")
        item = page.locator(".lm-Menu-item:has-text('Run from here')")
        item.wait_for(timeout=10_000)
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_menu.png")
        item.click()
        page.wait_for_selector(
            ".nbflow-lab-run[data-number='2'].nbflow-lab-run-succeeded", timeout=60_000
        )
        assert _marks(root) == {
            "LabExtract": 1, "LabStats": 1, "LabClean": 2, "LabReport": 2, "LabSummary": 2
        }  # fmt: skip
        # the new run's graph opened by itself
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget?.title.label.includes('#2')",
            timeout=15_000,
        )
        _wait_states(
            page,
            dict.fromkeys(("LabClean", "LabReport", "LabSummary", "LabAll"), "DONE"),
        )
        page.wait_for_timeout(600)  # the picture after graph.css's colour transition
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_rerun.png")

        # the NotebookTask's executed notebook opens in Lab from its detail
        page.locator(f"{GRAPH} g.node[data-id^='LabSummary_']").click()
        link = page.locator(
            f"{GRAPH} .nbflow-lab-detail .nbflow-lab-file[title^='Open executed/']"
        )
        link.first.click()
        page.wait_for_function(
            "() => (window.jupyterapp.shell.currentWidget?.context?.path || '')"
            ".startsWith('executed/')",
            timeout=30_000,
        )
        page.wait_for_selector(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=30_000
        )
        page.screenshot(
            animations="disabled", path=artifacts / "lab_ext_executed_notebook.png"
        )

        # "nbflow: Run task..." runs in the current notebook's kernel, in the background
        page.get_by_role("tab", name="lab_ext.ipynb", exact=True).click()
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('nbflow:run-task'); }"
        )
        page.locator(".jp-Dialog input").fill("LabStats --force LabStats")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.wait_for_selector(
            ".nbflow-lab-run[data-number='3'].nbflow-lab-run-succeeded", timeout=30_000
        )
        assert _marks(root)["LabStats"] == 2
        assert errors == []
    except Exception:
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_failure.png")
        log = nbflow_lab.log.read_text(errors="replace")[-3000:]
        notebook = page.evaluate(
            "() => document.querySelector('.jp-NotebookPanel')?.innerText || ''"
        )
        found = _runs(nbflow_lab)
        failures = [
            (task_id, task.get("error"), task.get("traceback"))
            for kernel in found["kernels"]
            for run in kernel["runs"]
            for task_id, task in _runs(
                nbflow_lab, f"runs/{kernel['kernel_id']}/{run['number']}"
            )["tasks"].items()
            if task.get("error")
        ]
        runs = f"{json.dumps(found)[-3000:]}\nfailures: {failures}"
        marks = _marks(root)
        pytest.fail(
            f"page errors: {errors}\nmarks: {marks}\nruns: {runs}\n"
            f"notebook:\n{notebook[-3000:]}\nserver log:\n{log}"
        )
    finally:
        page.close()


#: A pipeline an nbflow server schedules (run by ``nbflow run --scheduler-url``).
SERVER_PIPELINE = """\
import nbflow


class LabServerLeaf(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget("out/leaf.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("ok")


class LabServerRoot(nbflow.Task):
    def requires(self):
        return LabServerLeaf()

    def output(self):
        return nbflow.LocalTarget("out/root.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("ok")
"""
SERVER_TOKEN = "lab-extension-test-token-0123456789"  # noqa: S105


@pytest.fixture(scope="module")
def nbflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An nbflow server (SQLite, a token) that ran LabServerRoot once; its URL."""
    folder = tmp_path_factory.mktemp("nbflow_server")
    (folder / "lab_server_pipeline.py").write_text(SERVER_PIPELINE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NBFLOW_TOKEN": SERVER_TOKEN,
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPOSITORY)]),
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "server", "--port", str(port),
             "--db", f"sqlite:///{folder / 'server.db'}"],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"nbflow server did not start:\n{log.read_text()[-3000:]}"
                    )
                time.sleep(0.2)
        ran = subprocess.run(
            [sys.executable, "-m", "nbflow", "run", "--scheduler-url", url,
             "--module", "lab_server_pipeline", "LabServerRoot"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        yield url
    finally:
        process.terminate()
        process.wait(30)


def test_lab_extension_connects_to_an_nbflow_server_and_draws_its_run(
    browser: Browser, nbflow_lab: Server, nbflow_server: str, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    try:
        page.goto(nbflow_lab.page_url("lab") + "&reset")
        page.wait_for_function(
            "() => window.jupyterapp?.commands.hasCommand('nbflow:connect-server')",
            timeout=45_000,
        )
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('nbflow:open-runs'); }"
        )
        # "nbflow: Connect to server...": the URL, then the token
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('nbflow:connect-server'); }"
        )
        page.locator(".jp-Dialog input").fill(nbflow_server)
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.locator(".jp-Dialog input[type='password']").fill(SERVER_TOKEN)
        page.locator(".jp-Dialog .jp-mod-accept").click()

        page.wait_for_selector(
            f".nbflow-lab-server :text('{nbflow_server} (connected)')", timeout=30_000
        )
        server_text = page.inner_text(".nbflow-lab-server")
        assert "2 tasks" in server_text
        assert "2 done" in server_text
        page.locator(".nbflow-lab-server .nbflow-lab-run").first.click()
        _wait_states(page, {"LabServerLeaf": "DONE", "LabServerRoot": "DONE"})
        page.screenshot(animations="disabled", path=artifacts / "lab_ext_server.png")
        assert errors == []
    except Exception:
        page.screenshot(
            animations="disabled", path=artifacts / "lab_ext_server_failure.png"
        )
        log = nbflow_lab.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"page errors: {errors}\nLab's log:\n{log}")
    finally:
        page.close()


#: A run of 321 tasks: drawn with its 320-task family as one group node.
WIDE_TASKS = """\
import nbflow


class LabWide(nbflow.Task):
    i = nbflow.IntParameter()

    def complete(self):
        return getattr(self, "_done", False)

    def run(self):
        self._done = True


class LabWideRoot(nbflow.WrapperTask):
    def requires(self):
        return [LabWide(i=i) for i in range(320)]
"""


def test_lab_extension_group_opens_on_double_click_in_the_dark_theme(
    browser: Browser, nbflow_lab: Server, artifacts: Path
) -> None:
    path = write_cells(
        nbflow_lab.root, "lab_ext_wide.ipynb", ["%load_ext nbflow", WIDE_TASKS]
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    try:
        open_notebook(page, nbflow_lab, f"lab/tree/{path}")
        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Dark'})"
        )
        page.evaluate(
            "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
        )
        # nbflow: Run task... in this notebook's kernel
        page.evaluate(
            "() => { window.jupyterapp.commands.execute('nbflow:run-task'); }"
        )
        page.locator(".jp-Dialog input").fill("LabWideRoot")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        row = page.locator(
            ".nbflow-lab-kernel:has-text('lab_ext_wide.ipynb') .nbflow-lab-run-succeeded"
        )
        row.wait_for(timeout=60_000)
        row.click()
        group = page.locator(f"{GRAPH} g.node[data-id='family:LabWide']")
        group.wait_for(timeout=30_000)
        group.click()
        page.wait_for_selector(f"{GRAPH} .nbflow-lab-detail :text('320 done')")
        page.screenshot(
            animations="disabled", path=artifacts / "lab_ext_group_dark.png"
        )

        group.dblclick()
        page.wait_for_function(
            f"""() => document.querySelectorAll(
                "{GRAPH} g.node[data-id^='LabWide_']").length === 320""",
            timeout=30_000,
        )
        assert page.locator(f"{GRAPH} g.node[data-id='family:LabWide']").count() == 0
        # the group is drawn no more: its detail gives way to the hint
        page.wait_for_selector(f"{GRAPH} .nbflow-lab-detail :text('Click a task')")
        page.screenshot(
            animations="disabled", path=artifacts / "lab_ext_group_opened_dark.png"
        )
        assert errors == []
    except Exception:
        page.screenshot(
            animations="disabled", path=artifacts / "lab_ext_group_failure.png"
        )
        log = nbflow_lab.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"page errors: {errors}\nLab's log:\n{log}")
    finally:
        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Light'})"
        )
        page.close()
