"""Lay a task graph out once, as SVG whose nodes can be recoloured by CSS class.

:func:`lay_out` hands the DOT text of :func:`nbflow.core.dot.to_dot` to graphviz's
``dot`` when it is installed, and otherwise (or when ``dot`` fails or takes too long)
uses :func:`layered_svg`, a small pure-Python layered layout. Both produce the same
shape of SVG: one ``<g class="node STATE">`` per node whose ``<title>`` is the node id,
so the front end finds nodes and recolours them without laying anything out again.

Graphs larger than ``group_above`` nodes are drawn one node per task family
(:func:`group_by_family`): ``dot`` takes seconds on a thousand nodes, and nobody reads a
drawing of two thousand boxes.

Imports: stdlib, nbflow.core.dot.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import defaultdict
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core.dot import COLOURS, DotNode, to_dot

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Above this many nodes the graph is drawn one node per family.
GROUP_ABOVE = 300
#: Seconds ``dot`` may take before the pure-Python layout is used instead.
DOT_TIMEOUT = 20.0
#: Prefix of the node id of a family group.
GROUP_PREFIX = "family:"
#: Most characters of a label drawn in a node (the full text is in the details).
LABEL_MAX = 60

#: Aggregate state of a group: the first state in this order that any member is in.
_GROUP_PRECEDENCE = (
    "FAILED",
    "RUNNING",
    "BATCH_RUNNING",
    "CANCELLED",
    "PENDING",
    "DISABLED",
    "UPSTREAM_FAILED",
    "UPSTREAM_DISABLED",
    "stale",
    "unversioned",
    "DONE",
)
_XML_NOISE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)


class Layout(NamedTuple):
    """An SVG drawing and how task ids map to the nodes drawn."""

    svg: str
    #: "dot" or "fallback".
    engine: str
    #: task_id -> the id of the node that shows it (itself unless grouped).
    node_of: dict[str, str]
    #: group node id -> {state: tasks} (empty unless grouped).
    shares: dict[str, dict[str, int]] = {}  # noqa: RUF012  (never mutated)


def short_label(text: str, limit: int = LABEL_MAX) -> str:
    """Return ``text`` cut to ``limit`` characters, eliding the family first.

    The parameters tell sibling tasks apart, so a long ``Family(name=value)`` label
    loses the start of its family before any of its parameters; parameters too long
    even for that are cut at the end.

    Examples
    --------
    >>> short_label("SalesDownload(day=2024-06-03)", 21)
    '…load(day=2024-06-03)'
    >>> short_label("Clean(path=/a/very/long/path/to/a/file.csv)", 20)
    'C…(path=/a/very/lon…'
    """
    if len(text) <= limit:
        return text
    family, bracket, params = text.partition("(")
    params = bracket + params
    kept = limit - 1 - len(params)  # characters of the family after the ellipsis
    if params and kept >= 1:
        return "…" + family[-kept:] + params
    if params:
        return (family[:1] + "…" + params)[: limit - 1] + "…"
    return text[: limit - 1] + "…"


def family_of_label(label: str) -> str:
    """Return the family of a ``Family(param=value)`` label.

    Examples
    --------
    >>> family_of_label("Clean(day=2024-01-31)")
    'Clean'
    """
    return label.split("(", 1)[0]


def group_state(states: Iterable[str]) -> str:
    """Return the state shown for a group whose members are in ``states``.

    Examples
    --------
    >>> group_state(["DONE", "RUNNING", "PENDING"])
    'RUNNING'
    >>> group_state(["complete", "complete"])
    'complete'
    """
    present = set(states)
    for state in _GROUP_PRECEDENCE:
        if state in present:
            return state
    return "complete" if present else "PENDING"


def group_by_family(
    nodes: list[DotNode], families: Mapping[str, str] | None = None
) -> tuple[list[DotNode], dict[str, str]]:
    """Return one node per family (edges between families) and task_id -> group id.

    ``families`` maps task ids to families; without it the family is read from labels.
    """
    known = families or {}
    return group_except(
        nodes,
        {
            node.task_id: known.get(node.task_id) or family_of_label(node.label)
            for node in nodes
        },
        frozenset(),
    )


def group_except(
    nodes: list[DotNode], families: Mapping[str, str], expand: frozenset[str]
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


def count_states(
    nodes: Iterable[DotNode], node_of: Mapping[str, str]
) -> dict[str, dict[str, int]]:
    """Return group id -> {state: tasks} for tasks drawn in a group.

    Examples
    --------
    >>> count_states([DotNode("a", "A", "DONE", ()), DotNode("b", "A", "FAILED", ())],
    ...              {"a": "family:A", "b": "family:A"})
    {'family:A': {'DONE': 1, 'FAILED': 1}}
    """
    shares: dict[str, dict[str, int]] = {}
    for node in nodes:
        group = node_of[node.task_id]
        if group != node.task_id:
            counts = shares.setdefault(group, {})
            counts[node.state] = counts.get(node.state, 0) + 1
    return shares


def lay_out(
    nodes: list[DotNode],
    *,
    families: Mapping[str, str] | None = None,
    group_above: int = GROUP_ABOVE,
) -> Layout:
    """Lay ``nodes`` out as SVG with ``dot`` if possible, else with :func:`layered_svg`.

    A group is drawn neutral, with a bar of the share of each state of its tasks.
    """
    node_of = {node.task_id: node.task_id for node in nodes}
    shares: dict[str, dict[str, int]] = {}
    if len(nodes) > group_above:
        grouped, node_of = group_by_family(nodes, families)
        shares = count_states(nodes, node_of)
        nodes = grouped
    return draw_nodes(nodes, node_of, shares, dot_above=group_above)


def draw_nodes(
    nodes: list[DotNode],
    node_of: dict[str, str],
    shares: dict[str, dict[str, int]],
    *,
    dot_above: int,
) -> Layout:
    """Draw nodes already grouped: ``dot`` up to ``dot_above`` of them, else layered.

    Labels are shortened; each group gets its bar of ``shares``.
    """
    shown = [node._replace(label=short_label(node.label)) for node in nodes]
    svg = dot_svg(shown) if len(shown) <= dot_above else None
    engine = "dot"
    if svg is None:
        svg, engine = layered_svg(shown), "fallback"
    return Layout(draw_shares(svg, shares), engine, node_of, shares)


def dot_svg(nodes: list[DotNode]) -> str | None:
    """Return the SVG ``dot`` makes of ``nodes``, or None if ``dot`` is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        return None
    try:
        made = subprocess.run(  # noqa: S603  (a resolved program, our own DOT text on stdin)
            [program, "-Tsvg"],
            input=to_dot(nodes).encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        # broken or slow graphviz: the fallback layout still draws the graph
        return None
    return _XML_NOISE.sub("", made.stdout.decode("utf-8", "replace")).strip()


# --- the pure-Python layered layout ---------------------------------------------------

_NODE_HEIGHT = 28
_ROW_GAP = 14
_RANK_GAP = 48
_CHAR_WIDTH = 6.2
_PADDING = 16


def rank_nodes(nodes: list[DotNode]) -> dict[str, int]:
    """Return each node's rank: 0 for no dependencies, else one more than its deepest.

    Examples
    --------
    >>> rank_nodes([DotNode("a", "A", "DONE", ()), DotNode("b", "B", "DONE", ("a",))])
    {'a': 0, 'b': 1}
    """
    known = {node.task_id: node for node in nodes}
    waiting = {
        node.task_id: sum(dep in known for dep in set(node.deps)) for node in nodes
    }
    dependents: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        for dep in set(node.deps):
            if dep in known:
                dependents[dep].append(node.task_id)
    rank = dict.fromkeys(known, 0)
    ready = [task_id for task_id, count in waiting.items() if count == 0]
    while ready:
        task_id = ready.pop()
        for child in dependents[task_id]:
            rank[child] = max(rank[child], rank[task_id] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return rank


def order_ranks(nodes: list[DotNode], rank: Mapping[str, int]) -> list[list[str]]:
    """Return the node ids of each rank, ordered to shorten edges (barycentre sweeps)."""
    ranks: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for node in nodes:
        ranks[rank[node.task_id]].append(node.task_id)
    neighbours: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        for dep in node.deps:
            if dep in rank:
                neighbours[node.task_id].append(dep)
                neighbours[dep].append(node.task_id)
    for _sweep in range(4):
        position = {task_id: i for layer in ranks for i, task_id in enumerate(layer)}
        for layer in ranks:
            layer.sort(key=lambda task_id: _barycentre(task_id, neighbours, position))
    return ranks


def _barycentre(
    task_id: str, neighbours: Mapping[str, list[str]], position: Mapping[str, int]
) -> float:
    around = neighbours.get(task_id)
    if not around:
        return float(position[task_id])
    return sum(position[other] for other in around) / len(around)


def layered_svg(nodes: list[DotNode]) -> str:
    """Return SVG for ``nodes`` laid out left to right in ranks, without graphviz."""
    rank = rank_nodes(nodes)
    ranks = order_ranks(nodes, rank)
    by_id = {node.task_id: node for node in nodes}
    boxes: dict[str, tuple[float, float, float]] = {}  # id -> (x, y, width)
    x = 4.0
    for layer in ranks:
        width = max(len(by_id[task_id].label) for task_id in layer) * _CHAR_WIDTH
        width += _PADDING
        for row, task_id in enumerate(layer):
            boxes[task_id] = (x, 4.0 + row * (_NODE_HEIGHT + _ROW_GAP), width)
        x += width + _RANK_GAP
    height = max((len(layer) for layer in ranks), default=0) * (_NODE_HEIGHT + _ROW_GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {x:.0f} {height + 8:.0f}">',
        '<g id="graph0" class="graph">',
    ]
    parts.extend(
        _edge_svg(boxes[dep], boxes[node.task_id])
        for node in nodes
        for dep in node.deps
        if dep in boxes
    )
    parts.extend(
        _node_svg(number, node, boxes[node.task_id])
        for number, node in enumerate(nodes, start=1)
    )
    parts.append("</g></svg>")
    return "\n".join(parts)


def _node_svg(number: int, node: DotNode, box: tuple[float, float, float]) -> str:
    x, y, width = box
    colour = COLOURS.get(node.state, COLOURS["PENDING"])
    state = html.escape(node.state)
    return (
        f'<g id="node{number}" class="node {state}">'
        f"<title>{html.escape(node.task_id)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{_NODE_HEIGHT}" '
        f'rx="6" fill="{colour}" stroke="black"/>'
        f'<text text-anchor="middle" x="{x + width / 2:.1f}" y="{y + 18:.1f}" '
        f'font-family="Helvetica,sans-Serif" font-size="10.00">'
        f"{html.escape(node.label)}</text></g>"
    )


def _edge_svg(
    source: tuple[float, float, float], target: tuple[float, float, float]
) -> str:
    x1, y1 = source[0] + source[2], source[1] + _NODE_HEIGHT / 2
    x2, y2 = target[0] - 6, target[1] + _NODE_HEIGHT / 2
    middle = (x1 + x2) / 2
    return (
        f'<g class="edge"><path fill="none" stroke="#555" '
        f'd="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
        f'{x2:.1f},{y2:.1f}"/>'
        f'<polygon fill="#555" stroke="#555" points="{x2:.1f},{y2 - 3:.1f} '
        f'{x2 + 6:.1f},{y2:.1f} {x2:.1f},{y2 + 3:.1f}"/></g>'
    )


# --- groups: the share of each state ----------------------------------------------

_NODE = re.compile(
    r'<g id="(?P<id>[^"]*)" class="node (?P<state>[^"]*)">\s*'
    r"<title>(?P<title>.*?)</title>(?P<body>.*?)</g>",
    re.DOTALL,
)
_SHAPE = re.compile(r"<(?:path|polygon|rect)\b[^>]*>")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_GROUP_FILL = 'fill="#ffffff" style="fill: var(--jp-layout-color1, #ffffff)"'
_GROUP_INK = '<text style="fill: var(--jp-ui-font-color1, #1f1f1f)" '


def share_widths(
    counts: Mapping[str, int], span: float, least: float = 3.0
) -> list[tuple[str, float]]:
    """Split ``span`` between states by count; each state present gets ``least``.

    The extra given to small shares is taken from the largest, so one failure among
    thousands stays visible and the bar keeps its length.

    Examples
    --------
    >>> share_widths({"DONE": 1999, "FAILED": 1}, 100.0)
    [('DONE', 97.0), ('FAILED', 3.0)]
    """
    present = [(state, count) for state, count in counts.items() if count > 0]
    if not present:
        return []
    total = sum(count for _, count in present)
    least = min(least, span / len(present))
    widths = [max(least, span * count / total) for _, count in present]
    largest = widths.index(max(widths))
    widths[largest] -= sum(widths) - span
    return [(state, round(width, 2)) for (state, _), width in zip(present, widths)]


def _box(shape: str) -> tuple[float, float, float, float] | None:
    """Return x, y, width, height of a node's shape from its attributes."""
    if shape.startswith("<rect"):
        found = dict(re.findall(r'(\w+)="(-?[\d.]+)"', shape))
        return (
            float(found["x"]),
            float(found["y"]),
            float(found["width"]),
            float(found["height"]),
        )
    points = re.search(r'\b(?:d|points)="([^"]*)"', shape)
    numbers = [float(n) for n in _NUMBER.findall(points.group(1) if points else "")]
    if len(numbers) < 2:  # noqa: PLR2004  (one point)
        return None
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def draw_shares(svg: str, shares: Mapping[str, Mapping[str, int]]) -> str:
    """Return ``svg`` with each group node neutral and a bar of its states inside."""
    if not shares:
        return svg

    def redraw(found: re.Match[str]) -> str:
        counts = shares.get(html.unescape(found["title"]))
        shape = _SHAPE.search(found["body"])
        box = _box(shape.group(0)) if shape else None
        if counts is None or shape is None or box is None:
            return found.group(0)
        x, y, width, height = box
        bar, left = [], x + 6
        for state, part in share_widths(counts, max(width - 12, 1.0)):
            bar.append(
                f'<rect class="nbflow-share {html.escape(state)}" x="{left:.2f}" '
                f'y="{y + height - 9:.2f}" width="{part:.2f}" height="5" '
                f'fill="{COLOURS.get(state, COLOURS["PENDING"])}" '
                f'stroke="#555" stroke-width="0.4"/>'
            )
            left += part
        neutral = re.sub(r'fill="[^"]*"', _GROUP_FILL, shape.group(0), count=1)
        body = found["body"].replace(shape.group(0), neutral, 1)
        body = body.replace("<text ", _GROUP_INK, 1)
        return (
            f'<g id="{found["id"]}" class="node {found["state"]} nbflow-group">'
            f"<title>{found['title']}</title>{body}"
            f'<g class="nbflow-shares">{"".join(bar)}</g></g>'
        )

    return _NODE.sub(redraw, svg)
