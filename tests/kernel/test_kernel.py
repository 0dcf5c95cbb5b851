"""The extension in a real kernel, driven by nbclient as papermill and nbconvert drive it.

One kernel serves the whole module (a kernel start costs about a second); each test
adds cells to one notebook and executes them in order, like *Run All*.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.kernel, pytest.mark.notebook]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

SETUP = """\
%load_ext nbflow
import os, tempfile, time
import nbflow
workdir = tempfile.mkdtemp()
"""


class Kernel:
    """A live kernel executing cells appended to one notebook."""

    def __init__(self, client, notebook) -> None:
        self.client = client
        self.notebook = notebook

    def execute(self, source: str) -> list[dict]:
        from nbformat.v4 import new_code_cell

        cell = new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return cell.outputs

    def interrupt_after(self, seconds: float) -> threading.Thread:
        def interrupt() -> None:
            time.sleep(seconds)
            asyncio.run(self.client.km.interrupt_kernel())

        thread = threading.Thread(target=interrupt, daemon=True)
        thread.start()
        return thread


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    import nbformat
    from nbclient import NotebookClient

    with pytest.MonkeyPatch.context() as patch:
        # a kernel launched by nbclient, as papermill does: no Jupyter server session
        patch.delenv("JPY_SESSION_NAME", raising=False)
        patch.delenv("NBFLOW_DISPLAY", raising=False)
        notebook = nbformat.v4.new_notebook()
        client = NotebookClient(
            notebook, timeout=60, kernel_name="python3", allow_errors=True
        )
        with client.setup_kernel():
            live = Kernel(client, notebook)
            live.execute(SETUP)
            yield live


def text_of(outputs: list[dict], name: str = "stdout") -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("name") == name)


def assert_one_line_error(outputs: list[dict]) -> str:
    assert not [o for o in outputs if o["output_type"] == "error"], outputs
    stderr = text_of(outputs, "stderr").strip().splitlines()
    assert len(stderr) == 1, stderr
    assert "Traceback" not in json.dumps(outputs)
    return stderr[0]


def define(kernel: Kernel, name: str, body: str, requires: str = "[]") -> None:
    kernel.execute(
        f"class {name}(nbflow.Task):\n"
        "    n = nbflow.IntParameter(default=1)\n"
        f"    def requires(self):\n        return {requires}\n"
        "    def output(self):\n"
        f"        return nbflow.LocalTarget(os.path.join(workdir, f'{name}-{{self.n}}'))\n"
        "    def run(self):\n"
        "        with self.output().open('w') as out:\n"
        f"            out.write({body})\n"
    )


def test_blocking_run_then_the_next_cell_reads_the_output(kernel) -> None:
    define(kernel, "Make", "'made'")

    run = kernel.execute("%nbflow run Make --n 2")
    read = kernel.execute("print(open(os.path.join(workdir, 'Make-2')).read())")

    assert text_of(read) == "made\n"
    out = text_of(run)
    assert "===== nbflow Execution Summary =====" in out
    assert "nbflow run" in out
    assert "succeeded" in out


def test_headless_output_is_text_without_widget_json(kernel) -> None:
    define(kernel, "Plain", "'x'")

    outputs = kernel.execute("%nbflow run Plain")
    graph = kernel.execute("%nbflow graph Plain --n 3")

    everything = json.dumps(outputs + graph)
    assert WIDGET_MIME not in everything
    assert "* 1 ran successfully:" in text_of(outputs)
    assert "to run      Plain(n=3)" in text_of(graph)


def test_redefined_class_runs_the_new_code(kernel) -> None:
    define(kernel, "Versioned", "'v1'")
    kernel.execute("%nbflow run Versioned --n 5")
    define(kernel, "Versioned", "'v2'")

    kernel.execute("os.remove(os.path.join(workdir, 'Versioned-5'))")
    kernel.execute("%nbflow run Versioned --n 5")
    read = kernel.execute("print(open(os.path.join(workdir, 'Versioned-5')).read())")

    assert text_of(read) == "v2\n"


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_notebook_tasks_run_on_threads_and_processes(kernel, executor) -> None:
    define(kernel, "Where", "str(os.getpid())")
    define(kernel, "Top", "'top'", requires="[Where(n=self.n)]")

    outputs = kernel.execute(f"%nbflow run Top --n 7 --executor {executor} --workers 2")
    pid = kernel.execute(
        "print(open(os.path.join(workdir, 'Where-7')).read() == str(os.getpid()))\n"
        "os.remove(os.path.join(workdir, 'Where-7'))\n"
        "os.remove(os.path.join(workdir, 'Top-7'))"
    )

    assert "* 2 ran successfully:" in text_of(outputs), outputs
    assert text_of(pid) == ("True\n" if executor == "threads" else "False\n")


def test_background_run_lets_another_cell_finish_first(kernel) -> None:
    define(kernel, "Sleepy", "'slept'")
    kernel.execute(
        "class Sleepy(Sleepy):\n"
        "    def run(self):\n"
        "        time.sleep(1.5)\n"
        "        super().run()\n"
    )

    started = kernel.execute("handle = %nbflow run Sleepy --n 8 --background")
    other = kernel.execute("print('other cell while', handle.state)")
    waited = kernel.execute("handle.wait(); print('then', handle.state)")

    assert "started in the background" in text_of(started)
    assert text_of(other) == "other cell while running\n"
    assert text_of(waited) == "then succeeded\n"


def test_interrupt_cancels_the_run_and_leaves_no_output(kernel) -> None:
    kernel.execute(
        "class Slow(nbflow.Task):\n"
        "    def output(self):\n"
        "        return nbflow.LocalTarget(os.path.join(workdir, 'slow'))\n"
        "    def run(self):\n"
        "        with self.output().open('w') as out:\n"
        "            for _ in range(400):\n"
        "                time.sleep(0.05)\n"
        "            out.write('done')\n"
    )

    kernel.interrupt_after(1.0)
    begun = time.monotonic()
    outputs = kernel.execute("%nbflow run Slow")
    took = time.monotonic() - begun
    after = kernel.execute(
        "print(sorted(f for f in os.listdir(workdir) if 'slow' in f))"
    )

    assert took < 10
    assert "cancelled after" in text_of(outputs)
    assert "run" in assert_one_line_error(outputs)
    assert "cancelled (got a kernel interrupt)" in text_of(outputs, "stderr")
    assert text_of(after) == "[]\n"


def test_unknown_task_is_one_line_with_did_you_mean(kernel) -> None:
    define(kernel, "Report", "'r'")

    line = assert_one_line_error(kernel.execute("%nbflow run Reprot"))

    assert line.startswith("UsageError: unknown task 'Reprot'")
    assert line.endswith("Did you mean: Report?")


def test_bad_parameter_value_is_one_line(kernel) -> None:
    define(kernel, "Report", "'r'")

    line = assert_one_line_error(kernel.execute("%nbflow run Report --n many"))

    assert "Report.n: invalid value (got 'many')" in line
