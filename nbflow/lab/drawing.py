"""A kernel run's graph laid out as SVG: the document of ``.../runs/{k}/{n}/drawing``.

The same shape as the nbflow server's ``/api/v1/tasks/{id}/drawing`` (``svg``,
``engine``, ``node_of``, ``states``, ``shares``, ``truncated``), so the panel draws it
with the shared renderer (``nbflow/static/graph.js``). Laid out with
:func:`nbflow.core.drawing.lay_out_drawing` (graphviz ``dot`` for small drawings,
the pure-Python layered layout beyond), as the server's drawings are; above
``group_above`` tasks each family is one group node, except the families named in
``expand``. A layout depends only on which
nodes are drawn, so :class:`DrawingCache` keeps the last few: a run that progresses is
recoloured (``states``, ``shares``), not laid out again.

Threads: called on a pool thread; the cache has its own lock.

Imports: stdlib, nbflow.core.{dot, drawing, layout}.
"""

from __future__ import annotations

from typing import Any

from nbflow.core.dot import DotNode
from nbflow.core.drawing import LayoutCache, lay_out_drawing
from nbflow.core.layout import GROUP_ABOVE, count_states, group_state

#: Layouts kept.
CACHED_LAYOUTS = 16
#: Families ``expand`` may name.
MAX_EXPANDED = 10_000

__all__ = ["CACHED_LAYOUTS", "MAX_EXPANDED", "DrawingCache", "draw_run"]


class DrawingCache(LayoutCache):
    """The last few layouts of kernel runs' drawings (thread-safe LRU)."""

    def __init__(self, size: int = CACHED_LAYOUTS) -> None:
        super().__init__(size)


def draw_run(
    run: dict[str, Any], expand: frozenset[str], cache: DrawingCache
) -> dict[str, Any]:
    """Return the drawing document of a board's run (a pool thread: may lay out)."""
    tasks: dict[str, dict[str, Any]] = run.get("tasks") or {}
    nodes = [
        DotNode(
            task_id,
            str(task.get("label") or task_id),
            str(task.get("state") or "PENDING"),
            tuple(dep for dep in task.get("deps") or () if dep in tasks),
        )
        for task_id, task in tasks.items()
    ]
    families = {
        task_id: str(task.get("family") or task_id) for task_id, task in tasks.items()
    }
    expand = expand & frozenset(families.values())
    shape = tuple((node.task_id, node.label, node.deps) for node in nodes)
    layout = cache.layout(
        (shape, expand if len(nodes) > GROUP_ABOVE else frozenset()),
        lambda: lay_out_drawing(nodes, families, expand),
    )
    members: dict[str, list[str]] = {}
    for node in nodes:
        members.setdefault(layout.node_of[node.task_id], []).append(node.state)
    return {
        "number": run.get("number"),
        "svg": layout.svg,
        "engine": layout.engine,
        "node_of": layout.node_of,
        "states": {node_id: group_state(states) for node_id, states in members.items()},
        "shares": count_states(nodes, layout.node_of),
        "truncated": False,
    }
