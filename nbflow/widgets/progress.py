"""What a run view knows of a run, fed only by notifications, and its HTML rendering.

:class:`RunBoard` applies each notification in O(1) and remembers what changed since it
was last asked (new tasks, tasks whose state changed, anything shown in the progress
panel). It holds plain values only (strings, numbers), never a Task. It is not
thread-safe: :class:`nbflow.widgets.dag.RunView` guards it with a lock.

The HTML functions render the progress panel (overall bar, a bar per running task with
its status message, tracking link and elapsed time, the final summary line) and the
failure panel (each failed task's error, parameters and collapsed traceback). Every
value that came from a task is escaped, and only http(s) URLs become links.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)

if TYPE_CHECKING:
    from nbflow.core.events import Notification

#: Statuses in which a task occupies a worker.
RUNNING_STATES = frozenset({"RUNNING", "BATCH_RUNNING"})
#: Statuses shown in the failure panel.
FAILED_STATES = frozenset({"FAILED", "DISABLED"})
#: Display states in summary order, with the words the summary uses.
STATE_WORDS = {
    "DONE": "done",
    "complete": "complete before the run",
    "RUNNING": "running",
    "BATCH_RUNNING": "running in batches",
    "PENDING": "pending",
    "FAILED": "failed",
    "DISABLED": "disabled",
    "UPSTREAM_FAILED": "upstream failed",
    "UPSTREAM_DISABLED": "upstream disabled",
    "stale": "stale",
}
#: Running tasks listed one by one; the rest are counted.
SHOWN_RUNNING = 12
#: Failed tasks shown in full; the rest are counted.
SHOWN_FAILURES = 20


def format_seconds(seconds: float) -> str:
    """Return a short duration such as ``0.4 s``, ``12 s`` or ``3 min 05 s``.

    Examples
    --------
    >>> format_seconds(0.42), format_seconds(12.3), format_seconds(185)
    ('0.4 s', '12 s', '3 min 05 s')
    """
    if seconds < 10:  # noqa: PLR2004
        return f"{max(seconds, 0.0):.1f} s"
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def is_web_url(url: str) -> bool:
    """Return whether ``url`` is safe to link to (http or https only).

    Examples
    --------
    >>> is_web_url("https://ci.example/job/1"), is_web_url("javascript:alert(1)")
    (True, False)
    """
    return url.lower().startswith(("http://", "https://"))


def task_label(family: str, params: tuple[tuple[str, str], ...]) -> str:
    """Return ``Family(name=value, ...)``.

    Examples
    --------
    >>> task_label("Clean", (("day", "2024-01-31"),))
    'Clean(day=2024-01-31)'
    """
    return f"{family}({', '.join(f'{name}={value}' for name, value in params)})"


@dataclass
class TaskRecord:
    """What the board knows of one task."""

    family: str
    params: tuple[tuple[str, str], ...]
    deps: tuple[str, ...]
    state: str
    started: float | None = None
    ended: float | None = None
    percentage: float | None = None
    message: str = ""
    url: str = ""
    error: str = ""
    traceback: str = ""
    cause: str = ""

    @property
    def label(self) -> str:
        """``Family(name=value, ...)``."""
        return task_label(self.family, self.params)


@dataclass
class RunBoard:
    """The run as a view sees it, with what changed since :meth:`take_changes`."""

    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: Running task ids, in the order they started.
    running: dict[str, None] = field(default_factory=dict)
    #: Failed task ids, in the order they failed.
    failed: dict[str, None] = field(default_factory=dict)
    started: float | None = None
    finished: float | None = None
    #: "running" until RunFinished, then its state.
    outcome: str = "running"
    #: The graph gained tasks since the last take_changes().
    grown: bool = False
    #: Tasks whose state changed since the last take_changes().
    changed: set[str] = field(default_factory=set)
    #: Anything in the progress or failure panel changed.
    panel_dirty: bool = False

    def apply(self, notification: Notification) -> None:
        """Record one notification (O(1))."""
        if isinstance(notification, TaskAdded):
            self._add(notification)
        elif isinstance(notification, TaskStatusChanged):
            self._change(notification)
        elif isinstance(notification, RunStarted):
            self.started = notification.at
        elif isinstance(notification, RunFinished):
            self.finished, self.outcome = notification.at, notification.state
        else:
            record = self.tasks.get(notification.task_id)
            if record is None:
                return
            if isinstance(notification, TaskProgressed):
                record.percentage = notification.percentage
            elif isinstance(notification, TaskMessage):
                record.message = notification.message
            elif isinstance(notification, TaskTrackingUrl):
                record.url = notification.url
        self.panel_dirty = True

    def _add(self, notification: TaskAdded) -> None:
        state = notification.status.value
        if notification.status is Status.DONE and notification.complete_before:
            state = "complete"
        elif notification.status is Status.PENDING and notification.reason.startswith(
            "stale"
        ):
            state = "stale"  # outputs exist but were made by other code or inputs
        if notification.task_id in self.tasks:
            return
        self.tasks[notification.task_id] = TaskRecord(
            notification.family, notification.params, notification.deps, state
        )
        self._count(state, 1)
        self.grown = True
        self._enter(notification.task_id, state, notification.at)

    def _change(self, notification: TaskStatusChanged) -> None:
        # the hot path of a big run (two per task): local names, no helper calls
        task_id = notification.task_id
        record = self.tasks.get(task_id)
        if record is None:
            return
        counts = self.counts
        counts[record.state] -= 1
        self.running.pop(task_id, None)
        state = record.state = notification.status._value_  # Enum.value is slow
        counts[state] = counts.get(state, 0) + 1
        if notification.error:
            record.error = notification.error
        if notification.traceback:
            record.traceback = notification.traceback
        record.cause = notification.cause
        self.changed.add(task_id)
        self._enter(task_id, state, notification.at)

    def _enter(self, task_id: str, state: str, at: float) -> None:
        record = self.tasks[task_id]
        if state in RUNNING_STATES:
            self.running[task_id] = None
            record.started, record.ended, record.percentage = at, None, None
            record.error = record.traceback = ""  # a retry starts afresh
        elif record.started is not None and record.ended is None:
            record.ended = at
        if state in FAILED_STATES:
            self.failed[task_id] = None
        else:
            self.failed.pop(task_id, None)

    def _count(self, state: str, delta: int) -> None:
        self.counts[state] = self.counts.get(state, 0) + delta

    def take_changes(self) -> tuple[bool, set[str], bool]:
        """Return (grown, changed task ids, panel dirty) and forget them."""
        changes = (self.grown, self.changed, self.panel_dirty)
        self.grown, self.changed, self.panel_dirty = False, set(), False
        return changes

    @property
    def total(self) -> int:
        """Tasks in the graph."""
        return len(self.tasks)

    @property
    def done(self) -> int:
        """Tasks complete now, whether run now or complete before."""
        return self.counts.get("DONE", 0) + self.counts.get("complete", 0)

    def detail(self, task_id: str, now: float | None = None) -> dict[str, Any]:
        """Return a small JSON-able description of one task for the details panel."""
        record = self.tasks.get(task_id)
        if record is None:
            return {}
        end = record.ended if record.ended is not None else (now or time.time())
        elapsed = (
            None if record.started is None else format_seconds(end - record.started)
        )
        return {
            "task_id": task_id,
            "label": record.label,
            "state": record.state,
            "params": [list(pair) for pair in record.params],
            "message": record.message,
            "progress": record.percentage,
            "url": record.url if is_web_url(record.url) else "",
            "elapsed": elapsed,
            "error": record.error,
            "traceback": record.traceback,
            "cause": record.cause,
        }

    def summary_line(self) -> str:
        """Return counts by state and the wall time, such as ``succeeded: 3 done · 1.2 s``."""
        counts = ", ".join(
            f"{self.counts[state]} {words}"
            for state, words in STATE_WORDS.items()
            if self.counts.get(state)
        )
        if self.started is None:
            wall = ""
        else:
            end = self.finished if self.finished is not None else time.time()
            wall = f" · wall {format_seconds(end - self.started)}"
        return f"{self.outcome}: {self.total} tasks: {counts or 'none'}{wall}"


# --- HTML ---------------------------------------------------------------------------


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar(percentage: float, css_class: str) -> str:
    width = min(max(percentage, 0.0), 100.0)
    return (
        f'<div class="nbflow-bar {css_class}" role="progressbar" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{width:.0f}">'
        f'<div class="nbflow-fill" style="width: {width:.1f}%"></div></div>'
    )


def link_html(url: str, text: str = "tracking") -> str:
    """Return an escaped link opening in a new tab, or the escaped URL if not http(s).

    Examples
    --------
    >>> print(link_html('https://x.test/?a=1&b="2"', "log"))  # doctest: +NORMALIZE_WHITESPACE
    <a href="https://x.test/?a=1&amp;b=&quot;2&quot;" target="_blank"
       rel="noopener noreferrer">log</a>
    >>> print(link_html("javascript:alert(1)"))
    <span class="nbflow-url">javascript:alert(1)</span>
    """
    if not is_web_url(url):
        return f'<span class="nbflow-url">{_escape(url)}</span>'
    return (
        f'<a href="{_escape(url)}" target="_blank" rel="noopener noreferrer">'
        f"{_escape(text)}</a>"
    )


def progress_html(board: RunBoard, now: float | None = None) -> str:
    """Return the progress panel: overall bar, running tasks, then the summary."""
    now = time.time() if now is None else now
    total = board.total
    percentage = 100.0 * board.done / total if total else 0.0
    failed = sum(board.counts.get(state, 0) for state in FAILED_STATES)
    overall = f"{board.done}/{total} done ({percentage:.0f}%)"
    if failed:
        overall += f" · {failed} failed"
    if board.started is not None:
        end = board.finished if board.finished is not None else now
        overall += f" · {format_seconds(end - board.started)}"
    parts = [
        f'<div class="nbflow-overall" data-done="{board.done}" data-total="{total}">',
        _bar(percentage, "nbflow-overall-bar"),
        f'<span class="nbflow-overall-text">{_escape(overall)}</span></div>',
    ]
    running = list(board.running)
    if running:
        parts.append('<ul class="nbflow-running">')
        parts.extend(
            _running_html(task_id, board.tasks[task_id], now)
            for task_id in running[:SHOWN_RUNNING]
        )
        if len(running) > SHOWN_RUNNING:
            parts.append(f"<li>… and {len(running) - SHOWN_RUNNING} more running</li>")
        parts.append("</ul>")
    if board.finished is not None:
        parts.append(
            f'<div class="nbflow-summary nbflow-{_escape(board.outcome)}">'
            f"{_escape(board.summary_line())}</div>"
        )
    return "".join(parts)


def _running_html(task_id: str, record: TaskRecord, now: float) -> str:
    started = record.started if record.started is not None else now
    percentage = record.percentage
    bar = _bar(percentage, "nbflow-task-bar") if percentage is not None else ""
    shown = "" if percentage is None else f"{percentage:.0f}%"
    parts = [
        f'<li class="nbflow-task" data-task-id="{_escape(task_id)}">',
        (
            f'<span class="nbflow-label" title="{_escape(task_id)}">'
            f"{_escape(record.label)}</span>"
        ),
        bar,
        f'<span class="nbflow-percent">{shown}</span>',
        f'<span class="nbflow-elapsed">{format_seconds(now - started)}</span>',
    ]
    if record.message:
        parts.append(f'<span class="nbflow-message">{_escape(record.message)}</span>')
    if record.url:
        parts.append(link_html(record.url))
    parts.append("</li>")
    return "".join(parts)


def failures_html(board: RunBoard) -> str:
    """Return the failure panel: each failed task's error, parameters and traceback."""
    failed = list(board.failed)
    if not failed:
        return ""
    parts = ['<div class="nbflow-failures">']
    parts.extend(
        _failure_html(task_id, board.tasks[task_id])
        for task_id in failed[:SHOWN_FAILURES]
    )
    if len(failed) > SHOWN_FAILURES:
        parts.append(f"<div>… and {len(failed) - SHOWN_FAILURES} more failed</div>")
    parts.append("</div>")
    return "".join(parts)


def _failure_html(task_id: str, record: TaskRecord) -> str:
    error = record.error.strip().splitlines()[-1:] or [record.state.lower()]
    rows = "".join(
        f"<tr><th>{_escape(name)}</th><td>{_escape(value)}</td></tr>"
        for name, value in record.params
    )
    parts = [
        f'<div class="nbflow-failure" data-task-id="{_escape(task_id)}">',
        (
            f'<div class="nbflow-failure-head">✗ <b>{_escape(record.label)}</b> '
            f"<code>{_escape(error[0])}</code></div>"
        ),
    ]
    if rows:
        parts.append(f'<table class="nbflow-params">{rows}</table>')
    if record.traceback:
        parts.append(
            "<details><summary>Traceback</summary>"
            f"<pre>{_escape(record.traceback)}</pre></details>"
        )
    if record.url:
        parts.append(link_html(record.url))
    parts.append("</div>")
    return "".join(parts)
