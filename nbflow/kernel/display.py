"""How the kernel shows runs: live widgets with a frontend, concise text without one.

:func:`choose_display` decides per kernel. Widgets need a kernel launched by a Jupyter
server (JupyterLab, Notebook: ``JPY_SESSION_NAME`` is set) and ``nbflow.widgets``; under
papermill, nbconvert, nbclient, plain IPython or a terminal, runs are shown as text.
``NBFLOW_DISPLAY=widgets|text`` (or the magics' ``--text``) forces the choice.

:class:`TextFollower` is the text view. It is a listener that only queues
notifications (from the run's thread); the kernel's main thread drains the queue while
the cell waits and prints, so no line is ever printed from a background thread (such
lines would land in whichever cell happens to be running).

The text renderings of ``%nbflow status``, ``attach`` and ``show`` live here too.

Imports: stdlib, nbflow.core.*, nbflow.kernel.record, nbflow.widgets.progress (no
Jupyter); the widgets themselves and IPython lazily.
"""

from __future__ import annotations

import importlib
import os
import queue
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from nbflow.core.errors import NbflowError
from nbflow.core.events import RunStarted, Status, TaskStatusChanged
from nbflow.core.progress import (
    FAILED,
    RUNNING,
    STATE_WORDS,
    first_line,
    format_seconds,
)
from nbflow.widgets.progress import floor_percent, output_tail, percent_done

if TYPE_CHECKING:
    from nbflow.core.events import Notification
    from nbflow.core.summary import RunResult
    from nbflow.kernel.record import RunRecord, TaskState

#: The display modes, in the order they are documented.
DISPLAY_MODES = ("widgets", "text")
#: Runs with at most this many tasks to run get one line per finished task.
DETAIL_LIMIT = 20
#: Failed tasks listed one per line; the rest are counted by the summary.
FAILURES_SHOWN = 10


class DisplaySettingError(NbflowError):
    """``NBFLOW_DISPLAY`` (or a display option) names no known display mode."""

    def __init__(self, where: str, got: str) -> None:
        super().__init__(where, got)
        self.where, self.got = where, got

    def __str__(self) -> str:
        modes = " or ".join(DISPLAY_MODES)
        return (
            f"{self.where}: unknown display mode (got {self.got!r}). Expected {modes}. "
            f"Fix: set {self.where} to one of {modes}, or unset it to choose by frontend."
        )


def choose_display(shell: Any, *, text: bool = False) -> str:
    """Return "widgets" or "text" for a run shown in ``shell`` (None: no IPython).

    Raises
    ------
    DisplaySettingError
        ``NBFLOW_DISPLAY`` is set to something else than widgets or text.
    """
    if text:
        return "text"
    wanted = os.environ.get("NBFLOW_DISPLAY", "").strip().lower()
    if wanted and wanted not in DISPLAY_MODES:
        raise DisplaySettingError("NBFLOW_DISPLAY", wanted)
    if wanted == "text" or (not wanted and not has_widget_frontend(shell)):
        return "text"
    return "widgets" if widget_classes() is not None else "text"


def has_widget_frontend(shell: Any) -> bool:
    """Return whether ``shell`` is a kernel that a Jupyter server launched."""
    return getattr(shell, "kernel", None) is not None and bool(
        os.environ.get("JPY_SESSION_NAME")
    )


def widget_classes() -> tuple[Any, Any] | None:
    """Return ``(RunView, GraphView)`` from nbflow.widgets, or None if unavailable."""
    try:
        widgets = importlib.import_module("nbflow.widgets")
        classes = (widgets.RunView, widgets.GraphView)
    except (ImportError, AttributeError):
        return None
    return classes


def show_widget(widget: Any) -> None:
    """Display ``widget`` in the current cell's output."""
    from IPython.display import display  # noqa: PLC0415  (only with a frontend)

    display(widget)  # type: ignore[no-untyped-call]


class TextFollower:
    """Print a run's progress as concise text, from the main thread only.

    The run's record forwards the notifications worth a line to this follower's queue
    (from the run thread); :meth:`drain` (main thread) prints: a first line with the
    size of the graph; for small runs one line per finished or failed task; for big
    runs a progress line at most every ``interval`` seconds and the first failures.
    :meth:`finish` prints the execution summary and the verdict.
    """

    def __init__(
        self, record: RunRecord, stream: TextIO | None = None, interval: float = 5.0
    ) -> None:
        self.record = record
        self.interval = interval
        self._stream = stream
        self._queue: queue.SimpleQueue[Notification] = queue.SimpleQueue()
        record.forward = self._queue
        record.forward_done_limit = DETAIL_LIMIT
        self._detail = True
        self._total = 0
        self._done = 0
        self._failures = 0
        self._last_line = time.monotonic()

    def _write(self, line: str) -> None:
        stream = self._stream or sys.stdout  # the cell's stream at the time of writing
        stream.write(line + "\n")
        self._last_line = time.monotonic()

    def drain(self) -> None:
        """Print what the forwarded notifications are worth (main thread)."""
        while True:
            try:
                notification = self._queue.get_nowait()
            except queue.Empty:
                break
            self._apply(notification)
        if not self._detail and time.monotonic() - self._last_line >= self.interval:
            self._write(f"  {self._counter()} {self._progress()}")

    def _apply(self, notification: Notification) -> None:
        if isinstance(notification, RunStarted):
            self._header(notification.total)
            return
        assert isinstance(notification, TaskStatusChanged)  # noqa: S101  (forwarded)
        if notification.status is Status.DONE:  # forwarded for small runs only
            self._done += 1
            self._finished(notification)
        else:
            self._failed(notification)

    def _header(self, total: int) -> None:
        self._total = total
        already = self.record.already_complete
        self._done = already
        to_run = total - already
        self._detail = to_run <= DETAIL_LIMIT
        noun = "task" if total == 1 else "tasks"
        self._write(
            f"nbflow run {self.record.number}: {total} {noun}, "
            f"{already} already complete, {to_run} to run"
        )

    def _finished(self, notification: TaskStatusChanged) -> None:
        label = self.record.label(notification.task_id)
        started = self.record.started(notification.task_id)
        took = (
            "" if started is None else f" ({format_seconds(notification.at - started)})"
        )
        self._write(f"  {self._counter()} done    {label}{took}")

    def _failed(self, notification: TaskStatusChanged) -> None:
        self._failures += 1
        if self._failures > FAILURES_SHOWN:
            return
        error = first_line(notification.error) or str(notification.status)
        label = self.record.label(notification.task_id)
        self._write(f"  {self._counter()} {notification.status!s:<7} {label}: {error}")

    def _counter(self) -> str:
        done = self._done if self._detail else self.record.counts()[Status.DONE]
        total = max(self._total, done)
        return f"[{done:>{len(str(total))}}/{total}]"

    def _progress(self) -> str:
        counts = self.record.counts()
        running = sum(counts[status] for status in RUNNING)
        failed = sum(counts[status] for status in FAILED)
        return f"done, {running} running, {failed} failed"

    def finish(self, result: RunResult | None) -> None:
        """Print the execution summary and the run's verdict (main thread)."""
        self.drain()
        if result is not None:
            self._write(result.summary_text.strip("\n"))
        self._write(verdict(self.record, result))


def verdict(record: RunRecord, result: RunResult | None) -> str:
    """Return the last line of a run: its state, what it did and how long it took."""
    took = format_seconds(record.elapsed)
    head = f"nbflow run {record.number}"
    tasks = result.tasks if result is not None else {}
    if record.state == "succeeded" and set(tasks) <= {"already_done"}:
        roots = ", ".join(record.roots)
        return f"{head}: nothing to do, {roots} already complete ({took})."
    ran = len(tasks.get("completed", ()))
    if record.state == "cancelled":
        return f"{head} cancelled after {took}: {ran} ran, unfinished tasks stopped."
    failed = len(tasks.get("failed", ())) + len(tasks.get("scheduling_error", ()))
    return f"{head} {record.state} in {took}: {ran} ran, {failed} failed."


def status_table(records: list[RunRecord]) -> str:
    """Return the ``%nbflow status`` table: one row per run of this kernel.

    The counts are the run view's, in its words: a task whose requirement failed is
    "upstream failed", not failed, and one complete before the run is not "done".
    """
    if not records:
        return "nbflow: no runs in this kernel yet. Start one with %nbflow run TASK."
    rows = [("run", "state", "elapsed", "tasks", "counts")]
    for record in records:
        roots = ", ".join(record.roots)
        rows.append(
            (
                str(record.number),
                record.state,
                format_seconds(record.elapsed),
                roots if len(roots) <= 40 else roots[:37] + "...",  # noqa: PLR2004
                record.counts_text(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
        + "  "
        + row[-1]
        for row in rows
    ).rstrip()


def run_snapshot(record: RunRecord) -> str:
    """Return what ``%nbflow attach`` prints as text: state, counts, running tasks."""
    counts = record.counts()
    total = record.total if record.total is not None else sum(counts.values())
    head = (
        f"nbflow run {record.number} ({', '.join(record.roots)}): {record.state}, "
        f"{counts[Status.DONE]}/{total} done "
        f"({percent_done(counts[Status.DONE], total)}%): {record.counts_text()}, "
        f"{format_seconds(record.elapsed)}"
    )
    lines = [head]
    lines += [f"  running {s.label}{_extras(s)}" for s in record.running()[:8]]
    lines += [
        f"  {s.status!s:<7} {s.label}: {first_line(s.error)}"
        for s in record.failures()[:FAILURES_SHOWN]
    ]
    result = record.run.result
    if result is not None:
        lines.append(result.summary_text.strip("\n"))
    return "\n".join(lines)


def _extras(state: TaskState) -> str:
    parts = []
    if state.percentage is not None:
        parts.append(f"{floor_percent(state.percentage)}%")
    if state.message:
        parts.append(first_line(state.message))
    if state.url:
        parts.append(state.url)
    return f" ({'; '.join(parts)})" if parts else ""


def task_report(task: Any, record: RunRecord | None, state: TaskState | None) -> str:
    """Return what ``%nbflow show`` prints: parameters, state, message, URL, error.

    ``state`` comes from the latest run of this kernel that contains the task; without
    one, the task's completeness is checked instead.
    """
    params = task.to_str_params(only_public=True)
    lines = [repr(task), f"  id:          {task.task_id}"]
    shown = ", ".join(f"{name}={value}" for name, value in params.items())
    lines.append(f"  parameters:  {shown or '(none)'}")
    if record is None or state is None:
        lines.append(f"  state:       {_completeness(task)}; not run in this kernel")
        return "\n".join(lines)
    words = STATE_WORDS.get(state.state, state.state)
    lines.append(f"  state:       {words} in run {record.number} ({record.state})")
    if state.percentage is not None:
        lines.append(f"  progress:    {floor_percent(state.percentage)}%")
    if state.message:
        lines.append(f"  message:     {state.message}")
    if state.url:
        lines.append(f"  tracking:    {state.url}")
    if state.cause:
        lines.append(f"  because of:  {state.cause}")
    if state.error:
        lines.append(f"  error:       {state.error}")
    if state.traceback:
        lines.append("  traceback:")
        lines.extend(f"    {line}" for line in state.traceback.rstrip().splitlines())
    tail = output_tail(state)
    if tail:
        lines.append(f"  output (last {len(tail)} lines):")
        lines.extend(f"    {line}" for line in tail)
    return "\n".join(lines)


def _completeness(task: Any) -> str:
    try:
        complete = task.complete()
    except Exception as exc:  # noqa: BLE001  (reported as the task's state)
        return f"unknown: complete() raised {type(exc).__name__}: {exc}"
    return "complete (its outputs exist)" if complete else "not complete"
