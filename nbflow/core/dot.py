"""The dependency graph as Graphviz DOT text (pure: no graphviz needed to make it).

Used by ``nbflow graph --format dot`` and by the widgets' layout, which hands the text
to graphviz's ``dot`` when it is installed. Node ids are task ids; labels are the tasks'
readable forms; every node carries a ``class`` attribute with its status, so an SVG made
from it can be recoloured by CSS without laying it out again.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Fill colours by status name (and "complete" for tasks done before the run).
COLOURS = {
    "PENDING": "#e0e0e0",
    "RUNNING": "#64b5f6",
    "BATCH_RUNNING": "#64b5f6",
    "DONE": "#81c784",
    "complete": "#c8e6c9",
    "FAILED": "#e57373",
    "DISABLED": "#9e9e9e",
    "UPSTREAM_FAILED": "#ffb74d",
    "UPSTREAM_DISABLED": "#bdbdbd",
    "CANCELLED": "#ce93d8",
    "stale": "#fff176",
    "unversioned": "#fff9c4",
    "missing": "#f5f5f5",
    "broken": "#e57373",
}


class DotNode(NamedTuple):
    """One task to draw: id, label, drawn state (see nbflow.core.progress), deps."""

    task_id: str
    label: str
    state: str
    deps: tuple[str, ...]


def quote(text: str) -> str:
    r"""Return ``text`` as a DOT string literal (quotes and backslashes escaped).

    Examples
    --------
    >>> print(quote('A(x="1")'))
    "A(x=\"1\")"
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nodes: Iterable[DotNode], *, rankdir: str = "LR") -> str:
    """Return DOT text for ``nodes``, requirements pointing at what needs them.

    Examples
    --------
    >>> print(to_dot([DotNode("a", "A()", "DONE", ()), DotNode("b", "B()", "PENDING", ("a",))]))
    digraph nbflow {
      rankdir=LR;
      node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];
      "a" [label="A()", class="DONE", fillcolor="#81c784"];
      "b" [label="B()", class="PENDING", fillcolor="#e0e0e0"];
      "a" -> "b";
    }
    """
    lines = [
        "digraph nbflow {",
        f"  rankdir={rankdir};",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    ]
    edges: list[str] = []
    for node in nodes:
        colour = COLOURS.get(node.state, COLOURS["PENDING"])
        lines.append(
            f"  {quote(node.task_id)} [label={quote(node.label)}, "
            f'class={quote(node.state)}, fillcolor="{colour}"];'
        )
        edges.extend(f"  {quote(dep)} -> {quote(node.task_id)};" for dep in node.deps)
    return "\n".join([*lines, *edges, "}"])
