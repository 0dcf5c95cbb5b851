"""A run's last state as static HTML and text: what a saved notebook keeps of a run.

A live run view is a widget, and a widget needs its kernel: reopened without one (after
a restart, on nbviewer or GitHub, in nbconvert's HTML, in papermill's output notebook)
it shows "model not found". So when a run ends, the kernel replaces the view's output
with :func:`snapshot_bundle`: ``text/html`` that needs nothing but a browser (the final
graph as an SVG image, the summary line, the states present with their colours, each
group drawn as one node opening (``<details>``) into its tasks and their states,
failures first, and each failed task opening into its error, traceback and output
tail) and ``text/plain`` with the summary and the failures. No script and no style
sheet are needed: notebooks that are not trusted keep only inline styles.

Taking a snapshot has two steps so the run is never kept waiting for ``dot``:
:func:`take_snapshot` copies what is needed from the run's
:class:`~nbflow.core.progress.RunProgress` (under the run's lock), and
:func:`snapshot_bundle` lays the graph out and renders it (outside the lock).

The HTML follows JupyterLab's theme variables, with fallbacks for pages without them,
so it reads in light and dark themes; every value that came from a task is escaped.

Imports: stdlib, nbflow.core.{dot, progress}, nbflow.widgets.{layout, progress}.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.core.dot import COLOURS, DotNode
from nbflow.core.layout import GROUP_ABOVE, GROUP_PREFIX, lay_out
from nbflow.core.progress import FAILED_STATES, STATE_WORDS, format_seconds, last_line
from nbflow.widgets.progress import SHOWN_FAILURES, output_tail, percent_done

if TYPE_CHECKING:
    from nbflow.core.progress import RunProgress, TaskState

#: Failed tasks listed in the text form; the rest are counted.
TEXT_FAILURES = 10
#: Tasks of a group listed in the snapshot (failures first); the rest are counted.
GROUP_SHOWN = 50
#: Lines of a failed task's output kept in the snapshot.
SNAPSHOT_OUTPUT_LINES = 50
#: The order in which a group lists its tasks' states: failures first, done last.
NOTABLE_STATES = (
    "FAILED",
    "DISABLED",
    "broken",
    "CANCELLED",
    "RUNNING",
    "BATCH_RUNNING",
    "UPSTREAM_FAILED",
    "UPSTREAM_DISABLED",
    "missing",
    "stale",
    "unversioned",
    "PENDING",
)
_RANK = {state: rank for rank, state in enumerate(NOTABLE_STATES)}
#: Inline styles (sanitized HTML drops the style sheet but keeps these).
_PRE_STYLE = (
    "color: var(--jp-content-font-color1, #1f1f1f); "
    "background: var(--jp-layout-color2, #f3f3f3); padding: 4px 6px; "
    "max-height: 320px; overflow: auto; white-space: pre-wrap; margin: 2px 0"
)
_LIST_STYLE = (
    "margin: 2px 0 4px 0; padding-left: 18px; max-height: 320px; overflow: auto"
)
#: The snapshot's look, scoped to it; colours from the theme, with fallbacks.
SNAPSHOT_CSS = """
.nbflow-snapshot { font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #1f1f1f);
  border: 1px solid var(--jp-border-color2, #d0d0d0); border-radius: 4px;
  padding: 6px 10px; margin: 2px 0; max-width: 100%; box-sizing: border-box; }
.nbflow-snapshot .nbflow-snapshot-head { display: flex; gap: 8px; align-items: baseline;
  flex-wrap: wrap; }
.nbflow-snapshot .nbflow-legend { margin: 4px 0; color: var(--jp-ui-font-color1, #1f1f1f); }
.nbflow-snapshot .nbflow-legend-item { margin-right: 10px; white-space: nowrap; }
.nbflow-snapshot .nbflow-snapshot-graph { overflow: auto; margin: 4px 0;
  max-height: 520px; }
.nbflow-snapshot .nbflow-snapshot-graph img { display: block; max-width: none; }
.nbflow-snapshot .nbflow-failure { border-left: 3px solid #e57373; padding: 2px 8px;
  margin: 6px 0; }
.nbflow-snapshot .nbflow-failure code, .nbflow-snapshot pre {
  color: var(--jp-content-font-color1, #1f1f1f);
  background: var(--jp-layout-color2, #f3f3f3); }
.nbflow-snapshot pre { padding: 4px 6px; max-height: 320px; overflow: auto;
  white-space: pre-wrap; margin: 2px 0; font-size: var(--jp-code-font-size, 12px); }
.nbflow-snapshot .nbflow-params th { text-align: left; font-weight: normal;
  color: var(--jp-ui-font-color2, #555); padding-right: 8px; }
.nbflow-snapshot summary { cursor: pointer; color: var(--jp-ui-font-color1, #1f1f1f); }
"""
_OUTCOME_COLOURS = {
    "succeeded": COLOURS["DONE"],
    "failed": COLOURS["FAILED"],
    "cancelled": COLOURS["CANCELLED"],
    "running": COLOURS["RUNNING"],
}
#: Edges are drawn in a grey that reads on white and on a dark theme's background.
EDGE_COLOUR = "#8a8a8a"
_VIEWBOX = re.compile(r'viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+) ([\d.]+)"')
#: graphviz's white canvas: the first polygon of the graph
_CANVAS = re.compile(
    r'(<g id="graph0"[^>]*>\s*(?:<title>[^<]*</title>\s*)?<polygon fill=")white'
)
_EDGE = re.compile(
    r'<g id="edge\d+" class="edge">.*?</g>|<g class="edge">.*?</g>', re.DOTALL
)
_EDGE_COLOURS = re.compile(r"black|#555")


@dataclass(frozen=True)
class FailedTask:
    """What the snapshot shows of one failed task."""

    label: str
    state: str
    error: str
    #: the user's frames
    traceback: str
    #: the last lines it printed or logged
    output: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """What a run's static view shows, copied out of its progress model."""

    title: str
    #: running, succeeded, failed or cancelled
    outcome: str
    #: the model's summary line (outcome, counts in words, wall time)
    summary: str
    #: ``2018/2021 done (99%) · 3 failed · 4.2 s``
    overall: str
    #: drawn state -> number of tasks, for the states present, in summary order
    counts: tuple[tuple[str, int], ...]
    nodes: tuple[DotNode, ...]
    families: tuple[tuple[str, str], ...]
    #: the first failed tasks, in the order they failed (at most SHOWN_FAILURES)
    failures: tuple[FailedTask, ...]
    #: ``failed Clean(day=1): ValueError: boom``, the first few
    failure_lines: tuple[str, ...]
    failed: int


def take_snapshot(progress: RunProgress, title: str) -> Snapshot:
    """Copy what the static view shows from ``progress`` (hold the run's lock)."""
    total, done = progress.total, progress.done
    failed = sum(progress.counts.get(state, 0) for state in FAILED_STATES)
    overall = f"{done}/{total} done ({percent_done(done, total)}%)"
    if failed:
        overall += f" · {failed} failed"
    if progress.started is not None:
        overall += f" · {format_seconds(progress.wall())}"
    counts = tuple(
        (state, progress.counts[state])
        for state in STATE_WORDS
        if progress.counts.get(state)
    )
    failure_lines = tuple(
        f"  {STATE_WORDS.get(record.state, record.state)} {record.label}: "
        f"{last_line(record.error, record.state.lower())}"
        for record in (
            progress.tasks[task_id] for task_id in list(progress.failed)[:TEXT_FAILURES]
        )
    )
    return Snapshot(
        title=title,
        outcome=progress.outcome,
        summary=progress.summary_line(),
        overall=overall,
        counts=counts,
        nodes=tuple(
            DotNode(task_id, record.label, record.state, record.deps)
            for task_id, record in progress.tasks.items()
        ),
        families=tuple(
            (task_id, record.family) for task_id, record in progress.tasks.items()
        ),
        failures=tuple(
            _failed_task(progress.tasks[task_id])
            for task_id in list(progress.failed)[:SHOWN_FAILURES]
        ),
        failure_lines=failure_lines,
        failed=len(progress.failed),
    )


def snapshot_text(snapshot: Snapshot) -> str:
    """Return the run's last state as plain text: title, summary, first failures.

    Examples
    --------
    >>> from nbflow.core.progress import RunProgress
    >>> print(snapshot_text(take_snapshot(RunProgress(), "nbflow run 1 (A())")))
    nbflow run 1 (A()): running
    running: 0 tasks: none
    """
    lines = [f"{snapshot.title}: {snapshot.outcome}", snapshot.summary]
    lines.extend(snapshot.failure_lines)
    if snapshot.failed > len(snapshot.failure_lines):
        lines.append(f"  … and {snapshot.failed - len(snapshot.failure_lines)} more")
    return "\n".join(lines)


def snapshot_html(snapshot: Snapshot, *, group_above: int = GROUP_ABOVE) -> str:
    """Return the run's last state as self-contained, escaped HTML (lays it out)."""
    outcome = _escape(snapshot.outcome)
    parts = [
        (
            '<div class="nbflow-snapshot" '
            'style="color: var(--jp-ui-font-color1, #1f1f1f)">'
        ),
        f"<style>{SNAPSHOT_CSS}</style>",
        '<div class="nbflow-snapshot-head">',
        f"<b>{_escape(snapshot.title)}</b> ",
        (
            f'<span class="nbflow-outcome nbflow-outcome-{outcome}" '
            f'style="{_badge_style(snapshot.outcome)}">{outcome}</span> '
        ),
        f'<span class="nbflow-overall-text">{_escape(snapshot.overall)}</span>',
        "</div>",
        f'<div class="nbflow-summary">{_escape(snapshot.summary)}</div>',
        _legend_html(snapshot.counts),
    ]
    if snapshot.nodes:
        layout = lay_out(
            list(snapshot.nodes),
            families=dict(snapshot.families),
            group_above=group_above,
        )
        image = graph_image(layout.svg, snapshot.summary)
        parts.append(f'<div class="nbflow-snapshot-graph">{image}</div>')
        parts.append(_groups_html(snapshot.nodes, layout.node_of))
    parts.extend((_failures_html(snapshot), "</div>"))
    return "".join(parts)


def snapshot_bundle(
    snapshot: Snapshot, *, group_above: int = GROUP_ABOVE
) -> dict[str, str]:
    """Return the static output of a run: ``text/html`` and ``text/plain``."""
    return {
        "text/html": snapshot_html(snapshot, group_above=group_above),
        "text/plain": snapshot_text(snapshot),
    }


def _legend_html(counts: tuple[tuple[str, int], ...]) -> str:
    # a coloured mark, not a box: sanitized HTML (untrusted notebooks) keeps colours
    # but drops the style sheet that would size an empty box
    items = " ".join(
        f'<span class="nbflow-legend-item" data-state="{_escape(state)}">'
        f'<span class="nbflow-swatch-mark" '
        f'style="color: {COLOURS.get(state, COLOURS["PENDING"])}">\N{BLACK SQUARE}'
        f"</span> {_escape(STATE_WORDS.get(state, state))} ({count})</span>"
        for state, count in counts
    )
    return f'<div class="nbflow-legend">{items}</div>'


def graph_image(svg: str, alt: str) -> str:
    """Return ``svg`` as an ``<img>`` with a ``data:`` URI, readable in any theme.

    An image, not inline SVG: notebooks that are not trusted (papermill's and
    nbclient's outputs, a notebook edited elsewhere) have their HTML sanitized, and
    that strips inline SVG. The canvas is made transparent and edges mid-grey, so the
    drawing reads on light and dark backgrounds alike.
    """
    svg = _CANVAS.sub(r"\1none", svg, count=1)
    svg = _EDGE.sub(lambda edge: _EDGE_COLOURS.sub(EDGE_COLOUR, edge.group(0)), svg)
    head = svg[: svg.find(">") + 1]
    found = _VIEWBOX.search(head)
    if found is not None and " width=" not in head:
        width, height = found.groups()
        svg = svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<img class="nbflow-graph" src="data:image/svg+xml;base64,{data}" '
        f'alt="{_escape(alt)}" style="max-width: none">'
    )


def decode_graph(page: str) -> str:
    """Return the SVG of the first graph image in ``page`` (for tests and tools).

    Examples
    --------
    >>> decode_graph(graph_image('<svg viewBox="0 0 4 2"></svg>', "a graph"))
    '<svg width="4" height="2" viewBox="0 0 4 2"></svg>'
    """
    found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    return "" if found is None else base64.b64decode(found.group(1)).decode("utf-8")


def _failed_task(record: TaskState) -> FailedTask:
    return FailedTask(
        label=record.label,
        state=record.state,
        error=record.error,
        traceback=record.traceback,
        output=tuple(output_tail(record, SNAPSHOT_OUTPUT_LINES)),
    )


def _state_mark(state: str) -> str:
    colour = COLOURS.get(state, COLOURS["PENDING"])
    return f'<span style="color: {colour}">\N{BLACK SQUARE}</span>'


def _groups_html(nodes: tuple[DotNode, ...], node_of: dict[str, str]) -> str:
    """Return a collapsed list of the tasks of each group node, failures first."""
    members: dict[str, list[DotNode]] = {}
    for node in nodes:
        members.setdefault(node_of.get(node.task_id, node.task_id), []).append(node)
    parts = [
        _group_html(node_id, tasks)
        for node_id, tasks in members.items()
        if len(tasks) > 1 or tasks[0].task_id != node_id
    ]
    return f'<div class="nbflow-groups">{"".join(parts)}</div>' if parts else ""


def _group_html(node_id: str, tasks: list[DotNode]) -> str:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    in_words = ", ".join(
        f"{count} {STATE_WORDS.get(state, state)}"
        for state, count in sorted(
            counts.items(), key=lambda item: _RANK.get(item[0], len(_RANK))
        )
    )
    ordered = sorted(tasks, key=lambda task: _RANK.get(task.state, len(_RANK)))
    items = "".join(
        f'<li data-task-id="{_escape(task.task_id)}">{_state_mark(task.state)} '
        f"{_escape(task.label)} <i>{_escape(STATE_WORDS.get(task.state, task.state))}"
        "</i></li>"
        for task in ordered[:GROUP_SHOWN]
    )
    if len(ordered) > GROUP_SHOWN:
        items += f"<li>… and {len(ordered) - GROUP_SHOWN} more</li>"
    family = node_id.removeprefix(GROUP_PREFIX)
    return (
        f'<details class="nbflow-group-tasks" data-group="{_escape(node_id)}">'
        '<summary style="cursor: pointer">'
        f"<b>{_escape(family)}</b> \N{MULTIPLICATION SIGN}{len(tasks)}: "
        f"{_escape(in_words)}</summary>"
        f'<ul style="{_LIST_STYLE}">{items}</ul></details>'
    )


def _failures_html(snapshot: Snapshot) -> str:
    """Return each failed task as a collapsed section: error, traceback, output."""
    if not snapshot.failures:
        return ""
    parts = ['<div class="nbflow-failures">']
    parts.extend(_failure_html(failure) for failure in snapshot.failures)
    if snapshot.failed > len(snapshot.failures):
        parts.append(
            f"<div>… and {snapshot.failed - len(snapshot.failures)} more failed</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _failure_html(failure: FailedTask) -> str:
    words = STATE_WORDS.get(failure.state, failure.state)
    error = last_line(failure.error, words)
    parts = [
        (
            '<details class="nbflow-failure" '
            f'style="border-left: 3px solid {COLOURS["FAILED"]}; padding: 2px 8px; '
            'margin: 6px 0">'
        ),
        (
            '<summary style="cursor: pointer">✗ '
            f"<b>{_escape(failure.label)}</b> <code>{_escape(error)}</code></summary>"
        ),
    ]
    if failure.error:
        parts.append(
            f'<pre class="nbflow-error" style="{_PRE_STYLE}">'
            f"{_escape(failure.error)}</pre>"
        )
    if failure.traceback:
        parts.append(
            "<div><b>Traceback (your code)</b></div>"
            f'<pre class="nbflow-traceback" style="{_PRE_STYLE}">'
            f"{_escape(failure.traceback)}</pre>"
        )
    if failure.output:
        lines = len(failure.output)
        parts.append(
            f"<div><b>Output (last {lines} line{'s' if lines != 1 else ''})</b></div>"
            f'<pre class="nbflow-output" style="{_PRE_STYLE}">'
            f"{_escape(chr(10).join(failure.output))}</pre>"
        )
    parts.append("</details>")
    return "".join(parts)


def _badge_style(outcome: str) -> str:
    colour = _OUTCOME_COLOURS.get(outcome, COLOURS["PENDING"])
    return (
        f"background-color: {colour}; color: #111; padding: 0 6px; "
        "border-radius: 3px; font-weight: 600"
    )


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)
