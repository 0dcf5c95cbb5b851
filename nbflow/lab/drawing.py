"""A kernel run's graph laid out as SVG: the document of ``.../runs/{k}/{n}/drawing``.

The same shape as the nbflow server's ``/api/v1/tasks/{id}/drawing`` (``svg``,
``engine``, ``node_of``, ``states``, ``shares``, ``truncated``), so the panel draws it
with the shared renderer (``nbflow/static/graph.js``). Laid out with
:func:`nbflow.core.layout.lay_out` (graphviz ``dot`` for small drawings, the
pure-Python layered layout beyond); above ``group_above`` tasks each family is one
group node, except the families named in ``expand``. A layout depends only on which
nodes are drawn, so :class:`DrawingCache` keeps the last few: a run that progresses is
recoloured (``states``, ``shares``), not laid out again.

Threads: called on a pool thread; the cache has its own lock.

Imports: stdlib, nbflow.core.{dot, layout}.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from nbflow.core.dot import DotNode
from nbflow.core.layout import (
    GROUP_ABOVE,
    GROUP_PREFIX,
    Layout,
    count_states,
    dot_svg,
    draw_shares,
    group_state,
    lay_out,
    layered_svg,
    short_label,
)

if TYPE_CHECKING:
    from collections.abc import Hashable

#: Layouts kept.
CACHED_LAYOUTS = 16
#: Families ``expand`` may name.
MAX_EXPANDED = 10_000

__all__ = ["CACHED_LAYOUTS", "MAX_EXPANDED", "DrawingCache", "draw_run"]


class DrawingCache:
    """The last few layouts, by the nodes they were laid out from (thread-safe LRU)."""

    def __init__(self, size: int = CACHED_LAYOUTS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._layouts: OrderedDict[Hashable, Layout] = OrderedDict()
        #: Layouts made (misses), for tests.
        self.made = 0

    def layout(self, key: Hashable, make: Any) -> Layout:
        """Return the layout kept for ``key``, else ``make()``'s, kept."""
        with self._lock:
            kept = self._layouts.get(key)
            if kept is not None:
                self._layouts.move_to_end(key)
                return kept
        made: Layout = make()
        with self._lock:
            self.made += 1
            self._layouts[key] = made
            while len(self._layouts) > self._size:
                self._layouts.popitem(last=False)
        return made


def _group_except(
    nodes: list[DotNode], families: dict[str, str], expand: frozenset[str]
) -> tuple[list[DotNode], dict[str, str]]:
    """Return one node per family but those of ``expand``, and task -> drawn node."""
    node_of = {
        node.task_id: node.task_id
        if families[node.task_id] in expand
        else GROUP_PREFIX + families[node.task_id]
        for node in nodes
    }
    members: dict[str, list[DotNode]] = {}
    for node in nodes:
        members.setdefault(node_of[node.task_id], []).append(node)
    drawn = []
    for node_id, group in members.items():
        deps = {node_of[dep] for node in group for dep in node.deps if dep in node_of}
        deps.discard(node_id)
        if node_id == group[0].task_id:
            drawn.append(group[0]._replace(deps=tuple(sorted(deps))))
            continue
        family = node_id.removeprefix(GROUP_PREFIX)
        label = f"{family} \N{MULTIPLICATION SIGN}{len(group)}"
        state = group_state(node.state for node in group)
        drawn.append(DotNode(node_id, label, state, tuple(sorted(deps))))
    return drawn, node_of


def _lay_out(
    nodes: list[DotNode], families: dict[str, str], expand: frozenset[str]
) -> Layout:
    if len(nodes) <= GROUP_ABOVE or not expand:
        return lay_out(nodes, families=families)
    drawn, node_of = _group_except(nodes, families, expand)
    shares = count_states(nodes, node_of)
    shown = [node._replace(label=short_label(node.label)) for node in drawn]
    svg = dot_svg(shown) if len(shown) <= GROUP_ABOVE else None
    engine = "dot"
    if svg is None:
        svg, engine = layered_svg(shown), "fallback"
    return Layout(draw_shares(svg, shares), engine, node_of, shares)


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
        lambda: _lay_out(nodes, families, expand),
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
