"""GET /api/v1/tasks/{task_id}/drawing: a task's graph laid out as SVG, for the visualiser.

The graph around a task (:func:`nbflow.server.query.task_graph`, read on the host
thread like ``GET .../graph``) is laid out here, in Python, on a pool thread (never the
host thread, never tornado's loop), with :func:`nbflow.core.drawing.lay_out_drawing`: graphviz
``dot`` for small drawings, the pure-Python layered layout beyond. Above
``group_above`` tasks, each family is drawn as one group node (id ``family:<Family>``)
with a bar of the share of each state; ``expand`` names families whose tasks are
drawn one by one while the rest stay grouped. The browser draws the SVG once
(``nbflow/static/graph.js``) and then only recolours nodes from the event stream:
``node_of`` maps every drawn task to the node that shows it.

The SVG's classes are the states when it was laid out; ``states`` and ``shares`` are
the states now. A layout depends only on which tasks are drawn and how, so the last
few are kept (:class:`~nbflow.core.drawing.LayoutCache`): reloading the page while a run progresses
recolours the same drawing without laying it out again.

Imports: stdlib, tornado, nbflow.core, nbflow.server.{handler, openapi, query}.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.core.dot import DotNode
from nbflow.core.drawing import LayoutCache, lay_out_drawing
from nbflow.core.layout import GROUP_ABOVE, count_states, group_state
from nbflow.core.progress import task_label
from nbflow.server import query
from nbflow.server.handler import ApiError, JsonHandler
from nbflow.server.openapi import MAX_GRAPH, PREFIX

if TYPE_CHECKING:
    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.server.handler import ServerContext

#: Tasks a drawing holds by default (``limit``); the rest is cut (``truncated``).
DRAWING_LIMIT = 20_000
#: Layouts kept for reloads.
CACHED_LAYOUTS = 8
#: Families ``expand`` may name.
MAX_EXPANDED = 200
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
    layout = cache.layout(
        key,
        lambda: lay_out_drawing(nodes, families, options.expand, options.group_above),
    )
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
        cache = self.context.extras.setdefault("layouts", LayoutCache(CACHED_LAYOUTS))
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
    "draw_graph",
    "drawing_options",
    "routes",
]
