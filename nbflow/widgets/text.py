"""Plain-text run view for kernels without a widget front end (papermill, terminals).

:class:`TextView` is a Listener that writes concise lines to a stream: the start of the
run, each task that ends (or, for big runs, a line every tenth of the way), each
failure with its error, a task's tracking URL once (small runs only), and a final
summary. It keeps no threads: the kernel calls it from the main thread.

Imports: stdlib, nbflow.core.{events, progress}, nbflow.widgets.progress (no Jupyter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.progress import FAILED_STATES, RunProgress, format_seconds, last_line
from nbflow.widgets.progress import percent_done

if TYPE_CHECKING:
    from typing import TextIO

    from nbflow.core.events import Notification
    from nbflow.core.summary import RunResult

#: Runs with more tasks than this get milestone lines instead of one line per task.
TASK_LINES_MAX = 50


class TextView:
    """Write a run's progress to ``stream`` as a few plain lines.

    Examples
    --------
    >>> import io
    >>> from nbflow.core.events import RunStarted, Status, TaskAdded, TaskStatusChanged
    >>> out = io.StringIO()
    >>> view = TextView(out)
    >>> view.on_notification(TaskAdded(1, 0.0, "A_1", "A", (), (), Status.PENDING))
    >>> view.on_notification(RunStarted(2, 0.0, "r", ("A_1",), 1))
    >>> view.on_notification(TaskStatusChanged(3, 0.0, "A_1", Status.RUNNING, Status.PENDING))
    >>> view.on_notification(TaskStatusChanged(4, 1.5, "A_1", Status.DONE, Status.RUNNING))
    >>> print(out.getvalue(), end="")
    nbflow: running 1 task
      [1/1] done A() 1.5 s
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._progress = RunProgress()
        self._next_milestone = 1
        self._urls_shown: set[str] = set()

    def on_notification(self, notification: Notification) -> None:
        """Apply ``notification`` and write a line if it is worth one."""
        self._progress.on_notification(notification)
        if isinstance(notification, RunStarted):
            self._started()
        elif isinstance(notification, TaskStatusChanged):
            self._changed(notification)
        elif isinstance(notification, TaskTrackingUrl):
            if (
                self._progress.total <= TASK_LINES_MAX
                and notification.task_id not in self._urls_shown
            ):
                self._urls_shown.add(notification.task_id)
                label = self._progress.tasks[notification.task_id].label
                self._write(f"  {label}: {notification.url}")
        elif isinstance(notification, RunFinished):
            self._write(self._progress.summary_line())

    def summary(self, result: RunResult | None) -> None:
        """Write Luigi's one-line verdict for ``result`` (the run's end is already out)."""
        if result is None:
            self._write(f"nbflow: the run did not finish ({self._progress.outcome})")
            return
        self._write(result.one_line_summary)

    def _started(self) -> None:
        progress = self._progress
        total = progress.total
        complete = progress.counts.get("complete", 0)
        noun = "task" if total == 1 else "tasks"
        line = f"nbflow: running {total} {noun}"
        if complete:
            line += f" ({complete} already complete)"
        self._write(line)
        self._next_milestone = max(1, total // 10)

    def _changed(self, notification: TaskStatusChanged) -> None:
        progress = self._progress
        record = progress.tasks.get(notification.task_id)
        if record is None:
            return
        if record.state in FAILED_STATES:
            error = last_line(record.error, record.state.lower())
            self._write(f"  FAILED {record.label}: {error}")
        elif record.state != "DONE":
            return
        if progress.total <= TASK_LINES_MAX and record.state == "DONE":
            took = record.elapsed(notification.at)
            elapsed = "" if took is None else " " + format_seconds(took)
            self._write(
                f"  [{progress.done}/{progress.total}] done {record.label}{elapsed}"
            )
        elif progress.total > TASK_LINES_MAX and progress.done >= self._next_milestone:
            percentage = percent_done(progress.done, progress.total)
            self._write(f"  [{progress.done}/{progress.total}] {percentage}% done")
            self._next_milestone = progress.done + max(1, progress.total // 10)

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")

    def __repr__(self) -> str:
        return f"<nbflow TextView {self._progress.summary_line()}>"
