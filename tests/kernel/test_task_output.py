"""Task output and tracebacks in a real kernel, driven by nbclient as papermill drives it.

What a task prints or logs lands in its ``TaskState.output``, never in the cell that
happens to run; a failing task defined in a cell names it ``Cell In[n]``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.kernel, pytest.mark.notebook]

SETUP = """\
%load_ext nbflow
import json, logging, os, sys, tempfile, time
import nbflow
from nbflow.kernel import current_session
workdir = tempfile.mkdtemp()

def state_of(task):
    return current_session().runs[-1].task(task.task_id)
"""

PRINTER = """\
class OutputPrinter(nbflow.Task):
    n = nbflow.IntParameter(default=1)

    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, f"printer-{self.n}"))

    def run(self):
        print(f"PRINTED-BY-TASK {self.n}")
        print(f"STDERR-OF-TASK {self.n}", file=sys.stderr)
        logging.getLogger("output-printer").warning("LOGGED-BY-TASK %d", self.n)
        with self.output().open("w") as out:
            out.write("x")
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

    def stdout(self, source: str) -> str:
        outputs = self.execute(source)
        errors = [o for o in outputs if o["output_type"] == "error"]
        assert not errors, errors
        return "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    import nbformat
    from nbclient import NotebookClient

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("JPY_SESSION_NAME", raising=False)
        patch.delenv("NBFLOW_DISPLAY", raising=False)
        notebook = nbformat.v4.new_notebook()
        client = NotebookClient(
            notebook, timeout=120, kernel_name="python3", allow_errors=True
        )
        with client.setup_kernel():
            live = Kernel(client, notebook)
            live.execute(SETUP)
            live.execute(PRINTER)
            yield live


@pytest.mark.parametrize(
    ("n", "options"), [(1, ""), (2, "--workers 2"), (3, "--executor processes")]
)
def test_task_prints_land_in_its_state_not_in_the_cell(kernel, n, options) -> None:
    cell = kernel.execute(f"%nbflow run OutputPrinter --n {n} {options}")
    output = json.loads(
        kernel.stdout(f"print(json.dumps(state_of(OutputPrinter(n={n})).output))")
    )

    shown = json.dumps(cell)
    assert "BY-TASK" not in shown
    assert "STDERR-OF-TASK" not in shown
    assert output == [
        f"PRINTED-BY-TASK {n}",
        f"STDERR-OF-TASK {n}",
        f"LOGGED-BY-TASK {n}",
    ]


def test_background_task_output_stays_out_of_later_cells(kernel) -> None:
    kernel.execute(
        "flag = os.path.join(workdir, 'go')\n"
        "class OutputTicker(nbflow.Task):\n"
        "    def run(self):\n"
        "        print('TICK-BEFORE')\n"
        "        while not os.path.exists(flag):\n"
        "            time.sleep(0.01)\n"
        "        print('TICK-AFTER')\n"
        "        logging.getLogger('ticker').warning('TICK-LOGGED')\n"
    )
    started = kernel.execute("handle = %nbflow run OutputTicker --background")

    # the task prints its second line while this cell runs
    later = kernel.execute(
        "open(flag, 'w').close()\nhandle.wait(60)\nprint('the later cell')"
    )
    lines = json.loads(
        kernel.stdout("print(json.dumps(state_of(OutputTicker()).output))")
    )
    stream = kernel.stdout(
        "print(type(sys.stdout).__name__, type(sys.stderr).__name__)"
    )

    assert "TICK" not in json.dumps(started)
    assert "TICK" not in json.dumps(later)
    assert "the later cell" in json.dumps(later)
    assert lines == ["TICK-BEFORE", "TICK-AFTER", "TICK-LOGGED"]
    assert stream.split() == ["OutStream", "OutStream"]


@pytest.mark.parametrize("options", ["", "--executor processes"])
def test_failing_cell_task_traceback_names_the_cell(kernel, options) -> None:
    kernel.execute(
        "class OutputFails(nbflow.Task):\n"
        "    def run(self):\n"
        "        print('about to fail')\n"
        "        raise ValueError('kaboom in a cell')\n"
    )
    kernel.execute(f"%nbflow run OutputFails {options}")
    state = json.loads(
        kernel.stdout(
            "s = state_of(OutputFails())\n"
            "print(json.dumps([s.traceback, s.full_traceback, s.output]))"
        )
    )
    shown, full, output = state

    assert "Cell In[" in shown
    assert ", line 4, in run" in shown
    assert "raise ValueError('kaboom in a cell')" in shown
    assert "ipykernel_" not in shown
    assert "nbflow/core" not in shown
    assert shown.rstrip().endswith("ValueError: kaboom in a cell")
    assert "nbflow/core/execution.py" in full
    assert "Cell In[" in full
    assert output == ["about to fail"]
