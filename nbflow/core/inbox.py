"""The worker's inbox: the typed messages that reach its loop, and how they get there.

Everything a worker learns while tasks run arrives as one message on one queue, from
executor threads, from the process bridge or from ``Worker.cancel()`` in any thread:

- :class:`RunReturned`: a run came back, with its :class:`~nbflow.core.execution.Outcome`
  or the exception that broke the executor (a process died, Ctrl-C interrupted it);
- a runtime report, already as the scheduler event it becomes
  (:class:`~nbflow.core.events.ProgressReported`, ``StatusMessageSet``,
  ``TrackingUrlSet``, ``ResourcesDecreased``), made by :func:`to_report`;
- :class:`OutputReported`: a live snapshot of what a running task has printed;
- :class:`CancelRequested`: stop starting tasks and stop the running ones.

The worker dispatches on the message's type. Tasks in other processes report through a
:class:`QueueReporter` on a manager queue, which :class:`ProcessBridge` pumps into the
inbox; the bridge also remembers which process runs which task (:meth:`ProcessBridge.pids`),
so a process that dies can be named.

Imports: stdlib, nbflow.core.{capture, events, execution, executor}.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.core.capture import LiveOutput, LogDelta, install_for_process
from nbflow.core.events import (
    ProgressReported,
    ResourcesDecreased,
    StatusMessageSet,
    TrackingUrlSet,
)
from nbflow.core.execution import Outcome, execute
from nbflow.core.executor import end_with_process

if TYPE_CHECKING:
    import queue
    from collections.abc import Callable
    from concurrent.futures import Future


@dataclass(frozen=True, slots=True)
class RunReturned:
    """A run came back from the executor (``token`` tells one run from a later one)."""

    task_id: str
    token: int
    #: What the run returned, or what the executor raised instead.
    outcome: Outcome | BaseException


@dataclass(frozen=True, slots=True)
class OutputReported:
    """A running task's captured output so far (its tail; see nbflow.core.capture)."""

    task_id: str
    lines: tuple[str, ...]
    at: float = 0.0
    #: What it wrote since the last report (streamed to a scheduler server).
    delta: LogDelta | None = None


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """Someone asked the worker to stop starting tasks and stop the running ones."""


#: A running task's report, as the scheduler event it becomes.
Report = ProgressReported | StatusMessageSet | TrackingUrlSet | ResourcesDecreased
#: Everything the worker's loop receives.
Message = RunReturned | CancelRequested | Report | OutputReported

_REPORTS: dict[str, Callable[[str, Any, float], Report | OutputReported]] = {
    "progress": lambda task_id, value, at: ProgressReported(task_id, float(value), at),
    "status_message": lambda task_id, value, at: StatusMessageSet(
        task_id, str(value), at
    ),
    "tracking_url": lambda task_id, value, at: TrackingUrlSet(task_id, str(value), at),
    "decrease_resources": lambda task_id, value, at: ResourcesDecreased(
        task_id, tuple(dict(value).items()), at
    ),
    "output": lambda task_id, value, at: (
        OutputReported(task_id, value.lines, at, value.delta)
        if isinstance(value, LiveOutput)
        else OutputReported(task_id, tuple(value), at)
    ),
}


def returns_to(
    inbox: queue.Queue[Message], task_id: str, token: int
) -> Callable[[Future[Outcome]], None]:
    """Return a future's done-callback that puts the run's return in ``inbox``."""

    def deliver(done: Future[Outcome]) -> None:
        try:
            outcome: Outcome | BaseException = done.result()
        except BaseException as exc:  # noqa: BLE001  (the executor broke: for the worker)
            outcome = exc
        inbox.put(RunReturned(task_id, token, outcome))

    return deliver


def to_report(task_id: str, kind: str, value: Any) -> Report | OutputReported:
    """Turn a task's runtime report (``Task._report(kind, value)``) into its event.

    Examples
    --------
    >>> to_report("A_1", "progress", 50).percentage
    50.0
    >>> type(to_report("A_1", "decrease_resources", {"gpu": 1})).__name__
    'ResourcesDecreased'
    >>> to_report("A_1", "output", ["hello"]).lines
    ('hello',)
    """
    return _REPORTS[kind](task_id, value, time.time())


class QueueReporter:
    """A picklable reporter for tasks in other processes: reports go on a queue."""

    def __init__(self, queue: Any, pids: Any, capture: str = "off") -> None:
        #: A manager queue the bridge reads.
        self.queue = queue
        #: A manager dict: task id -> pid of the process running it.
        self.pids = pids
        #: The capture mode for what the tasks print (see nbflow.core.capture).
        self.capture = capture

    def __call__(self, task_id: str, kind: str, value: Any) -> None:
        """Send one runtime report (progress, status message, tracking URL, ...)."""
        self.queue.put(to_report(task_id, kind, value))

    def running(self, task_id: str) -> None:
        """Note that this process runs ``task_id`` (read if the process dies)."""
        self.pids[task_id] = os.getpid()


def execute_elsewhere(task_id: str, packed: bytes, reporter: QueueReporter) -> Outcome:
    """Run a packed task in another process, first saying which process it is.

    Unless the reporter's capture mode is off, the process captures its tasks' output
    from now on.
    """
    reporter.running(task_id)
    capture = reporter.capture
    if capture != "off":
        install_for_process()
    return execute(packed, reporter, capture)


class ProcessBridge:
    """Carry runtime reports from worker processes to the worker's inbox."""

    def __init__(self, inbox: queue.Queue[Message], capture: str = "off") -> None:
        from multiprocessing.managers import SyncManager  # noqa: PLC0415  (on use)

        self._manager = SyncManager()
        # the manager's process outlives a killed worker otherwise, holding its
        # stdout open (a pipe reader waits forever): it watches its parent instead
        self._manager.start(end_with_process, (os.getpid(),))
        self._queue = self._manager.Queue()
        self.reporter = QueueReporter(self._queue, self._manager.dict(), capture)
        self._thread = threading.Thread(
            target=self._pump, args=(inbox,), daemon=True, name="nbflow-process-bridge"
        )
        self._thread.start()

    def _pump(self, inbox: queue.Queue[Message]) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            inbox.put(message)

    def pids(self) -> dict[str, int]:
        """Return which process (pid) runs or ran each task, by task id."""
        return dict(self.reporter.pids)

    def close(self) -> None:
        """Stop the pump thread and the manager process."""
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._manager.shutdown()
