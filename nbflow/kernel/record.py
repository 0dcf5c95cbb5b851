"""What the kernel remembers of each run: a numbered record kept up to date by events.

A :class:`RunRecord` is a listener on its run's event stream. It keeps, per task, the
latest status, progress, status message, tracking URL and error, and the number of
tasks in each status, in O(1) per notification, so ``%nbflow status`` and
``%nbflow show`` never reach into the scheduler (which belongs to the run's thread).

Threads: notifications arrive in the run's thread, the only writer; readers in the
kernel's main thread copy what they need with single dict operations (atomic under the
GIL), so the listener takes no lock.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
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

#: Failures, always forwarded to a text view (it prints a line for each).
_FAILED = frozenset({Status.FAILED, Status.DISABLED})

if TYPE_CHECKING:
    import queue

    from nbflow.core.events import Notification
    from nbflow.core.run import Run
    from nbflow.core.task import Task


@dataclass(slots=True)
class TaskState:
    """The latest known state of one task in one run."""

    task_id: str
    family: str
    params: tuple[tuple[str, str], ...]
    deps: tuple[str, ...]
    status: Status
    #: True when its outputs existed before the run.
    complete_before: bool = False
    progress: float | None = None
    message: str = ""
    url: str = ""
    error: str = ""
    traceback: str = ""
    #: For UPSTREAM_* statuses: the task whose failure caused it.
    cause: str = ""

    @property
    def label(self) -> str:
        """``Family(name=value, ...)``, the way the summary names tasks."""
        inner = ", ".join(f"{name}={value}" for name, value in self.params)
        return f"{self.family}({inner})"


class RunRecord:
    """A run started in this kernel, numbered from 1, and what happened in it.

    Examples
    --------
    >>> import nbflow
    >>> class Tiny(nbflow.Task):
    ...     def run(self):
    ...         pass
    >>> handle = nbflow.build([Tiny()], wait=False)
    >>> record = RunRecord(1, handle, [Tiny()])
    >>> _ = handle.subscribe(record); _ = handle.wait()
    >>> record.state, record.counts()[Status.DONE]
    ('succeeded', 1)
    """

    def __init__(self, number: int, run: Run, roots: list[Task]) -> None:
        self.number = number
        self.run = run
        #: readable names of the tasks asked for
        self.roots = tuple(repr(task) for task in roots)
        self.started_at = time.time()
        self.ended_at: float | None = None
        #: total tasks in the graph, known once the run has started
        self.total: int | None = None
        #: tasks whose outputs existed before the run
        self.already_complete = 0
        #: set by the session: what shows this run ("widgets" or "text")
        self.display = "text"
        #: set by the session: the executor the run's tasks run on (shut down at the end)
        self.executor: Any = None
        #: set by the text view: where the notifications it prints are forwarded
        self.forward: queue.SimpleQueue[Notification] | None = None
        #: set by the text view: DONE changes are forwarded only for runs with at most
        #: this many tasks to run (bigger runs get progress lines, not one per task)
        self.forward_done_limit = 0
        self._forward_done = False
        # Kept flat and cheap (this listener is the whole bookkeeping cost of a kernel
        # run): a TaskState is only built when asked for. Only the run thread writes;
        # readers copy with single C-level operations, atomic under the GIL.
        self._added: dict[str, TaskAdded] = {}
        self._status: dict[str, Status] = {}
        self._started: dict[str, float] = {}
        self._extra: dict[str, dict[str, Any]] = {}
        self._counts: dict[Status, int] = dict.fromkeys(Status, 0)

    # --- the listener (run thread) --------------------------------------------------

    def on_notification(self, notification: Notification) -> None:
        """Apply one notification to the per-task states and counts."""
        kind = type(notification)
        if kind is TaskStatusChanged:  # the hot path: two or three per task
            self._change(notification)  # type: ignore[arg-type]
        elif kind is TaskAdded:
            self._add(notification)  # type: ignore[arg-type]
        elif kind is RunStarted:
            self.total = notification.total  # type: ignore[union-attr]
            to_run = self.total - self.already_complete
            self._forward_done = to_run <= self.forward_done_limit
            if self.forward is not None:
                self.forward.put(notification)
        elif kind is RunFinished:
            self.ended_at = notification.at
            if self.executor is not None:
                self.executor.shutdown(wait=False)
        else:
            self._note(notification)

    def _add(self, notification: TaskAdded) -> None:
        task_id, status = notification.task_id, notification.status
        old = self._status.get(task_id)
        if old is not None:  # seen before (a dynamic requirement): recount
            self._counts[old] -= 1
        self._added[task_id] = notification
        self._status[task_id] = status
        self._counts[status] += 1
        self.already_complete += notification.complete_before

    def _change(self, notification: TaskStatusChanged) -> None:
        task_id, status = notification.task_id, notification.status
        old = self._status.get(task_id)
        if old is None:
            return
        counts = self._counts
        counts[old] -= 1
        counts[status] += 1
        self._status[task_id] = status
        if status is Status.RUNNING or status is Status.BATCH_RUNNING:
            self._started[task_id] = notification.at
        elif notification.error or notification.traceback or notification.cause:
            self._extra.setdefault(task_id, {}).update(
                error=notification.error,
                traceback=notification.traceback,
                cause=notification.cause,
            )
        if status is Status.DONE:
            if task_id in self._extra and "progress" in self._extra[task_id]:
                self._extra[task_id]["progress"] = 100.0
            if self._forward_done and self.forward is not None:
                self.forward.put(notification)
        elif status in _FAILED and self.forward is not None:
            self.forward.put(notification)

    def _note(self, notification: Any) -> None:
        task_id = notification.task_id
        if task_id not in self._status:
            return
        extra = self._extra.setdefault(task_id, {})
        if isinstance(notification, TaskProgressed):
            extra["progress"] = notification.percentage
        elif isinstance(notification, TaskMessage):
            extra["message"] = notification.message
        elif isinstance(notification, TaskTrackingUrl):
            extra["url"] = notification.url

    def cancel(self) -> None:
        """Cancel the run and interrupt its tasks running in this process, if it can."""
        self.run.cancel()
        interrupt = getattr(self.executor, "interrupt", None)
        if interrupt is not None:
            interrupt()

    # --- readers (any thread) -------------------------------------------------------

    @property
    def state(self) -> str:
        """The run's state: running, succeeded, failed or cancelled."""
        return self.run.state

    @property
    def elapsed(self) -> float:
        """Seconds since the run started, or that it took once it has ended."""
        end = self.ended_at
        if end is None:
            end = time.time()
            if self.run.done():  # ended without RunFinished (it could not start)
                self.ended_at = end
        return max(0.0, end - self.started_at)

    def counts(self) -> dict[Status, int]:
        """Return a copy of the number of tasks in each status."""
        return self._counts.copy()

    def task(self, task_id: str) -> TaskState | None:
        """Return a snapshot of one task's state, or None if it is not in this run."""
        added = self._added.get(task_id)
        if added is None:
            return None
        extra = self._extra.get(task_id, {}).copy()
        return TaskState(
            task_id,
            added.family,
            added.params,
            added.deps,
            self._status[task_id],
            complete_before=added.complete_before,
            progress=extra.get("progress"),
            message=extra.get("message", ""),
            url=extra.get("url", ""),
            error=extra.get("error", ""),
            traceback=extra.get("traceback", ""),
            cause=extra.get("cause", ""),
        )

    def label(self, task_id: str) -> str:
        """Return ``Family(name=value, ...)`` for a task of this run (else its id)."""
        added = self._added.get(task_id)
        if added is None:
            return task_id
        inner = ", ".join(f"{name}={value}" for name, value in added.params)
        return f"{added.family}({inner})"

    def started(self, task_id: str) -> float | None:
        """Return when a task last started running (its ``at``), if it has."""
        return self._started.get(task_id)

    def running(self) -> list[TaskState]:
        """Return snapshots of the tasks running now."""
        return self._having({Status.RUNNING, Status.BATCH_RUNNING})

    def failures(self) -> list[TaskState]:
        """Return snapshots of the tasks that failed or were disabled."""
        return self._having({Status.FAILED, Status.DISABLED})

    def _having(self, statuses: set[Status]) -> list[TaskState]:
        items = list(self._status.items())  # one C-level copy: safe while it runs
        wanted = [task_id for task_id, status in items if status in statuses]
        return [state for task_id in wanted if (state := self.task(task_id))]

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._status

    def __repr__(self) -> str:
        return f"<nbflow run {self.number} {self.state}: {', '.join(self.roots)}>"
