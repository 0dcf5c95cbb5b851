"""``nbflow run [OPTIONS] pipeline.ipynb Task [--param v]``: run a pipeline notebook's tasks.

The task definitions of the notebook are loaded (see :mod:`nbflow.notebook.loader` for
which cells count), every notebook task that will run is checked (notebook readable,
parameters cell matching, kernel installed: exit code 2 before anything runs when one
is wrong), then the run goes on exactly like ``nbflow run --module``.

Imports: stdlib, nbflow.core.*, nbflow.notebook.*, nbflow.cli.run.
"""

from __future__ import annotations

from nbflow.cli.run import run_command
from nbflow.core import cmdline, interface
from nbflow.core.completeness import ExistenceCheck
from nbflow.core.events import RetryPolicy
from nbflow.core.graph import Discovery, GraphBuilder
from nbflow.notebook.loader import load_notebook
from nbflow.notebook.task import NotebookTask


def notebook_index(argv: list[str]) -> int | None:
    """Return the position of the ``.ipynb`` word before the task name, if any."""
    tokens = iter(enumerate(argv))
    for index, token in tokens:
        if token.startswith("-"):
            name = token[2:].partition("=")[0].replace("-", "_")
            if name in cmdline.VALUE_OPTIONS and "=" not in token:
                next(tokens, None)  # the option's value
            continue
        return index if token.endswith(".ipynb") else None
    return None


def run_notebook_command(argv: list[str]) -> int:
    """Carry out ``nbflow run [OPTIONS] NOTEBOOK.ipynb TASK [--param v]``."""
    index = notebook_index(argv)
    assert index is not None  # noqa: S101  (handles() checked it)
    load_notebook(argv[index])
    rest = argv[:index] + argv[index + 1 :]
    if not {"-h", "--help", "--help-all"} & set(rest):
        check_notebook_tasks(discover([arg for arg in rest if arg != "--no-progress"]))
    return run_command(rest)


def discover(argv: list[str]) -> tuple[Discovery, GraphBuilder]:
    """Parse a task command line and expand its graph (nothing runs)."""
    invocation = cmdline.parse(argv)
    with interface.overrides_in_force(invocation):
        task = interface.instantiate(invocation)
        builder = GraphBuilder(ExistenceCheck(), RetryPolicy())
        return builder.discover([task]), builder


def check_notebook_tasks(found: tuple[Discovery, GraphBuilder]) -> None:
    """Validate every notebook task that would run; raise the first problem.

    Complete tasks and tasks already broken (a cycle, a failing ``complete()``) are
    left to the run, which reports them as usual.
    """
    discovery, builder = found
    for spec in discovery.specs:
        task = builder.tasks[spec.task_id]
        if isinstance(task, NotebookTask) and not spec.complete and not spec.broken:
            task.validate()
