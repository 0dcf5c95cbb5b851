"""What the server's and Lab's graph drawings share: grouping, laying out, a layout cache.

Both draw a graph of tasks as SVG for the shared renderer (``nbflow/static/graph.js``):
the nbflow server's ``/api/v1/tasks/{id}/drawing`` (:mod:`nbflow.server.graph_view`)
and a kernel run's drawing in JupyterLab (:mod:`nbflow.lab.drawing`). Above
``group_above`` tasks each family is one group node (id ``family:<Family>``) with a
bar of the share of each state, except the families the user expanded, whose tasks are
drawn one by one. A layout depends only on which nodes are drawn and how, so
:class:`LayoutCache` keeps the last few: a graph whose states change is recoloured,
not laid out again.

Threads: the functions run on pool threads; the cache has its own lock.

Imports: stdlib, nbflow.core.{dot, layout}.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from nbflow.core.layout import (
    GROUP_ABOVE,
    Layout,
    count_states,
    draw_nodes,
    group_except,
    lay_out,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from nbflow.core.dot import DotNode

#: Largest drawing ``dot`` lays out; larger ones use the pure-Python layout.
DOT_NODES = GROUP_ABOVE

__all__ = ["DOT_NODES", "LayoutCache", "lay_out_drawing"]


class LayoutCache:
    """The last few layouts, by what they were laid out from (thread-safe LRU)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._layouts: OrderedDict[Hashable, Layout] = OrderedDict()
        #: Layouts made (misses), for tests and metrics.
        self.made = 0

    def get(self, key: Hashable) -> Layout | None:
        """Return the layout kept for ``key`` (now the most recent), or None."""
        with self._lock:
            layout = self._layouts.get(key)
            if layout is not None:
                self._layouts.move_to_end(key)
            return layout

    def put(self, key: Hashable, layout: Layout) -> None:
        """Keep ``layout`` for ``key``, dropping the oldest beyond the size."""
        with self._lock:
            self.made += 1
            self._layouts[key] = layout
            self._layouts.move_to_end(key)
            while len(self._layouts) > self._size:
                self._layouts.popitem(last=False)

    def layout(self, key: Hashable, make: Callable[[], Layout]) -> Layout:
        """Return the layout kept for ``key``, else ``make()``'s, kept.

        ``make`` runs outside the lock: two threads asking for the same new key may
        both lay it out, and the later one is kept.
        """
        kept = self.get(key)
        if kept is not None:
            return kept
        made = make()
        self.put(key, made)
        return made


def lay_out_drawing(
    nodes: list[DotNode],
    families: dict[str, str],
    expand: frozenset[str] = frozenset(),
    group_above: int = GROUP_ABOVE,
) -> Layout:
    """Lay ``nodes`` out: grouped by family above ``group_above``, but ``expand``.

    ``dot`` draws at most :data:`DOT_NODES` nodes, whatever ``group_above`` says;
    beyond that the pure-Python layered layout draws them.
    """
    if len(nodes) <= group_above and len(nodes) <= DOT_NODES:
        return lay_out(nodes, families=families, group_above=group_above)
    if len(nodes) <= group_above:  # draw every task, without dot
        expand = frozenset(families.values())
    drawn, node_of = group_except(nodes, families, expand)
    return draw_nodes(drawn, node_of, count_states(nodes, node_of), dot_above=DOT_NODES)
