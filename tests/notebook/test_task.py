from __future__ import annotations

import datetime as dt
import json
import pickle
import time
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.events import TaskMessage, TaskProgressed, TaskTrackingUrl
from nbflow.core.execution import execute
from nbflow.notebook.params import (
    NotebookFormatError,
    NotebookNotFoundError,
    NotebookParameterError,
)
from nbflow.notebook.task import (
    NotebookCellError,
    NotebookKernelError,
    NotebookTask,
    NotebookTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CLEAN_CELLS: list[Any] = [
    ("# Clean one day", [], "markdown"),
    ("day: str\nfactor: int = 2\nupstream = None\nproduct = None", ["parameters"]),
    "from pathlib import Path\ntext = Path(upstream['raw']).read_text()",
    "Path(product['output']).write_text(text * factor + day)",
]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_notification(self, notification: Any) -> None:
        self.seen.append(notification)


def define_tasks(
    notebook: str = "tasks/clean.ipynb", **options: Any
) -> dict[str, type]:
    class Raw(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget("data/raw.txt")

        def run(self):
            with self.output().open("w") as out:
                out.write("ab")

    body = {
        "notebook": notebook,
        "day": nbflow.Parameter(),
        "factor": nbflow.IntParameter(default=3),
        "note": nbflow.Parameter(default="x", significant=False),
        "requires": lambda self: {"raw": Raw()},
        "output": lambda self: nbflow.LocalTarget(f"data/clean-{self.day}.txt"),
        **options,
    }
    clean = type("Clean", (NotebookTask,), body)

    class Report(nbflow.Task):
        def requires(self):
            return [clean(day="d1"), clean(day="d2")]

        def output(self):
            return nbflow.LocalTarget("data/report.txt")

        def run(self):
            with self.output().open("w") as out:
                for target in self.input():
                    with target.open() as part:
                        out.write(part.read() + "\n")

    return {"Raw": Raw, "Clean": clean, "Report": Report}


# --- without a kernel --------------------------------------------------------------------


def test_notebook_task_is_exposed_lazily_by_the_facade() -> None:
    assert nbflow.NotebookTask is NotebookTask
    assert "NotebookTask" in nbflow.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        nbflow.Nope  # noqa: B018


def test_notebook_parameters_are_the_significant_ones_as_plain_values() -> None:
    class Typed(NotebookTask):
        notebook = "x.ipynb"
        day = nbflow.DateParameter()
        names = nbflow.ListParameter(default=("a", "b"))
        options = nbflow.DictParameter(default={"k": [1, 2]})
        secret = nbflow.Parameter(default="s", significant=False)

    task = Typed(day=dt.date(2024, 6, 1))

    assert task.notebook_parameters() == {
        "day": "2024-06-01",
        "names": ["a", "b"],
        "options": {"k": [1, 2]},
    }


def test_upstream_keys_are_families_with_an_index_when_repeated() -> None:
    tasks = define_tasks()

    class Summary(NotebookTask):
        notebook = "s.ipynb"

        def requires(self):
            return [tasks["Raw"](), tasks["Clean"](day="a"), tasks["Clean"](day="b")]

    assert Summary().upstream_paths() == {
        "Raw": "data/raw.txt",
        "Clean_0": "data/clean-a.txt",
        "Clean_1": "data/clean-b.txt",
    }
    assert tasks["Clean"](day="a").upstream_paths() == {"raw": "data/raw.txt"}


def test_products_come_from_output_and_never_include_the_executed_notebook() -> None:
    class Many(NotebookTask):
        notebook = "m.ipynb"

        def output(self):
            return {
                "table": nbflow.LocalTarget("t.csv"),
                "parts": [nbflow.LocalTarget("p")],
            }

    class Bare(NotebookTask):
        notebook = "b.ipynb"

    class Moved(NotebookTask):
        notebook = "b.ipynb"
        cwd = "/"

        def output(self):
            return nbflow.LocalTarget("t.csv")

    assert Many().product_paths() == {"table": "t.csv", "parts": ["p"]}
    assert Bare().product_paths() == {}
    assert Bare().output().path == f"executed/Bare/{Bare().task_id}.ipynb"
    assert Moved().product_paths()["output"].endswith("/t.csv")
    assert Moved().product_paths()["output"].startswith("/")


def test_complete_needs_the_executed_notebook_too(tmp_path: Path) -> None:
    tasks = define_tasks()
    task = tasks["Clean"](day="d1")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "clean-d1.txt").write_text("done")

    assert not task.complete()

    with task.executed_notebook().open("w") as out:
        out.write("{}")
    assert task.complete()


@pytest.mark.parametrize(
    ("notebook", "error", "fragment"),
    [
        ("", NotebookNotFoundError, "notebook not found (got '')"),
        (
            "tasks/none.ipynb",
            NotebookNotFoundError,
            "notebook not found (got 'tasks/none",
        ),
        ("tasks/text.ipynb", NotebookFormatError, "the file is not valid JSON"),
        ("tasks/v3.ipynb", NotebookFormatError, "unsupported nbformat version"),
        ("tasks/noparams.ipynb", NotebookParameterError, "no cell tagged 'parameters'"),
        (
            "tasks/typed.ipynb",
            NotebookParameterError,
            "parameter 'factor' has the wrong",
        ),
        ("tasks/other.ipynb", NotebookParameterError, "parameter 'day' is not in the"),
        (
            "tasks/nokernel.ipynb",
            NotebookKernelError,
            "kernel not installed (got 'nope",
        ),
    ],
)
def test_validate_rejects_bad_notebooks_before_any_kernel_starts(
    write_notebook: Callable[..., Path],
    tmp_path: Path,
    notebook: str,
    error: type[Exception],
    fragment: str,
) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "text.ipynb").write_text("not json")
    write_notebook("tasks/v3.ipynb", CLEAN_CELLS, nbformat=3)
    write_notebook("tasks/noparams.ipynb", ["x = 1"])
    write_notebook(
        "tasks/typed.ipynb", [("day = 'd'\nfactor = 'many'", ["parameters"])]
    )
    write_notebook("tasks/other.ipynb", [("factor = 1", ["parameters"])])
    write_notebook("tasks/nokernel.ipynb", CLEAN_CELLS, kernel="nope-kernel")
    task = define_tasks(notebook)["Clean"](day="d1")

    started = time.perf_counter()
    with pytest.raises(error) as caught:
        task.run()

    assert fragment in str(caught.value)
    assert "Fix:" in str(caught.value)
    assert time.perf_counter() - started < 2  # no kernel was started
    assert not (tmp_path / "executed").exists()


def test_kernel_error_lists_installed_kernels_and_how_to_install() -> None:
    error = NotebookKernelError("T()", "n.ipynb", "julia", ("python3",))

    assert str(error) == (
        "T() (n.ipynb): kernel not installed (got 'julia'; installed: python3). Expected "
        "the name of an installed Jupyter kernel. Fix: install it (for Python: python -m "
        "ipykernel install --user --name python3), or set kernel_name on the task."
    )


def test_cell_and_timeout_errors_have_where_expected_fix_and_pickle() -> None:
    cell = NotebookCellError(
        "T()", "n.ipynb", 3, "x = 1 / 0", "ZeroDivisionError: boom", "e.ipynb"
    )
    timeout = NotebookTimeoutError("T()", "n.ipynb", 2, "sleep(9)", 1.5, "")

    assert str(cell) == (
        "T() (n.ipynb): cell 3 failed (got ZeroDivisionError: boom, in `x = 1 / 0`). "
        "Expected every cell to run without error. The failed run is kept at e.ipynb. "
        "Fix: correct cell 3 of n.ipynb (or the task's inputs) and run again."
    )
    assert "cell 2 timed out (got more than 1.5 s in `sleep(9)`)" in str(timeout)
    assert "Fix: make the cell faster, or raise execution_timeout" in str(timeout)
    for error in (cell, timeout):
        assert str(pickle.loads(pickle.dumps(error))) == str(error)


# --- with a kernel -----------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_task_runs_between_cell_tasks_with_progress_and_kept_notebook(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_notebook("tasks/clean.ipynb", CLEAN_CELLS)
    tasks = define_tasks()
    recorder = Recorder()

    result = nbflow.build(
        [tasks["Report"]()], detailed_summary=True, workers=2, listeners=[recorder]
    )

    assert result.scheduling_succeeded, result.summary_text
    assert (tmp_path / "data" / "report.txt").read_text() == "abababd1\nabababd2\n"
    clean = tasks["Clean"](day="d1")
    executed = tmp_path / "executed" / "Clean" / f"{clean.task_id}.ipynb"
    notebook = json.loads(executed.read_text())
    assert notebook["metadata"]["nbflow"]["status"] == "done"
    injected = [
        c for c in notebook["cells"] if "injected-parameters" in c["metadata"]["tags"]
    ]
    assert 'day = "d1"' in "".join(injected[0]["source"])
    assert "note" not in "".join(injected[0]["source"])
    leftovers = [
        p.name for p in tmp_path.rglob("*") if "running" in p.name or "tmp" in p.name
    ]
    assert leftovers == []
    mine = [n for n in recorder.seen if getattr(n, "task_id", "") == clean.task_id]
    progress = [n.percentage for n in mine if isinstance(n, TaskProgressed)]
    messages = [n.message for n in mine if isinstance(n, TaskMessage)]
    urls = [n.url for n in mine if isinstance(n, TaskTrackingUrl)]
    assert progress[-1] == 100.0
    assert any(m.startswith("running cell 3 (4/4): Path(product") for m in messages)
    assert urls[-1] == str(executed)
    assert clean.complete()


@pytest.mark.notebook
def test_timeout_fails_the_task_and_keeps_the_partial_notebook_marked_failed(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    import fsspec

    cells = [("n = 1", ["parameters"]), "x = 1", "import time\ntime.sleep(30)"]
    write_notebook("slow.ipynb", cells)

    class Slow(NotebookTask):
        notebook = "slow.ipynb"
        execution_timeout = 1
        executed_dir = "memory://nbflow-tests/executed"

    started = time.perf_counter()
    outcome = execute(Slow())

    assert outcome.status == "failed"
    assert time.perf_counter() - started < 20
    error = outcome.exception
    assert isinstance(error, NotebookTimeoutError)
    assert (error.cell_index, error.excerpt, error.timeout) == (
        2,
        "import time / time.sleep(30)",
        1,
    )
    assert error.executed.startswith(
        f"memory://nbflow-tests/executed/Slow/{Slow().task_id}.failed-"
    )
    with fsspec.open(error.executed, "r") as kept:
        assert json.load(kept)["metadata"]["nbflow"]["status"] == "failed"
    assert not Slow().complete()


@pytest.mark.notebook
def test_notebook_that_writes_no_product_fails_and_keeps_its_run(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_notebook("lazy.ipynb", [("product = None", ["parameters"]), "x = 1"])

    class Lazy(NotebookTask):
        notebook = "lazy.ipynb"

        def output(self):
            return {"table": nbflow.LocalTarget("data/table.csv")}

    outcome = execute(Lazy())

    assert outcome.status == "failed"
    assert "output missing after run (data/table.csv)" in outcome.error
    assert not (tmp_path / "data" / "table.csv").exists()
    kept = [p.name for p in (tmp_path / "executed" / "Lazy").iterdir()]
    assert len(kept) == 1
    assert ".failed-" in kept[0]
