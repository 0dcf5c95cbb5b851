"""What the kernel remembers of each run: its number, how it is shown, and its progress.

A :class:`RunRecord` numbers a run of this kernel and reads the run's one
:class:`~nbflow.core.progress.RunProgress` (under the run's lock) for ``%nbflow
status``, ``show`` and ``attach``; it keeps no task state of its own. As a listener it
only forwards the notifications worth a text line to the text view's queue, and shuts
the run's executor down when the run ends.

Threads: notifications arrive in the run's thread; readers in the kernel's main thread
copy what they need under the run's lock.

Imports: stdlib, nbflow.core.{events, progress}.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from nbflow.core.events import RunFinished, RunStarted, Status, TaskStatusChanged
from nbflow.core.progress import FAILED, RunProgress, TaskState

if TYPE_CHECKING:
    import queue

    from nbflow.core.events import Notification
    from nbflow.core.run import Run
    from nbflow.core.task import Task

__all__ = ["RunRecord", "TaskState"]

#: Status.DONE, looked up once (a member's lookup on its class is slow).
_DONE = Status.DONE


class RunRecord:
    """A run started in this kernel, numbered from 1.

    Examples
    --------
    >>> import nbflow
    >>> class Tiny(nbflow.Task):
    ...     def run(self):
    ...         pass
    >>> handle = nbflow.build([Tiny()], wait=False)
    >>> record = RunRecord(1, handle, [Tiny()])
    >>> _ = handle.wait()
    >>> record.state, record.counts()[Status.DONE]
    ('succeeded', 1)
    """

    def __init__(self, number: int, run: Run, roots: list[Task]) -> None:
        self.number = number
        self.run = run
        #: readable names of the tasks asked for
        self.roots = tuple(repr(task) for task in roots)
        self.started_at = time.time()
        #: set by the session: what shows this run ("widgets" or "text")
        self.display = "text"
        #: set by the session: the executor the run's tasks run on (shut down at the end)
        self.executor: Any = None
        #: set by the session: the outputs that show the run (a kernel.output.RunOutput)
        self.output: Any = None
        #: set by the text view: where the notifications it prints are forwarded
        self.forward: queue.SimpleQueue[Notification] | None = None
        #: set by the text view: DONE changes are forwarded only for runs with at most
        #: this many tasks to run (bigger runs get progress lines, not one per task)
        self.forward_done_limit = 0
        self._forward_done = False

    @property
    def progress(self) -> RunProgress:
        """The run's progress model (read it under ``self.run.lock``)."""
        progress = self.run.progress
        if progress is None:  # pragma: no cover  (kernel runs always track it)
            return RunProgress()
        return progress

    # --- the listener (run thread, under the run's lock) ----------------------------

    def on_notification(self, notification: Notification) -> None:
        """Forward what the text view prints; shut the executor down at the end."""
        kind = type(notification)
        if kind is TaskStatusChanged:  # the hot path: two or three per task
            if self.forward is None:  # a widget run: nothing to forward
                return
            status = notification.status  # type: ignore[union-attr]
            if status in FAILED or (self._forward_done and status is _DONE):
                self.forward.put(notification)
        elif kind is RunStarted:
            progress = self.progress
            to_run = progress.total - progress.already_complete
            self._forward_done = to_run <= self.forward_done_limit
            if self.forward is not None:
                self.forward.put(notification)
        elif kind is RunFinished and self.executor is not None:
            self.executor.shutdown(wait=False)

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
    def total(self) -> int | None:
        """Tasks in the graph, once the run has started."""
        with self.run.lock:
            return None if self.progress.started is None else self.progress.total

    @property
    def already_complete(self) -> int:
        """Tasks whose outputs existed before the run."""
        return self.progress.already_complete

    @property
    def elapsed(self) -> float:
        """Seconds since the run started, or that it took once it has ended."""
        end = self.progress.finished
        if end is None:
            end = time.time()
        return max(0.0, end - self.started_at)

    def counts(self) -> dict[Status, int]:
        """Return a copy of the number of tasks in each status."""
        with self.run.lock:
            return self.progress.status_counts.copy()

    def counts_text(self) -> str:
        """Return the counts in the run view's words: ``2 done, 1 upstream failed``."""
        with self.run.lock:
            return self.progress.counts_text()

    def task(self, task_id: str) -> TaskState | None:
        """Return a copy of one task's state, or None if it is not in this run."""
        with self.run.lock:
            state = self.progress.tasks.get(task_id)
            return None if state is None else dataclasses.replace(state)

    def label(self, task_id: str) -> str:
        """Return ``Family(name=value, ...)`` for a task of this run (else its id)."""
        return self.progress.label(task_id)

    def started(self, task_id: str) -> float | None:
        """Return when a task last started running, if it has."""
        state = self.progress.tasks.get(task_id)
        return None if state is None else state.started

    def running(self) -> list[TaskState]:
        """Return copies of the states of the tasks running now, in start order."""
        with self.run.lock:
            return self._copies(self.progress.running)

    def failures(self) -> list[TaskState]:
        """Return copies of the states of the failed or disabled tasks, in order."""
        with self.run.lock:
            return self._copies(self.progress.failed)

    def _copies(self, task_ids: dict[str, None]) -> list[TaskState]:
        tasks = self.progress.tasks
        return [dataclasses.replace(tasks[task_id]) for task_id in task_ids]

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.progress.tasks

    def __repr__(self) -> str:
        return f"<nbflow run {self.number} {self.state}: {', '.join(self.roots)}>"
