"""``nbflow graph (--module m | pipeline.ipynb) Task [--format svg|png|dot|json] [-o F]``.

Draws the whole graph of a task without running anything: completeness is checked (as
``nbflow run`` checks it), complete tasks show as such and keep their requirements, so
the pipeline's shape stays visible after a run. ``--stop-at-complete`` stops the walk at
complete tasks, as a run does, for huge graphs.

Imports: stdlib, nbflow.core.*, nbflow.notebook.loader, nbflow.cli.{arguments, notebook}.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.cli.arguments import take_options
from nbflow.cli.notebook import notebook_index
from nbflow.core import cmdline, interface
from nbflow.core.completeness import FingerprintCheck
from nbflow.core.config import current_settings
from nbflow.core.dot import DotNode, to_dot
from nbflow.core.errors import PluginError
from nbflow.core.events import RetryPolicy
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.graph import GraphBuilder
from nbflow.core.progress import spec_state, task_label
from nbflow.notebook.loader import load_notebook

if TYPE_CHECKING:
    from nbflow.core.events import TaskSpec
    from nbflow.core.graph import Discovery

#: Formats of ``nbflow graph``; svg and png need graphviz's ``dot`` program.
GRAPH_FORMATS = ("dot", "json", "svg", "png")

GRAPH_HELP = """\
usage: nbflow graph [--module MODULE | NOTEBOOK.ipynb] TASK [--PARAM VALUE ...]
                    [--format dot|json|svg|png] [-o FILE] [--stop-at-complete]

Draw the whole dependency graph of TASK without running anything. Completeness is
checked as `nbflow run` checks it ([core] completeness), so complete tasks show as
such, with what they were made from.

  --format F            dot, json, svg or png (default: FILE's suffix, else dot);
                        svg and png need graphviz's `dot` program
  -o, --output FILE     write the graph to FILE (default: stdout)
  --stop-at-complete    do not expand complete tasks, as a run does not: a complete
                        task is drawn without its requirements (faster on huge graphs)

json: {"root": id, "nodes": [{"id", "family", "params", "deps", "state", "needed"}]},
where state is pending, stale, unversioned, complete, missing (an external task's
data) or broken, and needed is false for an incomplete task that a run would not run
because everything that needs it is complete."""

#: The switch that stops the walk at complete tasks.
STOP_AT_COMPLETE = "--stop-at-complete"


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


def graph_command(argv: list[str]) -> int:
    """Carry out ``nbflow graph [--module m | NOTEBOOK.ipynb] TASK ...``."""
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(GRAPH_HELP + "\n")
        return 0
    options, rest = take_options(
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
    stop = STOP_AT_COMPLETE in rest
    rest = [arg for arg in rest if arg != STOP_AT_COMPLETE]
    index = notebook_index(rest)
    if index is not None:
        load_notebook(rest.pop(index))
    discovery = discover_graph(rest, stop_at_complete=stop)
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


def discover_graph(argv: list[str], *, stop_at_complete: bool = False) -> Discovery:
    """Parse a task command line and expand its whole graph (nothing runs).

    Complete tasks are expanded too unless ``stop_at_complete``.
    """
    invocation = cmdline.parse(argv)
    mode = current_settings().get("core", "completeness", "exists")
    builder = GraphBuilder(
        FingerprintCheck(mode), RetryPolicy(), expand_complete=not stop_at_complete
    )
    with interface.overrides_in_force(invocation):
        return builder.discover([interface.instantiate(invocation)])


def render_graph(discovery: Discovery, output_format: str) -> str | bytes:
    """Return the graph of ``discovery`` in ``output_format`` (svg/png need ``dot``)."""
    if output_format == "json":
        roots = [spec.task_id for spec in discovery.specs[:1]]
        nodes = [_json_node(spec, discovery.unneeded) for spec in discovery.specs]
        return (
            json.dumps({"root": roots[0] if roots else None, "nodes": nodes}, indent=2)
            + "\n"
        )
    text = to_dot(
        DotNode(
            spec.task_id,
            task_label(spec.family, spec.params),
            spec_state(spec),
            spec.deps,
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


def _json_node(spec: TaskSpec, unneeded: frozenset[str]) -> dict[str, Any]:
    state = spec_state(spec)
    node: dict[str, Any] = {
        "id": spec.task_id,
        "family": spec.family,
        "params": dict(spec.params),
        "deps": list(spec.deps),
        "state": "pending" if state == "PENDING" else state,
        "needed": spec.task_id not in unneeded,
    }
    if spec.broken:
        node["error"] = spec.broken
    return node


def _format_from(output: str | None) -> str:
    suffix = Path(output).suffix.lstrip(".").lower() if output else ""
    return {"gv": "dot", "": "dot"}.get(suffix, suffix)
