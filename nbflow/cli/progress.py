"""Progress display for the ``nbflow`` command: two renderers of a run's progress.

Both render the run's one :class:`~nbflow.core.progress.RunProgress` and keep no state
of their own beyond what they have printed:

- :class:`PlainProgress` writes one line per meaningful change (a task starts, ends,
  fails, or reports a status message or tracking URL), for logs, CI and pipes;
- :class:`RichProgress` draws a live overall bar and the running tasks with ``rich``
  (imported only when it is used), redrawn by the run's view throttle, for terminals.

``display.attach(run)`` (passed to :func:`~nbflow.core.run.start_run` as a view) reads
the run's model; used as a plain Listener instead, a display keeps a model of its own.
:func:`progress_for` picks the one that suits a stream.

Imports: stdlib, nbflow.core.{events, progress}; rich lazily.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from nbflow.core.events import (
    Status,
    TaskMessage,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.progress import (
    FAILED,
    RUNNING,
    RunProgress,
    first_line,
    format_seconds,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Notification
    from nbflow.core.progress import Changes
    from nbflow.core.run import Run

#: Running tasks listed by the live display; the rest are counted.
_SHOWN_RUNNING = 8


class _Display:
    """What both renderers share: the model they read, owned or the run's."""

    def __init__(self) -> None:
        self.progress = RunProgress()
        self.lock: Any = threading.RLock()
        self._owned = True

    def attach(self, run: Run) -> None:
        """Render ``run``'s own progress model (call before the run starts)."""
        if run.progress is None:
            return
        self.progress, self.lock, self._owned = run.progress, run.lock, False
        run.subscribe(self, replay=False)

    def on_notification(self, notification: Notification) -> None:
        """Apply ``notification`` (unless the run did) and render what it changed."""
        if self._owned:
            with self.lock:
                self.progress.on_notification(notification)
        self._render(notification)

    def _render(self, notification: Notification) -> None:
        raise NotImplementedError


class PlainProgress(_Display):
    """Write one line per meaningful change to a (non-terminal) stream.

    Lines look like ``[ 3/10] RUNNING Task(x=1)``; the counter is tasks done out of
    tasks known. The first line, ``nbflow: 12 tasks, 5 already complete``, waits until
    the graph is known (the first task starts, or the run ends), and so do failures
    found while the graph was being expanded.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
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

    def _render(self, notification: Notification) -> None:
        if isinstance(notification, TaskStatusChanged):
            self._on_change(notification)
        elif isinstance(notification, TaskMessage) and notification.message:
            self._emit(self._note, notification.task_id, notification.message)
        elif isinstance(notification, TaskTrackingUrl) and notification.url:
            self._emit(self._note, notification.task_id, notification.url)

    def _on_change(self, notification: TaskStatusChanged) -> None:
        status, task_id = notification.status, notification.task_id
        if status in RUNNING:
            self._release()
            self._emit(self._status_line, "RUNNING", task_id, "")
        elif status is Status.DONE and notification.previous in RUNNING:
            record = self.progress.tasks.get(task_id)
            elapsed = None if record is None else record.elapsed(notification.at)
            tail = "" if elapsed is None else f" {format_seconds(elapsed)}"
            self._emit(self._status_line, "DONE", task_id, tail)
        elif status in FAILED or status is Status.CANCELLED:
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
        with self.lock:
            total, already = self.progress.total, self.progress.already_complete
        noun = "task" if total == 1 else "tasks"
        lines = [f"nbflow: {total} {noun}, {already} already complete"]
        lines += [render() for render in held]
        self._stream.write("\n".join(lines) + "\n")

    def _counter(self) -> str:
        total = self.progress.total
        return f"[{self.progress.done:>{len(str(total))}}/{total}]"

    def _status_line(self, word: str, task_id: str, tail: str) -> str:
        return f"{self._counter()} {word:<7} {self.progress.label(task_id)}{tail}"

    def _note(self, task_id: str, text: str) -> str:
        indent = " " * (len(self._counter()) + 1)
        return f"{indent}{self.progress.label(task_id)}: {first_line(text)}"


class RichProgress(_Display):
    """Draw an overall bar and the running tasks on a terminal, with ``rich``.

    Attached to a run, it is redrawn by the run's view throttle (at most ten times a
    second); used as a plain Listener, it redraws itself at most
    ``refresh_per_second`` times a second. Failures are also printed above the live
    display, so they stay on screen.
    """

    def __init__(self, stream: TextIO, *, refresh_per_second: float = 10.0) -> None:
        from rich.console import Console  # noqa: PLC0415  (only on a terminal)
        from rich.live import Live  # noqa: PLC0415

        super().__init__()
        self.console = Console(file=stream)
        self._live = Live(
            self, console=self.console, auto_refresh=False, redirect_stdout=False
        )
        self._unwatch: Callable[[], None] | None = None
        self._pause = 1.0 / refresh_per_second
        self._drawn_at = 0.0

    def attach(self, run: Run) -> None:
        """Render ``run``'s progress, redrawn when the run's throttle says so."""
        super().attach(run)
        if not self._owned:
            self._unwatch = run.watch(self._refresh)

    def _refresh(self, changes: Changes | None = None) -> None:
        del changes  # the whole frame is redrawn
        self._drawn_at = time.monotonic()
        self._live.refresh()

    def __enter__(self) -> RichProgress:
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live display, leaving its last frame on screen."""
        if self._unwatch is not None:
            self._unwatch()
        self._live.stop()

    def _render(self, notification: Notification) -> None:
        if self._owned and time.monotonic() - self._drawn_at >= self._pause:
            self._refresh()
        if (
            isinstance(notification, TaskStatusChanged)
            and notification.status in FAILED
        ):
            from rich.text import Text  # noqa: PLC0415

            label = self.progress.label(notification.task_id)
            error = first_line(notification.error)
            line = Text.assemble(
                (str(notification.status), "bold red"), f" {label}: {error}"
            )
            self.console.print(line, soft_wrap=True)

    def __rich__(self) -> Any:
        """Render the current state (from rich's refresh or the run's view thread)."""
        from rich.console import Group  # noqa: PLC0415
        from rich.progress_bar import ProgressBar  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        with self.lock:
            progress = self.progress
            total, done, failed = progress.total, progress.done, progress.failures
            running = [progress.tasks[task_id] for task_id in progress.running]
            already = progress.already_complete
        head = Table.grid(padding=(0, 1))
        head.add_row(
            ProgressBar(total=max(total, 1), completed=done, width=30),
            f"{done}/{total} done",
            f"({already} already complete)",
            Text(f"{failed} failed", style="red" if failed else ""),
            f"{len(running)} running",
        )
        body = Table.grid(padding=(0, 2))
        for task in running[:_SHOWN_RUNNING]:
            shown = "" if task.percentage is None else f"{task.percentage:3.0f}%"
            body.add_row(
                Text(f"  {task.label}"),
                shown,
                Text(first_line(task.message)),
                Text(task.url),
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
