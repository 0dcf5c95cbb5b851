"""The one run-state model: what every view of a run knows, fed only by notifications.

:class:`RunProgress` is a Listener. Each notification is applied in O(1): per task the
latest status, the state it is drawn in, progress, status message, tracking URL, error,
start and end; per run the counts by drawn state and by :class:`Status`, the running and
failed tasks in order, and the run's own start, end and outcome. It also remembers what
changed since :meth:`RunProgress.take_changes` was last called, so a view sends only
that. It holds plain values (strings, numbers), never a Task, and takes no lock: its
owner (:class:`nbflow.core.run.Run`) applies notifications and lets views read under one
lock, and throttles views once for all of them.

Every view renders this model and nothing else: the CLI's live and plain displays, the
kernel's ``%nbflow status``/``show``/text lines, the notebook widgets, and (later) the
server's live feed and the visualiser. The words, state groups and time formatting they
share live here too, so they cannot drift apart.

Drawn states are the :class:`Status` values plus a few words for tasks that did not run:
``complete`` (outputs existed before the run), ``stale`` (outputs exist but were made by
other code or inputs), ``unversioned`` (outputs exist without a fingerprint),
``missing`` (an external task's data is absent) and ``broken`` (the task could not be
scheduled: its ``complete()``, ``requires()`` or ``output()`` raised).

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskOutput,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)

if TYPE_CHECKING:
    from nbflow.core.events import Notification, TaskSpec

#: Statuses in which a task occupies a worker.
RUNNING = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
#: Statuses reported as the task's own failure.
FAILED = frozenset({Status.FAILED, Status.DISABLED})
#: The failures as drawn-state strings (the views' vocabulary).
FAILED_STATES = frozenset(status.value for status in FAILED)
#: Status.DONE, looked up once (a member's lookup on its class is slow).
_DONE = Status.DONE
#: Drawn states in summary order, with the words the summaries use.
STATE_WORDS = {
    "DONE": "done",
    "complete": "complete before the run",
    "unversioned": "complete, unversioned",
    "RUNNING": "running",
    "BATCH_RUNNING": "running in batches",
    "PENDING": "pending",
    "stale": "stale",
    "missing": "missing data",
    "broken": "could not be scheduled",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "DISABLED": "disabled",
    "UPSTREAM_FAILED": "upstream failed",
    "UPSTREAM_DISABLED": "upstream disabled",
}
#: Drawn states of a discovered (not yet run) graph, with the words plans use.
PLAN_WORDS = {
    "PENDING": "to run",
    "stale": "stale",
    "unversioned": "unversioned",
    "complete": "complete",
    "missing": "missing",
    "broken": "broken",
}
#: Reasons (from completeness checks) whose first word names a drawn state.
_REASON_STATES = ("stale", "unversioned")


def task_label(family: str, params: tuple[tuple[str, str], ...]) -> str:
    """Return ``Family(name=value, ...)``, the way the summary names tasks.

    Examples
    --------
    >>> task_label("Clean", (("day", "2024-01-31"), ("n", "3")))
    'Clean(day=2024-01-31, n=3)'
    """
    return f"{family}({', '.join(f'{name}={value}' for name, value in params)})"


def first_line(text: str) -> str:
    r"""Return the first non-empty line of ``text`` (``""`` if there is none).

    Examples
    --------
    >>> first_line("\nValueError: boom\nmore")
    'ValueError: boom'
    """
    return next((line for line in text.splitlines() if line.strip()), "")


def last_line(text: str, default: str = "") -> str:
    r"""Return the last non-empty line of ``text`` (the error of a traceback-like text).

    Examples
    --------
    >>> last_line("Traceback ...\n  File x\nValueError: boom\n")
    'ValueError: boom'
    """
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else default


def format_seconds(seconds: float) -> str:
    """Return a short duration: ``0.04 s``, ``4.2 s``, ``12 s``, ``3 min 05 s``.

    Examples
    --------
    >>> format_seconds(0.0412), format_seconds(4.24), format_seconds(12.3)
    ('0.04 s', '4.2 s', '12 s')
    >>> format_seconds(185)
    '3 min 05 s'
    """
    seconds = max(seconds, 0.0)
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 10:  # noqa: PLR2004
        return f"{seconds:.1f} s"
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


def added_state(status: Status, *, complete_before: bool, reason: str) -> str:
    """Return the drawn state of a task as it joins a run.

    Examples
    --------
    >>> added_state(Status.DONE, complete_before=True, reason="")
    'complete'
    >>> added_state(Status.PENDING, complete_before=False, reason="stale: code changed")
    'stale'
    """
    word = reason.split(":", 1)[0].split(" ", 1)[0]
    if word in _REASON_STATES and status in (Status.DONE, Status.PENDING):
        return word
    if status is Status.DONE and complete_before:
        return "complete"
    return status.value


def spec_state(spec: TaskSpec) -> str:
    """Return the drawn state of a discovered (not yet run) task.

    Examples
    --------
    >>> from nbflow.core.events import TaskSpec
    >>> spec_state(TaskSpec("A_1", "A", complete=True))
    'complete'
    >>> spec_state(TaskSpec("B_1", "B", runnable=False)), spec_state(TaskSpec("C", "C"))
    ('missing', 'PENDING')
    """
    if spec.broken:
        return "broken"
    word = spec.reason.split(":", 1)[0].split(" ", 1)[0]
    if word in _REASON_STATES:
        return word
    if spec.complete:
        return "complete"
    return "PENDING" if spec.runnable else "missing"


@dataclass(slots=True)
class TaskState:
    """The latest known state of one task in one run."""

    task_id: str
    family: str
    params: tuple[tuple[str, str], ...]
    deps: tuple[str, ...]
    status: Status
    #: How it is drawn: a Status value, or complete/stale/unversioned.
    state: str
    #: True when its outputs existed before the run.
    complete_before: bool = False
    #: Why the completeness check decided as it did (stale: ..., unversioned: ...).
    reason: str = ""
    started: float | None = None
    ended: float | None = None
    percentage: float | None = None
    message: str = ""
    url: str = ""
    error: str = ""
    #: The user's frames of the failure (nbflow's left out; see ``full_traceback``).
    traceback: str = ""
    #: For UPSTREAM_* statuses: the task whose failure caused it.
    cause: str = ""
    #: The last lines it printed or logged (live while it runs, whole at its end).
    output: tuple[str, ...] = ()
    #: The failure's traceback with every frame, nbflow's included.
    full_traceback: str = ""

    @property
    def label(self) -> str:
        """``Family(name=value, ...)``, the way the summary names tasks."""
        return task_label(self.family, self.params)

    def elapsed(self, now: float) -> float | None:
        """Seconds it ran (or has been running at ``now``); None if it never started."""
        if self.started is None:
            return None
        end = self.ended if self.ended is not None else now
        return max(0.0, end - self.started)


def _keep_end(record: TaskState, notification: TaskStatusChanged) -> None:
    """Keep what ``notification`` says of how the task ended (what it does say)."""
    if notification.error:
        record.error = notification.error
    if notification.traceback:
        record.traceback = notification.traceback
    if notification.output:
        record.output = notification.output
    if notification.full_traceback:
        record.full_traceback = notification.full_traceback


class Changes(NamedTuple):
    """What changed in a :class:`RunProgress` since the last look."""

    #: The graph gained tasks.
    grown: bool
    #: Tasks whose drawn state changed.
    changed: set[str]
    #: Anything else a view shows changed (progress, messages, the run's state).
    panel: bool


class RunProgress:
    """A run as every view sees it, updated in O(1) per notification.

    Examples
    --------
    >>> progress = RunProgress()
    >>> progress.on_notification(TaskAdded(1, 0.0, "A_1", "A", (), (), Status.PENDING))
    >>> progress.on_notification(RunStarted(2, 0.0, "run", ("A_1",), 1))
    >>> progress.on_notification(
    ...     TaskStatusChanged(3, 1.0, "A_1", Status.RUNNING, Status.PENDING))
    >>> progress.on_notification(
    ...     TaskStatusChanged(4, 2.5, "A_1", Status.DONE, Status.RUNNING))
    >>> progress.on_notification(RunFinished(5, 2.5, "run", "succeeded", ()))
    >>> progress.summary_line()
    'succeeded: 1 tasks: 1 done · wall 2.5 s'
    >>> progress.take_changes().changed
    {'A_1'}
    """

    def __init__(self) -> None:
        self.tasks: dict[str, TaskState] = {}
        #: Tasks by drawn state.
        self.counts: dict[str, int] = {}
        #: Tasks by scheduler status.
        self.status_counts: dict[Status, int] = dict.fromkeys(Status, 0)
        #: Running task ids, in the order they started.
        self.running: dict[str, None] = {}
        #: Failed task ids, in the order they failed.
        self.failed: dict[str, None] = {}
        self.run_id = ""
        self.roots: tuple[str, ...] = ()
        self.started: float | None = None
        self.finished: float | None = None
        #: "running" until RunFinished, then the run's state.
        self.outcome = "running"
        #: Tasks whose outputs existed before the run.
        self.already_complete = 0
        #: The seq of the last notification applied (0: none yet).
        self.seq = 0
        self._grown = False
        self._changed: set[str] = set()
        self._panel = False

    # --- the listener -----------------------------------------------------------------

    def on_notification(self, notification: Notification) -> None:
        """Apply one notification (O(1))."""
        self.seq = notification.seq
        kind = type(notification)
        if kind is TaskStatusChanged:  # the hot path: two or three per task
            self._change(notification)  # type: ignore[arg-type]
        elif kind is TaskAdded:
            self._add(notification)  # type: ignore[arg-type]
        elif kind is RunStarted:
            self.started = notification.at
            self.run_id, self.roots = notification.run_id, notification.roots  # type: ignore[union-attr]
        elif kind is RunFinished:
            self.finished, self.outcome = notification.at, notification.state  # type: ignore[union-attr]
        else:
            self._note(notification)
        self._panel = True

    def _add(self, notification: TaskAdded) -> None:
        # once per task: local names, no calls but the record's
        task_id, status, at = notification.task_id, notification.status, notification.at
        tasks, counts, status_counts = self.tasks, self.counts, self.status_counts
        complete_before, reason = notification.complete_before, notification.reason
        old = tasks.get(task_id)
        if old is not None:  # seen before (a dynamic requirement): count it again
            counts[old.state] -= 1
            status_counts[old.status] -= 1
        if reason.startswith(_REASON_STATES):  # else its first word names no state
            state = added_state(status, complete_before=complete_before, reason=reason)
        elif status is _DONE and complete_before:
            state = "complete"
        else:
            state = status._value_  # Enum.value is slow
        record = TaskState(
            task_id,
            notification.family,
            notification.params,
            notification.deps,
            status,
            state,
            complete_before,
            reason,
        )
        tasks[task_id] = record
        counts[state] = counts.get(state, 0) + 1
        status_counts[status] += 1
        if old is None:
            self.already_complete += complete_before
        self._grown = True
        self._changed.add(task_id)
        # enter the status (as _change does) with a record that has not started yet
        running, failed = self.running, self.failed
        if old is not None:
            running.pop(task_id, None)
        if status in RUNNING:
            running[task_id] = None
            record.started = at
        if status in FAILED:
            failed[task_id] = None
        elif old is not None:
            failed.pop(task_id, None)

    def _change(self, notification: TaskStatusChanged) -> None:
        # the hot path of a big run: local names, no calls
        task_id = notification.task_id
        record = self.tasks.get(task_id)
        if record is None:
            return
        counts, status_counts = self.counts, self.status_counts
        counts[record.state] -= 1
        status_counts[record.status] -= 1
        status = record.status = notification.status
        state = record.state = status._value_  # Enum.value is slow
        counts[state] = counts.get(state, 0) + 1
        status_counts[status] += 1
        record.cause = notification.cause
        self._changed.add(task_id)
        running = self.running
        if task_id in running:
            del running[task_id]
        if status in RUNNING:
            running[task_id] = None
            record.started, record.ended, record.percentage = (
                notification.at,
                None,
                None,
            )
            record.error = record.traceback = record.full_traceback = ""  # afresh
            record.output = ()
        else:
            if (
                notification.error
                or notification.traceback
                or notification.output
                or notification.full_traceback
            ):
                _keep_end(record, notification)
            if record.started is not None and record.ended is None:
                record.ended = notification.at
                if status is _DONE and record.percentage is not None:
                    record.percentage = 100.0
        failed = self.failed
        if status in FAILED:
            failed[task_id] = None
        elif failed and task_id in failed:
            del failed[task_id]

    def _note(self, notification: Any) -> None:
        # PauseChanged and TasksRemoved (from a server) name no single task
        record = self.tasks.get(getattr(notification, "task_id", ""))
        if record is None:
            return
        kind = type(notification)
        if kind is TaskProgressed:
            record.percentage = notification.percentage
        elif kind is TaskMessage:
            record.message = notification.message
        elif kind is TaskTrackingUrl:
            record.url = notification.url
        elif kind is TaskOutput:
            record.output = notification.lines

    # --- what changed -----------------------------------------------------------------

    def take_changes(self) -> Changes:
        """Return what changed since the last call, and forget it."""
        changes = Changes(self._grown, self._changed, self._panel)
        self._grown, self._changed, self._panel = False, set(), False
        return changes

    # --- reading ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Tasks in the graph."""
        return len(self.tasks)

    @property
    def done(self) -> int:
        """Tasks complete now, whether run now or complete before."""
        return self.status_counts[Status.DONE]

    @property
    def failures(self) -> int:
        """Tasks that failed or were disabled."""
        return self.status_counts[Status.FAILED] + self.status_counts[Status.DISABLED]

    @property
    def is_discovering(self) -> bool:
        """Whether the graph is still being expanded (the run has not started)."""
        return self.started is None and self.finished is None

    def label(self, task_id: str) -> str:
        """Return ``Family(name=value, ...)`` for a task of this run (else its id)."""
        record = self.tasks.get(task_id)
        return task_id if record is None else record.label

    def wall(self, now: float | None = None) -> float:
        """Seconds from the run's start to its end (or to ``now`` while it runs)."""
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else (now or time.time())
        return max(0.0, end - self.started)

    def detail(self, task_id: str, now: float | None = None) -> dict[str, Any]:
        """Return a small JSON-able description of one task for a details panel."""
        record = self.tasks.get(task_id)
        if record is None:
            return {}
        elapsed = record.elapsed(now or time.time())
        return {
            "task_id": task_id,
            "label": record.label,
            "state": record.state,
            "params": [list(pair) for pair in record.params],
            "message": record.message,
            "progress": record.percentage,
            "url": record.url if is_web_url(record.url) else "",
            "elapsed": None if elapsed is None else format_seconds(elapsed),
            "error": record.error,
            "traceback": record.traceback,
            "full_traceback": record.full_traceback,
            "cause": record.cause,
            "output": list(record.output),
        }

    def counts_text(self) -> str:
        """Return the counts by drawn state in summary order: ``3 done, 1 failed``."""
        parts = [
            f"{self.counts[state]} {words}"
            for state, words in STATE_WORDS.items()
            if self.counts.get(state)
        ]
        return ", ".join(parts) or "none"

    def summary_line(self, now: float | None = None) -> str:
        """Return the outcome, counts and wall time: ``succeeded: 3 tasks: 3 done · 1.2 s``."""
        wall = (
            "" if self.started is None else f" · wall {format_seconds(self.wall(now))}"
        )
        return f"{self.outcome}: {self.total} tasks: {self.counts_text()}{wall}"
