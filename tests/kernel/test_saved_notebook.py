"""Runs shown as widgets leave their last state in the saved notebook (real kernels).

A notebook is executed by nbclient in a kernel that shows runs as widgets (as
JupyterLab does), saved, and converted with nbconvert: the saved outputs must be the
runs' last states (no widget views that need the kernel, no text recorded while they
ran). A background run's end is watched on a real kernel's message stream.
"""

from __future__ import annotations

import json
import queue
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.kernel, pytest.mark.notebook]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "%load_ext nbflow\nimport os, tempfile, nbflow\nworkdir = tempfile.mkdtemp()",
    (
        "class SavedClean(nbflow.Task):\n"
        "    day = nbflow.DateParameter()\n"
        "    def output(self):\n"
        "        return nbflow.LocalTarget(os.path.join(workdir, f'clean-{self.day}'))\n"
        "    def run(self):\n"
        "        print('cleaning', self.day)\n"
        "        raise ValueError('bad rows on ' + str(self.day))\n"
        "class SavedLoad(nbflow.Task):\n"
        "    def output(self):\n"
        "        return nbflow.LocalTarget(os.path.join(workdir, 'load'))\n"
        "    def run(self):\n"
        "        self.output().open('w').close()\n"
        "class SavedReport(nbflow.Task):\n"
        "    day = nbflow.DateParameter()\n"
        "    def requires(self):\n"
        "        return [SavedClean(day=self.day), SavedLoad()]\n"
        "    def output(self):\n"
        "        return nbflow.LocalTarget(os.path.join(workdir, 'report'))\n"
        "    def run(self):\n"
        "        self.output().open('w').close()\n"
    ),
    "%nbflow run SavedReport --day 2024-06-03",
    "%nbflow run SavedLoad",
]


def widget_kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make kernels started from here show runs as widgets, as under JupyterLab."""
    pytest.importorskip("anywidget")
    monkeypatch.setenv("NBFLOW_DISPLAY", "widgets")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


@pytest.fixture
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Execute CELLS with nbclient in a widgets kernel; return the saved notebook."""
    import nbformat
    from nbclient import NotebookClient

    widget_kernel_env(monkeypatch)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", allow_errors=True
    )
    client.execute(cwd=str(tmp_path))
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    return path


def test_saved_notebook_keeps_each_runs_last_state(saved: Path) -> None:
    notebook = json.loads(saved.read_text())
    failed_run, good_run = notebook["cells"][2], notebook["cells"][3]

    for cell in (failed_run, good_run):
        shown = [o for o in cell["outputs"] if o["output_type"] == "display_data"]
        assert len(shown) == 1, cell["outputs"]
        assert set(shown[0]["data"]) == {"text/html", "text/plain"}
    failed_text = "".join(failed_run["outputs"][0]["data"]["text/plain"])
    assert failed_text.startswith(
        "nbflow run 1 (SavedReport(day=2024-06-03)): failed\n"
        "failed: 3 tasks: 1 done, 1 failed, 1 upstream failed · wall "
    )
    assert "failed SavedClean(day=2024-06-03): ValueError: bad rows" in failed_text
    error = "".join(
        "".join(o.get("text", "")) + o.get("evalue", "") for o in failed_run["outputs"]
    )
    assert "%nbflow show SavedClean --day 2024-06-03," in error
    good_text = "".join(good_run["outputs"][0]["data"]["text/plain"])
    assert "succeeded: 1 tasks: 1 complete before the run" in good_text


def test_nbconvert_html_shows_the_final_states(saved: Path) -> None:
    from nbconvert import HTMLExporter

    from nbflow.widgets.snapshot import decode_graph

    page, _ = HTMLExporter().from_filename(str(saved))

    assert "failed: 3 tasks: 1 done, 1 failed, 1 upstream failed" in page
    assert "succeeded: 1 tasks: 1 complete before the run" in page
    graph = decode_graph(page[page.index("nbflow-snapshot") :])
    assert 'class="node FAILED"' in graph
    assert 'class="node UPSTREAM_FAILED"' in graph
    assert "ValueError: bad rows on 2024-06-03" in page
    assert "cleaning 2024-06-03" in page  # the failed task's output tail
    assert "model not found" not in page.lower()
    assert f'<script type="{WIDGET_MIME}">' not in page  # no widget view left
    assert "): running: " not in page  # no text recorded while it ran
    assert "0 tasks: none" not in page


def test_background_failure_updates_its_view_and_says_so(monkeypatch) -> None:
    from jupyter_client.manager import start_new_kernel

    widget_kernel_env(monkeypatch)
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        run_and_wait(client, CELLS[0])
        run_and_wait(
            client, CELLS[1].replace("raise", "import time; time.sleep(1); raise")
        )
        started = client.execute(
            "handle = %nbflow run SavedReport --day 2024-06-04 --background"
        )
        messages = collect_until_notice(client, started)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    displayed = [m for m in messages if m["msg_type"] == "display_data"]
    view, notice = displayed[0], displayed[-1]
    view_id = view["content"]["transient"]["display_id"]
    assert WIDGET_MIME in view["content"]["data"]
    updates = [m for m in messages if m["msg_type"] == "update_display_data"]
    assert [u["content"]["transient"]["display_id"] for u in updates] == [view_id]
    final = updates[0]["content"]["data"]
    assert WIDGET_MIME not in final
    assert "failed: 3 tasks: 1 done, 1 failed, 1 upstream failed" in final["text/plain"]
    text = notice["content"]["data"]["text/plain"]
    assert text.startswith("nbflow run 1 (SavedReport(day=2024-06-04)) failed after ")
    assert "see it with %nbflow show SavedClean --day 2024-06-04." in text
    for message in (*updates, notice):  # in the output of the cell that started it
        assert message["parent_header"]["msg_id"] == started


def run_and_wait(client, code: str) -> None:
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda _: None)
    assert reply["content"]["status"] == "ok", reply["content"]


def collect_until_notice(client, started: str) -> list[dict]:
    """Read iopub until the notice of the run's end (a display with plain text)."""
    messages: list[dict] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        message["msg_type"] = message["header"]["msg_type"]
        messages.append(message)
        data = message["content"].get("data", {})
        if message["msg_type"] == "display_data" and WIDGET_MIME not in data:
            return messages
    pytest.fail(f"no notice of the run's end within 60 s (got {messages!r})")
    return messages  # pragma: no cover
