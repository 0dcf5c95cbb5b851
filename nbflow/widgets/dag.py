"""The graph widgets: a DAG laid out once, then recoloured by node state.

:class:`DagWidget` is an anywidget whose front end (``static/dag.js``) draws the ``svg``
trait once, then only applies the ``states`` trait (node id -> state) by setting CSS
classes on the SVG nodes. It offers zoom (wheel, buttons), pan (drag) and a details
panel: a click sets ``selected`` and Python answers with the small ``detail`` trait.
Two views build on it:

- :class:`GraphView`, a static drawing of a list of :class:`~nbflow.core.dot.DotNode`;
- :class:`RunView`, a live view of a :class:`~nbflow.core.run.Run` that adds the
  progress and failure panels (HTML escaped in Python, see
  :mod:`nbflow.widgets.progress`).

Theory of operation (RunView)
-----------------------------
A RunView keeps no run state: it renders the run's
:class:`~nbflow.core.progress.RunProgress`. It is one of the run's watchers
(:meth:`~nbflow.core.run.Run.watch`): the run's view thread calls it with what changed,
at most once per ``interval`` (0.1 s) and once a second while tasks run (so elapsed
times move), and a last time in the run's thread as the run ends, so the view is final
when ``Run.wait()`` returns. A flush turns what changed into trait values, read under
the run's lock, and sends them together (``hold_sync``: one message). Flushes are
serialised by ``_flush_lock``; the slow part, the layout, happens outside the run's
lock so the run never waits for ``dot``.

Imports: anywidget, traitlets, stdlib, nbflow.core, nbflow.widgets.{layout, progress}.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbflow.core.dot import COLOURS, DotNode
from nbflow.core.progress import PLAN_WORDS, STATE_WORDS, Changes, RunProgress
from nbflow.widgets.layout import GROUP_ABOVE, group_state, lay_out
from nbflow.widgets.progress import failures_html, progress_html

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.run import Run
    from nbflow.widgets.layout import Layout

STATIC = Path(__file__).parent / "static"
#: The states a run's legend explains (batch runs and upstream-disabled look alike;
#: missing and broken are words of graphs that are not running).
LEGEND = {
    state: words
    for state, words in STATE_WORDS.items()
    if state not in {"BATCH_RUNNING", "UPSTREAM_DISABLED", "missing", "broken"}
}
#: The states of a graph drawn without running it (``%nbflow graph``).
GRAPH_LEGEND = {state: STATE_WORDS[state] for state in PLAN_WORDS}
#: Seconds between two layouts of a graph that grows while it runs.
RELAYOUT_INTERVAL = 2.0


def colour_css(colours: dict[str, str] = COLOURS) -> str:
    """Return the CSS that colours nodes and legend swatches by state."""
    shapes = ":is(path, polygon, rect, ellipse)"
    return "\n".join(
        f".nbflow-view g.node.{state} > {shapes} {{ fill: {colour}; }}\n"
        f".nbflow-view .nbflow-swatch.{state} {{ background: {colour}; }}"
        for state, colour in colours.items()
    )


class DagWidget(anywidget.AnyWidget):
    """A graph drawn once from ``svg`` and recoloured from ``states``."""

    _esm = STATIC / "dag.js"
    _css = (STATIC / "dag.css").read_text(encoding="utf-8") + colour_css()

    #: The drawing (sent when the graph is laid out, normally once).
    svg = traitlets.Unicode("").tag(sync=True)
    #: node id -> state (a status name, "complete" or "stale").
    states = traitlets.Dict().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    #: The node the user clicked (set by the front end).
    selected = traitlets.Unicode("").tag(sync=True)
    #: What the details panel shows for ``selected``.
    detail = traitlets.Dict().tag(sync=True)
    #: Escaped HTML of the progress panel.
    progress = traitlets.Unicode("").tag(sync=True)
    #: Escaped HTML of the failure panel.
    failures = traitlets.Unicode("").tag(sync=True)
    #: State names and the words the legend uses for them.
    legend = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("legend", dict(LEGEND))
        super().__init__(**kwargs)


class GraphView(DagWidget):
    """A static drawing of ``nodes`` (``%nbflow graph``), with the same rendering.

    Examples
    --------
    >>> from nbflow.core.dot import DotNode
    >>> view = GraphView([DotNode("a", "A()", "DONE", ())], title="demo")
    >>> view.states
    {'a': 'DONE'}
    """

    def __init__(
        self, nodes: Iterable[DotNode], title: str = "", **kwargs: Any
    ) -> None:
        self._nodes = {node.task_id: node for node in nodes}
        layout = lay_out(list(self._nodes.values()), group_above=GROUP_ABOVE)
        self._members: dict[str, list[str]] = {}
        for task_id, node_id in layout.node_of.items():
            self._members.setdefault(node_id, []).append(task_id)
        states = {
            node_id: group_state(self._nodes[task_id].state for task_id in members)
            for node_id, members in self._members.items()
        }
        kwargs.setdefault("legend", dict(GRAPH_LEGEND))
        super().__init__(svg=layout.svg, states=states, title=title, **kwargs)
        self.engine = layout.engine
        self.observe(self._show_detail, names="selected")

    def _show_detail(self, change: dict[str, Any]) -> None:
        members = self._members.get(change["new"], [])
        if len(members) == 1:
            node = self._nodes[members[0]]
            self.detail = {
                "task_id": node.task_id,
                "label": node.label,
                "state": node.state,
                "deps": len(node.deps),
            }
        elif members:
            self.detail = {"label": change["new"], "tasks": len(members)}
        else:
            self.detail = {}

    def __repr__(self) -> str:
        lines = [f"nbflow graph {self.title!r}: {len(self._nodes)} tasks"]
        lines.extend(
            f"  {node.label} [{node.state}]" for node in list(self._nodes.values())[:20]
        )
        if len(self._nodes) > 20:  # noqa: PLR2004
            lines.append(f"  … and {len(self._nodes) - 20} more")
        return "\n".join(lines)


class RunView(DagWidget):
    """A live view of ``run``: its graph, progress bars and failures.

    Watches ``run`` (drawing what happened so far first); :meth:`close` stops that.
    """

    def __init__(
        self, run: Run, *, interval: float = 0.1, group_above: int = GROUP_ABOVE
    ) -> None:
        roots = ", ".join(repr(task) for task in run.roots[:3])
        super().__init__(title=f"nbflow run {roots}")
        self.interval = interval
        self.group_above = group_above
        self._progress = run.progress or RunProgress()
        self._lock = run.lock  # guards the run's progress
        self._flush_lock = threading.Lock()  # one flush at a time
        self._layout: Layout | None = None
        self._members: dict[str, list[str]] = {}
        self._node_states: dict[str, str] = {}
        self._grown = False
        self._laid_out_at = 0.0
        self.observe(self._on_selected, names="selected")
        self._unwatch = run.watch(self._flush, interval=interval)

    def close(self) -> None:
        """Stop watching the run and close the widget."""
        self._unwatch()
        super().close()

    # --- flushing ---------------------------------------------------------------------

    def _on_selected(self, _change: dict[str, Any]) -> None:
        self._flush(Changes(grown=False, changed=set(), panel=False))

    def _flush(self, changes: Changes) -> None:
        """Send what changed since the last flush, as one message."""
        with self._flush_lock:
            with self._lock:
                self._grown |= changes.grown
                to_lay_out = self._nodes_to_lay_out()
            values: dict[str, Any] = {}
            if to_lay_out is not None:
                values["svg"] = self._lay_out(*to_lay_out)
            with self._lock:
                changed = changes.changed
                if to_lay_out is not None:
                    changed = set(self._progress.tasks)
                values.update(self._changed_values(changed, panel_dirty=changes.panel))
            with self.hold_sync():
                for name, value in values.items():
                    setattr(self, name, value)

    def _nodes_to_lay_out(self) -> tuple[list[DotNode], dict[str, str]] | None:
        progress = self._progress
        if not self._grown or progress.is_discovering:
            return None  # still discovering: lay out once the whole graph is known
        if (
            self._layout is not None
            and progress.finished is None
            and time.monotonic() - self._laid_out_at < RELAYOUT_INTERVAL
        ):
            return None
        self._grown = False
        # a big graph is drawn one node per family: no per-task labels are needed
        labelled = len(progress.tasks) <= self.group_above
        nodes = [
            DotNode(
                task_id, record.label if labelled else "", record.state, record.deps
            )
            for task_id, record in progress.tasks.items()
        ]
        families = {
            task_id: record.family for task_id, record in progress.tasks.items()
        }
        return nodes, families

    def _lay_out(self, nodes: list[DotNode], families: dict[str, str]) -> str:
        layout = lay_out(nodes, families=families, group_above=self.group_above)
        members: dict[str, list[str]] = {}
        for task_id, node_id in layout.node_of.items():
            members.setdefault(node_id, []).append(task_id)
        self._layout, self._members = layout, members
        self._node_states = {}
        self._laid_out_at = time.monotonic()
        return layout.svg

    def _changed_values(
        self, changed: set[str], *, panel_dirty: bool
    ) -> dict[str, Any]:
        progress = self._progress
        values: dict[str, Any] = {}
        if self._layout is not None and changed:
            node_of = self._layout.node_of
            for node_id in {
                node_of[task_id] for task_id in changed if task_id in node_of
            }:
                members = self._members[node_id]
                self._node_states[node_id] = group_state(
                    progress.tasks[task_id].state for task_id in members
                )
            values["states"] = dict(self._node_states)
        if panel_dirty or progress.running:
            values["progress"] = self._progress_html()
        if panel_dirty:
            values["failures"] = failures_html(progress)
        values["detail"] = self._detail(self.selected) if self.selected else {}
        return values

    def _progress_html(self) -> str:
        progress = self._progress
        if progress.is_discovering:
            return (
                f'<div class="nbflow-overall">discovering: {progress.total} tasks</div>'
            )
        return progress_html(progress)

    def _detail(self, node_id: str) -> dict[str, Any]:
        members = self._members.get(node_id, [node_id])
        if len(members) == 1:
            return self._progress.detail(members[0])
        counts: dict[str, int] = {}
        for task_id in members:
            state = self._progress.tasks[task_id].state
            counts[state] = counts.get(state, 0) + 1
        return {"label": node_id, "tasks": len(members), "counts": counts}

    # --- text -------------------------------------------------------------------------

    @property
    def run_progress(self) -> RunProgress:
        """The run's progress this view renders (read it under the run's lock)."""
        return self._progress

    def __repr__(self) -> str:
        with self._lock:
            return f"{self.title}: {self._progress.summary_line()}"
