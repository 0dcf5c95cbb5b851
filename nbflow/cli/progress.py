"""Progress display for the ``nbflow`` command: a Listener on the event stream.

:class:`TaskTally` counts tasks by status in O(1) per notification and remembers what
is running; nothing is formatted until something is shown. Two views sit on it:

- :class:`PlainProgress` writes one line per meaningful change (a task starts, ends,
  fails, or reports a status message or tracking URL), for logs, CI and pipes;
- :class:`RichProgress` draws a live overall bar and the running tasks with ``rich``
  (imported only when it is used), redrawn at most ten times a second from a snapshot,
  for terminals.

:func:`progress_for` picks the one that suits a stream.

Imports: stdlib, nbflow.core.events; rich lazily.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, TextIO

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
from nbflow.core.progress import first_line, task_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Notification

#: Statuses in which a task occupies a worker.
RUNNING_LIKE = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
#: Statuses reported as failures.
FAILED_LIKE = frozenset({Status.FAILED, Status.DISABLED})
#: Running tasks listed by the live display; the rest are counted.
_SHOWN_RUNNING = 8


class RunningTask:
    """What the display knows of one running task."""

    __slots__ = ("message", "percentage", "started", "url")

    def __init__(self, started: float) -> None:
        self.started = started
        self.percentage: float | None = None
        self.message = ""
        self.url = ""


class TaskTally:
    """Count tasks by status and keep the running ones, in O(1) per notification.

    Examples
    --------
    >>> from nbflow.core.events import TaskAdded, Status
    >>> tally = TaskTally()
    >>> tally.apply(TaskAdded(1, 0.0, "A_1", "A", (("x", "1"),), (), Status.DONE, True))
    >>> tally.total, tally.done, tally.already_complete, tally.label("A_1")
    (1, 1, 1, 'A(x=1)')
    """

    def __init__(self) -> None:
        self.total = 0
        self.already_complete = 0
        self.counts: dict[Status, int] = dict.fromkeys(Status, 0)
        #: task_id -> (family, params), formatted only when shown.
        self.labels: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
        self.running: dict[str, RunningTask] = {}

    @property
    def done(self) -> int:
        """Tasks that are complete, including those complete before the run."""
        return self.counts[Status.DONE]

    @property
    def failed(self) -> int:
        """Tasks that failed or were disabled."""
        return self.counts[Status.FAILED] + self.counts[Status.DISABLED]

    def label(self, task_id: str) -> str:
        """Return ``Family(name=value, ...)`` for a task, or its id if unknown."""
        known = self.labels.get(task_id)
        if known is None:
            return task_id
        return task_label(*known)

    def apply(self, notification: Notification) -> RunningTask | None:
        """Count ``notification``; return the run record of a task that stopped."""
        if isinstance(notification, TaskStatusChanged):
            return self._change(notification)
        if isinstance(notification, TaskAdded):
            self.total += 1
            self.counts[notification.status] += 1
            self.already_complete += notification.complete_before
            self.labels[notification.task_id] = (
                notification.family,
                notification.params,
            )
            return None
        if isinstance(notification, (RunStarted, RunFinished)):
            return None  # run-level: the summary reports it
        run = self.running.get(notification.task_id)
        if run is None:
            return None
        if isinstance(notification, TaskProgressed):
            run.percentage = notification.percentage
        elif isinstance(notification, TaskMessage):
            run.message = notification.message
        elif isinstance(notification, TaskTrackingUrl):
            run.url = notification.url
        return None

    def _change(self, notification: TaskStatusChanged) -> RunningTask | None:
        self.counts[notification.previous] -= 1
        self.counts[notification.status] += 1
        if notification.status in RUNNING_LIKE:
            self.running[notification.task_id] = RunningTask(notification.at)
            return None
        return self.running.pop(notification.task_id, None)


class PlainProgress:
    """Write one line per meaningful change to a (non-terminal) stream.

    Lines look like ``[ 3/10] RUNNING Task(x=1)``; the counter is tasks done out of
    tasks known. The first line, ``nbflow: 12 tasks, 5 already complete``, waits until
    the graph is known (the first task starts, or the run ends), and so do failures
    found while the graph was being expanded.
    """

    def __init__(self, stream: TextIO) -> None:
        self.tally = TaskTally()
        self._stream = stream
        #: Lines waiting for the first line; None once it has been written.
        self._held: list[Callable[[], str]] | None = []

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is None:  # a run that raised has its own message instead
            self.close()

    def close(self) -> None:
        """Write the first line (and anything held) if that has not happened yet."""
        self._release()

    def on_notification(self, notification: Notification) -> None:
        """Count ``notification`` and write a line if it is worth one."""
        stopped = self.tally.apply(notification)
        if isinstance(notification, TaskStatusChanged):
            self._on_change(notification, stopped)
        elif isinstance(notification, TaskMessage) and notification.message:
            self._emit(self._note, notification.task_id, notification.message)
        elif isinstance(notification, TaskTrackingUrl) and notification.url:
            self._emit(self._note, notification.task_id, notification.url)

    def _on_change(
        self, notification: TaskStatusChanged, stopped: RunningTask | None
    ) -> None:
        status, task_id = notification.status, notification.task_id
        if status in RUNNING_LIKE:
            self._release()
            self._emit(self._status_line, "RUNNING", task_id, "")
        elif status is Status.DONE and stopped is not None:
            elapsed = max(0.0, notification.at - stopped.started)
            self._emit(self._status_line, "DONE", task_id, f" {elapsed:.1f}s")
        elif status in FAILED_LIKE:
            error = first_line(notification.error)
            self._emit(self._status_line, str(status), task_id, f": {error}")

    def _emit(self, render: Callable[..., str], *args: Any) -> None:
        if self._held is None:
            self._stream.write(render(*args) + "\n")
        else:
            self._held.append(functools.partial(render, *args))

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        tally = self.tally
        noun = "task" if tally.total == 1 else "tasks"
        lines = [
            f"nbflow: {tally.total} {noun}, {tally.already_complete} already complete"
        ]
        lines += [render() for render in held]
        self._stream.write("\n".join(lines) + "\n")

    def _counter(self) -> str:
        total = self.tally.total
        return f"[{self.tally.done:>{len(str(total))}}/{total}]"

    def _status_line(self, word: str, task_id: str, tail: str) -> str:
        return f"{self._counter()} {word:<7} {self.tally.label(task_id)}{tail}"

    def _note(self, task_id: str, text: str) -> str:
        indent = " " * (len(self._counter()) + 1)
        return f"{indent}{self.tally.label(task_id)}: {first_line(text)}"


class RichProgress:
    """Draw an overall bar and the running tasks on a terminal, with ``rich``.

    Notifications only update the tally (under a lock); rich's refresh thread renders
    a snapshot of it at most ``refresh_per_second`` times a second. Failures are also
    printed above the live display, so they stay on screen.
    """

    def __init__(self, stream: TextIO, *, refresh_per_second: float = 10.0) -> None:
        from rich.console import Console  # noqa: PLC0415  (only on a terminal)
        from rich.live import Live  # noqa: PLC0415

        self.tally = TaskTally()
        self._lock = threading.Lock()
        self.console = Console(file=stream)
        self._live = Live(
            self,
            console=self.console,
            refresh_per_second=refresh_per_second,
            redirect_stdout=False,
        )

    def __enter__(self) -> RichProgress:
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live display, leaving its last frame on screen."""
        self._live.stop()

    def on_notification(self, notification: Notification) -> None:
        """Count ``notification``; print failures above the live display."""
        with self._lock:
            self.tally.apply(notification)
        if (
            isinstance(notification, TaskStatusChanged)
            and notification.status in FAILED_LIKE
        ):
            from rich.text import Text  # noqa: PLC0415

            label = self.tally.label(notification.task_id)
            error = first_line(notification.error)
            line = Text.assemble(
                (str(notification.status), "bold red"), f" {label}: {error}"
            )
            self.console.print(line, soft_wrap=True)

    def __rich__(self) -> Any:
        """Render the current state (called by rich's refresh thread)."""
        from rich.console import Group  # noqa: PLC0415
        from rich.progress_bar import ProgressBar  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        with self._lock:
            tally = self.tally
            total, done, failed = tally.total, tally.done, tally.failed
            running = list(tally.running.items())
            rows = [
                (tally.label(task_id), run.percentage, run.message, run.url)
                for task_id, run in running[:_SHOWN_RUNNING]
            ]
            already = tally.already_complete
        head = Table.grid(padding=(0, 1))
        head.add_row(
            ProgressBar(total=max(total, 1), completed=done, width=30),
            f"{done}/{total} done",
            f"({already} already complete)",
            Text(f"{failed} failed", style="red" if failed else ""),
            f"{len(running)} running",
        )
        body = Table.grid(padding=(0, 2))
        for label, percentage, message, url in rows:
            shown = "" if percentage is None else f"{percentage:3.0f}%"
            body.add_row(
                Text(f"  {label}"), shown, Text(first_line(message)), Text(url)
            )
        if len(running) > _SHOWN_RUNNING:
            body.add_row(f"  ...and {len(running) - _SHOWN_RUNNING} more running")
        return Group(head, body)


def progress_for(stream: TextIO) -> PlainProgress | RichProgress:
    """Return the progress display that suits ``stream``: rich on a terminal."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return RichProgress(stream)
    return PlainProgress(stream)
