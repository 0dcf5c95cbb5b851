"""The notebook commands of ``nbflow``: ``export``, ``graph`` and ``run NOTEBOOK.ipynb``.

- ``nbflow run [OPTIONS] pipeline.ipynb Task [--param v]`` loads the task definitions
  of a pipeline notebook (see :mod:`nbflow.notebook.loader` for which cells count),
  checks every notebook task that will run (notebook readable, parameters cell
  matching, kernel installed: exit code 2 before anything runs when one is wrong),
  then runs like ``nbflow run --module``;
- ``nbflow export pipeline.ipynb -o pipeline.py`` writes those definitions to a module;
- ``nbflow graph (--module m | pipeline.ipynb) Task [--format svg|png|dot|json] [-o F]``
  draws the graph of a task without running anything.

Imports: stdlib, nbflow.cli, nbflow.cli_progress, nbflow.core.*, nbflow.notebook.*.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.cli_progress import task_label
from nbflow.core import cmdline, interface
from nbflow.core.completeness import ExistenceCheck
from nbflow.core.dot import DotNode, to_dot
from nbflow.core.errors import PluginError
from nbflow.core.events import RetryPolicy
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.graph import Discovery, GraphBuilder
from nbflow.notebook.export import export_notebook
from nbflow.notebook.loader import load_notebook
from nbflow.notebook.task import NotebookTask

if TYPE_CHECKING:
    from nbflow.core.events import TaskSpec

#: The commands this module carries out.
COMMANDS = ("export", "graph")
#: Formats of ``nbflow graph``; svg and png need graphviz's ``dot`` program.
GRAPH_FORMATS = ("dot", "json", "svg", "png")

EXPORT_HELP = """\
usage: nbflow export NOTEBOOK.ipynb [-o MODULE.py]

Write the task definitions of a pipeline notebook to an importable module (default:
the notebook's name with .py, next to it), atomically. Then run it headless with
`nbflow run --module MODULE TASK --param VALUE`.

Which cells are definitions:
  - if any cell is tagged `nbflow`: exactly the code cells tagged `nbflow`
    (top-level displays such as `display(df)` or a bare `df` are dropped);
  - otherwise: code cells whose top-level statements are only imports, def/class
    definitions, docstrings and constant assignments (UPPER_CASE names, or any name
    set to a simple literal such as a papermill parameters cell). Any other statement
    (df.head(), a call, a loop) makes the cell exploration, and it is skipped.
  Lines starting with % or ! (magics, shell escapes) are always removed. The module's
  header lists the cells taken and the reason each other code cell was skipped.

`nbflow run NOTEBOOK.ipynb TASK ...` runs exactly the same cells, without exporting."""

GRAPH_HELP = """\
usage: nbflow graph [--module MODULE | NOTEBOOK.ipynb] TASK [--PARAM VALUE ...]
                    [--format dot|json|svg|png] [-o FILE]

Draw the dependency graph of TASK without running anything (completeness is checked,
so complete tasks show as such). The format defaults to FILE's suffix, else dot.
Without -o the graph goes to stdout. svg and png need graphviz's `dot` program.
json: {"root": id, "nodes": [{"id", "family", "params", "deps", "state"}]}, where
state is complete, pending, missing (an external task's data) or broken."""


class GraphvizNotFoundError(PluginError):
    """Graphviz's ``dot`` program is needed and not installed."""

    def __init__(self, output_format: str) -> None:
        super().__init__(output_format)
        self.output_format = output_format

    def __str__(self) -> str:
        return (
            f"nbflow graph --format {self.output_format}: graphviz's `dot` program "
            "is not installed (got no `dot` on PATH). Expected graphviz, which lays out "
            "svg and png. Fix: install it (apt-get install graphviz, brew install "
            "graphviz, conda install graphviz), or use --format dot or --format json."
        )


class GraphvizFailedError(PluginError):
    """Graphviz's ``dot`` program failed on the graph."""

    def __init__(self, output_format: str, error: str) -> None:
        super().__init__(output_format, error)
        self.output_format, self.error = output_format, error

    def __str__(self) -> str:
        return (
            f"nbflow graph --format {self.output_format}: `dot` failed (got "
            f"{self.error!r}). Expected dot to lay out the graph. Fix: check the "
            "graphviz installation (`dot -V`), or use --format dot."
        )


def handles(command: str, argv: list[str]) -> bool:
    """Return whether this module carries out ``nbflow COMMAND ARGV``."""
    return command in COMMANDS or (
        command == "run" and notebook_index(argv) is not None
    )


def main(command: str, argv: list[str]) -> int:
    """Carry out ``nbflow COMMAND ARGV`` (one of :func:`handles`'s) and return its code."""
    if command == "export":
        return export_command(argv)
    if command == "graph":
        return graph_command(argv)
    return run_notebook_command(argv)


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


# --- run --------------------------------------------------------------------------------


def run_notebook_command(argv: list[str]) -> int:
    """Carry out ``nbflow run [OPTIONS] NOTEBOOK.ipynb TASK [--param v]``."""
    from nbflow import cli  # noqa: PLC0415  (cli imports this module lazily too)

    index = notebook_index(argv)
    assert index is not None  # noqa: S101  (handles() checked it)
    load_notebook(argv[index])
    rest = argv[:index] + argv[index + 1 :]
    if not {"-h", "--help", "--help-all"} & set(rest):
        check_notebook_tasks(_discover([arg for arg in rest if arg != "--no-progress"]))
    return cli.run_command(rest)


def _discover(argv: list[str]) -> tuple[Discovery, GraphBuilder]:
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


# --- export -----------------------------------------------------------------------------


def export_command(argv: list[str]) -> int:
    """Carry out ``nbflow export NOTEBOOK.ipynb [-o MODULE.py]``."""
    if {"-h", "--help"} & set(argv):
        sys.stdout.write(EXPORT_HELP + "\n")
        return 0
    options, positional = _options(argv, {"-o": "output", "--output": "output"})
    if len(positional) != 1 or not positional[0].endswith(".ipynb"):
        raise cmdline.UsageError(
            "export needs one notebook",
            " ".join(argv),
            "write `nbflow export pipeline.ipynb -o pipeline.py`",
        )
    notebook = positional[0]
    output = options.get("output") or str(Path(notebook).with_suffix(".py"))
    result = export_notebook(notebook, output)
    sys.stdout.write(result.summary + "\n")
    return 0


# --- graph ------------------------------------------------------------------------------


def graph_command(argv: list[str]) -> int:
    """Carry out ``nbflow graph [--module m | NOTEBOOK.ipynb] TASK ...``."""
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(GRAPH_HELP + "\n")
        return 0
    options, rest = _options(
        argv, {"-o": "output", "--output": "output", "--format": "format"}, keep=True
    )
    output = options.get("output")
    output_format = options.get("format") or _format_from(output)
    if output_format not in GRAPH_FORMATS:
        raise cmdline.UsageError(
            "unknown graph format",
            output_format,
            f"use --format with one of {', '.join(GRAPH_FORMATS)}",
        )
    index = notebook_index(rest)
    if index is not None:
        load_notebook(rest.pop(index))
    discovery, _ = _discover(rest)
    data = render_graph(discovery, output_format)
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return 0
    with FsspecTarget(output).open("wb" if isinstance(data, bytes) else "w") as out:
        out.write(data)
    sys.stdout.write(f"wrote {output} ({len(discovery.specs)} tasks)\n")
    return 0


def render_graph(discovery: Discovery, output_format: str) -> str | bytes:
    """Return the graph of ``discovery`` in ``output_format`` (svg/png need ``dot``)."""
    if output_format == "json":
        roots = [spec.task_id for spec in discovery.specs[:1]]
        nodes = [_json_node(spec) for spec in discovery.specs]
        return (
            json.dumps({"root": roots[0] if roots else None, "nodes": nodes}, indent=2)
            + "\n"
        )
    text = to_dot(
        DotNode(
            spec.task_id, task_label(spec.family, spec.params), _state(spec), spec.deps
        )
        for spec in discovery.specs
    )
    if output_format == "dot":
        return text + "\n"
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFoundError(output_format)
    done = subprocess.run(  # noqa: S603  (graphviz's dot, found on PATH, fixed arguments)
        [program, f"-T{output_format}"],
        input=text.encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise GraphvizFailedError(
            output_format, done.stderr.decode(errors="replace").strip()
        )
    return done.stdout if output_format == "png" else done.stdout.decode()


def _state(spec: TaskSpec) -> str:
    if spec.broken:
        return "broken"
    if spec.complete:
        return "complete"
    return "PENDING" if spec.runnable else "missing"


def _json_node(spec: TaskSpec) -> dict[str, Any]:
    state = _state(spec)
    node: dict[str, Any] = {
        "id": spec.task_id,
        "family": spec.family,
        "params": dict(spec.params),
        "deps": list(spec.deps),
        "state": "pending" if state == "PENDING" else state,
    }
    if spec.broken:
        node["error"] = spec.broken
    return node


def _format_from(output: str | None) -> str:
    suffix = Path(output).suffix.lstrip(".").lower() if output else ""
    return {"gv": "dot", "": "dot"}.get(suffix, suffix)


def _options(
    argv: list[str], names: dict[str, str], *, keep: bool = False
) -> tuple[dict[str, str], list[str]]:
    """Take ``names`` (flag -> key) with their values out of ``argv``.

    Returns the options and the other words (all of them when ``keep``, else only the
    positional ones; an unknown option is then a usage error).
    """
    options: dict[str, str] = {}
    rest: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, sep, value = arg.partition("=")
        if flag in names:
            if not sep:
                if not args:
                    raise cmdline.UsageError(
                        f"{flag} needs a value", arg, f"write {flag} VALUE"
                    )
                value = args.pop(0)
            options[names[flag]] = value
        elif arg.startswith("-") and not keep:
            raise cmdline.UsageError(
                "unknown option", arg, f"use one of {', '.join(sorted(names))}"
            )
        else:
            rest.append(arg)
    return options, rest
