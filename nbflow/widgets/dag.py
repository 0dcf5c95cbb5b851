"""The graph widgets: a DAG laid out once, then recoloured by node state.

:class:`DagWidget` is an anywidget whose front end (``static/dag.js``) draws the ``svg``
trait once, then only applies the ``states`` trait (node id -> state) by setting CSS
classes on the SVG nodes, and ``shares`` (group node id -> tasks by state) as a bar in
each group node. Labels stay readable (wide graphs scroll sideways); it offers zoom
(ctrl+wheel, buttons), pan (drag) and a details panel: a click sets ``selected`` and
Python answers with the small ``detail`` trait (a task: its state in words, output
tail and traceback; a group: its family and counts, its tasks listed from ``groups``).
While a cell waits for a run the kernel answers nothing, so a RunView also syncs, ahead
of any click, the details of the tasks a user is likely to pick (``known``: the failed,
which change rarely; ``known_recent``: the running and the last finished; bounded):
the front end shows those at once, and for any
other task what it knows itself (label, state in words) until Python answers.
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

Imports: anywidget, traitlets, stdlib, nbflow.core, nbflow.widgets.{layout, progress,
snapshot}.
"""

from __future__ import annotations

import threading
import time
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbflow.core.dot import COLOURS, DotNode
from nbflow.core.layout import GROUP_ABOVE, GROUP_PREFIX, group_state, lay_out
from nbflow.core.progress import PLAN_WORDS, STATE_WORDS, Changes, RunProgress
from nbflow.widgets.progress import failures_html, progress_html
from nbflow.widgets.snapshot import NOTABLE_STATES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.core.layout import Layout
    from nbflow.core.progress import TaskState
    from nbflow.core.run import Run

STATIC = Path(__file__).parent / "static"
#: nbflow's graph renderer, shared with the web visualiser (package data).
SHARED_STATIC = Path(__file__).parent.parent / "static"
#: The words of a graph drawn without running it (``%nbflow graph``).
GRAPH_WORDS = {**STATE_WORDS, **PLAN_WORDS}
#: Seconds between two layouts of a graph that grows while it runs.
RELAYOUT_INTERVAL = 2.0
#: Lines of a task's captured output shown in its details.
OUTPUT_LINES = 50
#: Tasks of a group listed in its details with their state (failures first).
GROUP_LISTED = 200
#: Failed tasks whose details a RunView syncs ahead of a click (``known``)...
KNOWN_FAILED = 100
#: ... running tasks ...
KNOWN_RUNNING = 80
#: ... and tasks that finished last: at most 200 entries in all.
KNOWN_FINISHED = 20


def colour_css(colours: dict[str, str] = COLOURS) -> str:
    """Return the CSS that colours nodes and legend swatches by state.

    ``nbflow/static/graph.css`` ends with these rules (a test keeps them equal).
    """
    shapes = ":is(path, polygon, rect, ellipse)"
    return "\n".join(
        f".nbflow-view g.node.{state} > {shapes} {{ fill: {colour}; }}\n"
        f".nbflow-view .nbflow-swatch.{state} {{ background: {colour}; }}\n"
        f".nbflow-view .nbflow-share.{state} {{ fill: {colour}; }}"
        for state, colour in colours.items()
    )


def legend_of(present: Iterable[str], words: Mapping[str, str]) -> dict[str, str]:
    """Return the legend of the states in ``present``, in the order of ``words``.

    Examples
    --------
    >>> legend_of({"FAILED", "DONE"}, STATE_WORDS)
    {'DONE': 'done', 'FAILED': 'failed'}
    """
    present = set(present)
    legend = {state: text for state, text in words.items() if state in present}
    legend.update((state, state) for state in sorted(present - set(words)))
    return legend


def output_tail(chunks: Iterable[str], lines: int = OUTPUT_LINES) -> str:
    r"""Return the last ``lines`` lines of a task's captured output.

    ``chunks`` are lines (with or without their line ends) or pieces of text.

    Examples
    --------
    >>> output_tail(["a\nb\n", "c"], lines=2)
    'b\nc'
    """
    text = "".join(chunk if chunk.endswith("\n") else chunk + "\n" for chunk in chunks)
    return "\n".join(text.splitlines()[-lines:])


def group_detail(
    node_id: str, members: list[str], state_of: Mapping[str, str]
) -> dict[str, Any]:
    """Return the details of a group node: family, counts and its notable tasks.

    ``state_of`` maps each member to its drawn state. The tasks listed are those not
    done, most notable first (failures), at most :data:`GROUP_LISTED`.
    """
    counts: dict[str, int] = {}
    by_state: dict[str, list[str]] = {}
    for task_id in members:
        state = state_of[task_id]
        counts[state] = counts.get(state, 0) + 1
        if state in NOTABLE_STATES and len(by_state.get(state, ())) < GROUP_LISTED:
            by_state.setdefault(state, []).append(task_id)
    notable = [
        [task_id, state]
        for state in NOTABLE_STATES
        for task_id in by_state.get(state, ())
    ]
    return {
        "group": node_id,
        "label": node_id.removeprefix(GROUP_PREFIX),
        "tasks": len(members),
        "counts": counts,
        "notable": notable[:GROUP_LISTED],
    }


def bundle_esm() -> str:
    """Return the widget's ES module: the shared renderer, then the widget's glue.

    ``dag.js`` imports the renderer (``../../static/graph.js``) on its first line, so
    it also loads as a module of its own; anywidget takes one module's text, so the
    two files are joined and that import line dropped.
    """
    renderer = (SHARED_STATIC / "graph.js").read_text(encoding="utf-8")
    glue = (STATIC / "dag.js").read_text(encoding="utf-8")
    first, _, rest = glue.partition("\n")
    if not first.startswith("import "):
        msg = f"{STATIC / 'dag.js'} must start with its import of graph.js"
        raise RuntimeError(msg)
    return f"{renderer}\n// --- nbflow/widgets/static/dag.js ---\n{rest}"


def bundle_css() -> str:
    """Return the widget's CSS: the shared renderer's (state colours included), then its own."""
    return (SHARED_STATIC / "graph.css").read_text(encoding="utf-8") + (
        STATIC / "dag.css"
    ).read_text(encoding="utf-8")


class DagWidget(anywidget.AnyWidget):
    """A graph drawn once from ``svg`` and recoloured from ``states``."""

    _esm = bundle_esm()
    _css = bundle_css()

    #: The drawing (sent when the graph is laid out, normally once).
    svg = traitlets.Unicode("").tag(sync=True)
    #: node id -> state (a status name, "complete" or "stale").
    states = traitlets.Dict().tag(sync=True)
    #: group node id -> {state: tasks}: the share of each state in a group.
    shares = traitlets.Dict().tag(sync=True)
    #: group node id -> [[task_id, label], ...] (sent with the drawing).
    groups = traitlets.Dict().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    #: The node or grouped task the user picked (set by the front end).
    selected = traitlets.Unicode("").tag(sync=True)
    #: What the details panel shows for ``selected``.
    detail = traitlets.Dict().tag(sync=True)
    #: task id -> details of failed tasks, synced before any click (sent as tasks fail).
    known = traitlets.Dict().tag(sync=True)
    #: task id -> details of running and last finished tasks (sent as they change).
    known_recent = traitlets.Dict().tag(sync=True)
    #: Escaped HTML of the progress panel.
    progress = traitlets.Unicode("").tag(sync=True)
    #: Escaped HTML of the failure panel.
    failures = traitlets.Unicode("").tag(sync=True)
    #: The states present, with the words the legend uses for them.
    legend = traitlets.Dict().tag(sync=True)
    #: Every state's words in this view (details, hover texts).
    words = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("words", dict(STATE_WORDS))
        super().__init__(**kwargs)

    def _task_detail(self, detail: dict[str, Any]) -> dict[str, Any]:
        """Add the state in words; keep the captured output as one text.

        The selected task's detail has all of its captured tail (the last lines of
        its run's log as a terminal shows them, nbflow.core.capture): the view's box
        shows the last ones and scrolls back to the rest. Details synced ahead of a
        click keep the last OUTPUT_LINES.
        """
        if detail:
            detail["state_words"] = self.words.get(detail["state"], detail["state"])
            captured = detail.get("output") or ()
            whole = detail.get("task_id") == self.selected
            lines = max(OUTPUT_LINES, len(captured)) if whole else OUTPUT_LINES
            detail["output"] = output_tail(captured, lines)
            detail.setdefault("full_traceback", "")
        return detail


class GraphView(DagWidget):
    """A static drawing of ``nodes`` (``%nbflow graph``), with the same rendering.

    Examples
    --------
    >>> from nbflow.core.dot import DotNode
    >>> view = GraphView([DotNode("a", "A()", "DONE", ())], title="demo")
    >>> view.states, view.legend
    ({'a': 'DONE'}, {'DONE': 'done'})
    """

    def __init__(
        self, nodes: Iterable[DotNode], title: str = "", **kwargs: Any
    ) -> None:
        self._nodes = {node.task_id: node for node in nodes}
        layout = lay_out(list(self._nodes.values()), group_above=GROUP_ABOVE)
        self._members: dict[str, list[str]] = {}
        for task_id, node_id in layout.node_of.items():
            self._members.setdefault(node_id, []).append(task_id)
        self._state_of = {task_id: node.state for task_id, node in self._nodes.items()}
        states = {
            node_id: group_state(self._state_of[task_id] for task_id in members)
            for node_id, members in self._members.items()
        }
        grouped = {
            node_id: members
            for node_id, members in self._members.items()
            if members != [node_id]
        }
        kwargs.setdefault("words", GRAPH_WORDS)
        kwargs.setdefault("legend", legend_of(self._state_of.values(), GRAPH_WORDS))
        super().__init__(
            svg=layout.svg,
            states=states,
            shares={
                node_id: group_detail(node_id, members, self._state_of)["counts"]
                for node_id, members in grouped.items()
            },
            groups={
                node_id: [[task_id, self._nodes[task_id].label] for task_id in members]
                for node_id, members in grouped.items()
            },
            title=title,
            **kwargs,
        )
        self._group_of = {
            task_id: node_id
            for node_id, members in grouped.items()
            if len(members) > 1
            for task_id in members
        }
        self.engine = layout.engine
        self.observe(self._show_detail, names="selected")

    def _show_detail(self, change: dict[str, Any]) -> None:
        picked = change["new"]
        members = self._members.get(picked, [picked] if picked in self._nodes else [])
        if len(members) > 1:
            self.detail = group_detail(picked, members, self._state_of)
        elif members:
            node = self._nodes[members[0]]
            detail = {
                "task_id": node.task_id,
                "label": node.label,
                "state": node.state,
                "deps": len(node.deps),
            }
            if node.task_id in self._group_of:
                detail["group"] = self._group_of[node.task_id]
            self.detail = self._task_detail(detail)
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


def _ended(record: TaskState) -> float:
    """Return when ``record``'s task ended (0.0 if it has not): a sort key."""
    return record.ended or 0.0


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
        #: group node id -> {state: tasks}, and the state each grouped task was counted in
        self._shares: dict[str, dict[str, int]] = {}
        self._seen: dict[str, str] = {}
        #: the tasks that finished last, oldest first (at most KNOWN_FINISHED)
        self._finished: dict[str, None] = {}
        #: the synced details of tasks that ended, kept until their state changes
        self._settled: dict[str, dict[str, Any]] = {}
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
                values.update(self._lay_out(*to_lay_out))
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
        nodes = [
            DotNode(task_id, record.label, record.state, record.deps)
            for task_id, record in progress.tasks.items()
        ]
        families = {
            task_id: record.family for task_id, record in progress.tasks.items()
        }
        return nodes, families

    def _lay_out(
        self, nodes: list[DotNode], families: dict[str, str]
    ) -> dict[str, Any]:
        """Lay ``nodes`` out; return the drawing and the tasks of each group."""
        layout = lay_out(nodes, families=families, group_above=self.group_above)
        members: dict[str, list[str]] = {}
        for task_id, node_id in layout.node_of.items():
            members.setdefault(node_id, []).append(task_id)
        self._layout, self._members = layout, members
        self._node_states = {}
        self._seen = {}
        self._shares = {
            node_id: {} for node_id, tasks in members.items() if tasks != [node_id]
        }
        self._laid_out_at = time.monotonic()
        labels = {node.task_id: node.label for node in nodes}
        groups = {
            node_id: [[task_id, labels[task_id]] for task_id in members[node_id]]
            for node_id in self._shares
        }
        return {"svg": layout.svg, "groups": groups}

    def _recount(self, changed: set[str]) -> set[str]:
        """Apply the changed tasks' states to their nodes; return the groups touched.

        A group's counts change by the tasks that moved: O(changed), whatever the
        size of the groups.
        """
        assert self._layout is not None  # noqa: S101  (called once laid out)
        node_of, tasks = self._layout.node_of, self._progress.tasks
        shares, seen, node_states = self._shares, self._seen, self._node_states
        touched: set[str] = set()
        for task_id in changed:  # the hot loop of a view: local names, no calls
            node_id = node_of.get(task_id)
            if node_id is None:
                continue
            state = tasks[task_id].state
            counts = shares.get(node_id)
            if counts is None:  # a node of its own
                node_states[node_id] = state
                continue
            old = seen.get(task_id)
            if old == state:
                continue
            if old is not None:
                left = counts[old] - 1
                if left:
                    counts[old] = left
                else:
                    del counts[old]
            counts[state] = counts.get(state, 0) + 1
            seen[task_id] = state
            touched.add(node_id)
        for node_id in touched:
            node_states[node_id] = group_state(shares[node_id])
        return touched

    def _changed_values(
        self, changed: set[str], *, panel_dirty: bool
    ) -> dict[str, Any]:
        progress = self._progress
        values: dict[str, Any] = {}
        if self._layout is not None and changed:
            if self._recount(changed):
                values["shares"] = {
                    node_id: dict(counts) for node_id, counts in self._shares.items()
                }
            values["states"] = dict(self._node_states)
        legend = legend_of(
            (state for state, count in progress.counts.items() if count), STATE_WORDS
        )
        if legend != self.legend:
            values["legend"] = legend
        if panel_dirty or progress.running:
            values["progress"] = self._progress_html()
        if panel_dirty:
            values["failures"] = failures_html(progress)
        values["detail"] = self._detail(self.selected) if self.selected else {}
        known, recent = self._known(changed)
        if known != self.known:
            values["known"] = known
        if recent != self.known_recent:
            values["known_recent"] = recent
        return values

    def _known(self, changed: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the details the front end shows without asking.

        Failed tasks (at most :data:`KNOWN_FAILED`), and apart, as they change more
        often, running ones and the last finished. Bounded whatever the run's size;
        the details of ended tasks are made once; the full traceback is left for
        Python's answer to a click.
        """
        progress = self._progress
        tasks, forget = progress.tasks, self._settled.pop
        done = []
        for task_id in changed:
            forget(task_id, None)
            record = tasks.get(task_id)
            if record is not None and record.state == "DONE":
                done.append(record)
        done.sort(key=_ended)
        for record in done[-KNOWN_FINISHED:]:  # the rest would be dropped below
            self._finished.pop(record.task_id, None)
            self._finished[record.task_id] = None
        while len(self._finished) > KNOWN_FINISHED:
            del self._finished[next(iter(self._finished))]
        failed = list(islice(progress.failed, KNOWN_FAILED))
        known = {task_id: self._settled_detail(task_id) for task_id in failed}
        recent = {
            task_id: self._known_detail(task_id)
            for task_id in islice(progress.running, KNOWN_RUNNING)
        }
        recent.update(
            (task_id, self._settled_detail(task_id))
            for task_id in reversed(self._finished)
            if task_id not in recent
        )
        self._settled = {
            task_id: self._settled[task_id]
            for task_id in (*known, *recent)
            if task_id in self._settled
        }
        return known, recent

    def _settled_detail(self, task_id: str) -> dict[str, Any]:
        detail = self._settled.get(task_id)
        if detail is None:
            detail = self._settled[task_id] = self._known_detail(task_id)
        return detail

    def _known_detail(self, task_id: str) -> dict[str, Any]:
        detail = self._task_detail_of(task_id)
        detail.pop("full_traceback", None)
        return detail

    def _progress_html(self) -> str:
        progress = self._progress
        if progress.is_discovering:
            return (
                f'<div class="nbflow-overall">discovering: {progress.total} tasks</div>'
            )
        return progress_html(progress)

    def _detail(self, picked: str) -> dict[str, Any]:
        """Return the details of ``picked``: a node, or a task inside a group."""
        members = self._members.get(picked, [picked])
        tasks = self._progress.tasks
        if len(members) > 1:
            state_of = {task_id: tasks[task_id].state for task_id in members}
            return group_detail(picked, members, state_of)
        return self._task_detail_of(members[0])

    def _task_detail_of(self, task_id: str) -> dict[str, Any]:
        detail = self._progress.detail(task_id)
        node_id = self._layout.node_of.get(task_id, "") if self._layout else ""
        if len(self._members.get(node_id, ())) > 1:
            detail["group"] = node_id
        return self._task_detail(detail)

    # --- text -------------------------------------------------------------------------

    @property
    def run_progress(self) -> RunProgress:
        """The run's progress this view renders (read it under the run's lock)."""
        return self._progress

    def __repr__(self) -> str:
        with self._lock:
            return f"{self.title}: {self._progress.summary_line()}"
