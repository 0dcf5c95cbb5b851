"""GET /api/v1/tasks/{task_id}/drawing: a task's graph laid out as SVG, for the visualiser.

The graph around a task (:func:`nbflow.server.query.task_graph`, read on the host
thread like ``GET .../graph``) is laid out here, in Python, on a pool thread (never the
host thread, never tornado's loop), with :func:`nbflow.core.layout.lay_out`: graphviz
``dot`` for small drawings, the pure-Python layered layout beyond. Above
``group_above`` tasks, each family is drawn as one group node (id ``family:<Family>``)
with a bar of the share of each state; ``expand`` names families whose tasks are
drawn one by one while the rest stay grouped. The browser draws the SVG once
(``nbflow/static/graph.js``) and then only recolours nodes from the event stream:
``node_of`` maps every drawn task to the node that shows it.

The SVG's classes are the states when it was laid out; ``states`` and ``shares`` are
the states now. A layout depends only on which tasks are drawn and how, so the last
few are kept (:class:`LayoutCache`): reloading the page while a run progresses
recolours the same drawing without laying it out again.

Imports: stdlib, tornado, nbflow.core, nbflow.server.{handler, openapi, query}.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
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
from nbflow.core.progress import task_label
from nbflow.server import query
from nbflow.server.handler import ApiError, JsonHandler
from nbflow.server.openapi import MAX_GRAPH, PREFIX

if TYPE_CHECKING:
    from collections.abc import Hashable

    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.server.handler import ServerContext

#: Tasks a drawing holds by default (``limit``); the rest is cut (``truncated``).
DRAWING_LIMIT = 20_000
#: Layouts kept for reloads.
CACHED_LAYOUTS = 8
#: Families ``expand`` may name.
MAX_EXPANDED = 200
#: Largest drawing ``dot`` lays out; larger ones use the pure-Python layout.
DOT_NODES = GROUP_ABOVE
_DIRECTIONS = ("upstream", "downstream", "both")
#: Drawings larger than this (characters of SVG) are gzipped on a pool thread.
_COMPRESS_ABOVE = 100_000


@dataclass(frozen=True)
class DrawingOptions:
    """How to draw a task's graph (the query arguments of the endpoint)."""

    direction: str = "upstream"
    hide_done: bool = False
    expand: frozenset[str] = frozenset()
    group_above: int = GROUP_ABOVE
    limit: int = DRAWING_LIMIT


class LayoutCache:
    """The last few layouts, by what they were laid out from (thread-safe LRU)."""

    def __init__(self, size: int = CACHED_LAYOUTS) -> None:
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


def group_except(
    nodes: list[DotNode], families: dict[str, str], expand: frozenset[str]
) -> tuple[list[DotNode], dict[str, str]]:
    """Return one node per family, except the tasks of ``expand``, and task -> node.

    Examples
    --------
    >>> nodes = [DotNode("a1", "A(i=1)", "DONE", ()), DotNode("a2", "A(i=2)", "DONE", ()),
    ...          DotNode("b", "B()", "PENDING", ("a1", "a2"))]
    >>> drawn, node_of = group_except(nodes, {"a1": "A", "a2": "A", "b": "B"},
    ...                               frozenset({"B"}))
    >>> [(node.task_id, node.deps) for node in drawn]
    [('family:A', ()), ('b', ('family:A',))]
    """
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
        if node_id == group[0].task_id:  # a task of its own
            drawn.append(group[0]._replace(deps=tuple(sorted(deps))))
            continue
        family = node_id.removeprefix(GROUP_PREFIX)
        drawn.append(
            DotNode(
                node_id,
                f"{family} \N{MULTIPLICATION SIGN}{len(group)}",
                group_state(node.state for node in group),
                tuple(sorted(deps)),
            )
        )
    return drawn, node_of


def lay_out_drawing(
    nodes: list[DotNode], families: dict[str, str], options: DrawingOptions
) -> Layout:
    """Lay ``nodes`` out: grouped by family above ``group_above``, but ``expand``.

    ``dot`` draws at most :data:`DOT_NODES` nodes, whatever ``group_above`` says.
    """
    if len(nodes) <= options.group_above and len(nodes) <= DOT_NODES:
        return lay_out(nodes, families=families, group_above=options.group_above)
    every = len(nodes) <= options.group_above  # draw every task, without dot
    expand = frozenset(families.values()) if every else options.expand
    drawn, node_of = group_except(nodes, families, expand)
    shares = count_states(nodes, node_of)
    shown = [node._replace(label=short_label(node.label)) for node in drawn]
    svg = dot_svg(shown) if len(shown) <= DOT_NODES else None
    engine = "dot"
    if svg is None:
        svg, engine = layered_svg(shown), "fallback"
    return Layout(draw_shares(svg, shares), engine, node_of, shares)


def _drawn_tasks(graph: query.Graph, root: str, *, hide_done: bool) -> list[TaskInfo]:
    """Return the tasks to draw: all, or all but the done ones (never the root)."""
    if not hide_done:
        return graph.nodes
    return [
        info
        for info in graph.nodes
        if info.status.value != "DONE" or info.task_id == root
    ]


def draw_graph(
    graph: query.Graph, root: str, options: DrawingOptions, cache: LayoutCache
) -> dict[str, Any]:
    """Return the endpoint's document for ``graph`` (a pool thread: may lay out)."""
    infos = _drawn_tasks(graph, root, hide_done=options.hide_done)
    drawn = {info.task_id for info in infos}
    nodes = [
        DotNode(
            info.task_id,
            task_label(info.family, info.params),
            info.status.value,
            tuple(dep for dep in info.deps if dep in drawn),
        )
        for info in infos
    ]
    families = {info.task_id: info.family for info in infos}
    edges = sum(len(node.deps) for node in nodes)
    key = (root, options, frozenset(drawn), edges)
    layout = cache.get(key)
    if layout is None:
        layout = lay_out_drawing(nodes, families, options)
        cache.put(key, layout)
    node_of = layout.node_of
    members: dict[str, list[str]] = {}
    for node in nodes:
        members.setdefault(node_of[node.task_id], []).append(node.state)
    return {
        "root": root,
        "direction": options.direction,
        "svg": layout.svg,
        "engine": layout.engine,
        "node_of": node_of,
        "states": {node_id: group_state(states) for node_id, states in members.items()},
        "shares": count_states(nodes, node_of),
        "hidden": len(graph.nodes) - len(infos),
        "truncated": graph.truncated,
        "seq": graph.seq,
    }


# --- the handler -----------------------------------------------------------------------


def _flag(handler: JsonHandler, name: str) -> bool:
    text = handler.get_query_argument(name, None) or "0"
    if text not in ("0", "1"):
        raise ApiError(400, f"{name}={text!r}: expected 0 or 1")
    return text == "1"


def _whole(handler: JsonHandler, name: str, default: int, high: int) -> int:
    text = handler.get_query_argument(name, None)
    if text is None:
        return default
    if not text.isdigit() or len(text) > 9 or int(text) > high:  # noqa: PLR2004
        raise ApiError(
            400, f"{name}={text!r}: expected a whole number from 0 to {high}"
        )
    return int(text)


def drawing_options(handler: JsonHandler) -> DrawingOptions:
    """Read and check the query arguments of a drawing request."""
    direction = handler.get_query_argument("direction", None) or "upstream"
    if direction not in _DIRECTIONS:
        raise ApiError(
            400, f"direction={direction!r}: expected upstream, downstream or both"
        )
    text = handler.get_query_argument("expand", None) or ""
    expand = frozenset(name.strip() for name in text.split(",") if name.strip())
    if len(expand) > MAX_EXPANDED:
        raise ApiError(
            400,
            f"expand names {len(expand)} families, more than {MAX_EXPANDED}. "
            "Fix: expand fewer families, or raise group_above to draw every task",
        )
    limit = _whole(handler, "limit", DRAWING_LIMIT, MAX_GRAPH)
    return DrawingOptions(
        direction=direction,
        hide_done=_flag(handler, "hide_done"),
        expand=expand,
        group_above=_whole(handler, "group_above", GROUP_ABOVE, MAX_GRAPH),
        limit=max(limit, 1),
    )


def _encode(document: dict[str, Any], *, compress: bool) -> bytes:
    """Return the document as JSON, gzipped fast if ``compress`` (a pool thread).

    A 10,000-task drawing is 5 MB of SVG: compressed here at level 1 (0.02 s, 12:1)
    rather than by tornado on its loop at level 6 (0.06 s, 14:1).
    """
    body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return gzip.compress(body, compresslevel=1, mtime=0) if compress else body


class DrawingHandler(JsonHandler):
    """GET /api/v1/tasks/{task_id}/drawing."""

    async def get(self, task_id: str) -> None:
        """Return the graph around a task, laid out (see the module docstring)."""
        self.authorize(write=False)
        options = drawing_options(self)
        host = self.context.host
        graph = await self.blocking(
            host.read,
            lambda s: query.task_graph(
                s, task_id, options.direction, None, options.limit, host.feed
            ),
        )
        if graph is None:
            raise ApiError(
                404,
                f"the scheduler has no task {task_id!r}. Fix: list tasks with GET "
                "/api/v1/tasks; percent-encode the id in the path",
            )
        cache = self.context.extras.setdefault("layouts", LayoutCache())
        document = await self.blocking(draw_graph, graph, task_id, options, cache)
        accepted = self.request.headers.get("Accept-Encoding", "")
        compress = "gzip" in accepted and len(document["svg"]) > _COMPRESS_ABOVE
        body = await self.blocking(lambda: _encode(document, compress=compress))
        self.set_header("Content-Type", "application/json")
        self.set_header("Vary", "Accept-Encoding")
        if compress:
            self.set_header("Content-Encoding", "gzip")
        self.finish(body)


def routes(context: ServerContext) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the drawing's route."""
    return [(rf"{PREFIX}/tasks/([^/]+)/drawing", DrawingHandler, {"context": context})]


__all__ = [
    "DRAWING_LIMIT",
    "DrawingHandler",
    "DrawingOptions",
    "LayoutCache",
    "draw_graph",
    "drawing_options",
    "group_except",
    "lay_out_drawing",
    "routes",
]
