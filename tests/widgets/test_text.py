"""TextView: concise lines for kernels without a widget front end."""

from __future__ import annotations

import io

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.summary import RunResult, RunStatus
from nbflow.widgets import TextView

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED


def test_text_view_small_run_lines() -> None:
    out = io.StringIO()
    view = TextView(out)
    notifications = [
        TaskAdded(1, 0.0, "old", "Old", (), (), D, True),
        TaskAdded(2, 0.0, "a", "A", (("x", "1"),), ("old",), P),
        TaskAdded(3, 0.0, "b", "B", (), ("a",), P),
        RunStarted(4, 0.0, "r", ("b",), 3),
        TaskStatusChanged(5, 0.0, "a", R, P),
        TaskTrackingUrl(6, 0.1, "a", "https://ci.example/1"),
        TaskTrackingUrl(7, 0.2, "a", "https://ci.example/1"),
        TaskStatusChanged(8, 2.0, "a", F, R, error="ValueError: boom"),
        TaskStatusChanged(9, 2.0, "b", Status.UPSTREAM_FAILED, P, cause="a"),
        RunFinished(10, 2.5, "r", "failed", ()),
    ]

    for notification in notifications:
        view.on_notification(notification)
    view.summary(RunResult(RunStatus.FAILED, False, ""))

    assert out.getvalue().splitlines() == [
        "nbflow: running 3 tasks (1 already complete)",
        "  A(x=1): https://ci.example/1",
        "  FAILED A(x=1): ValueError: boom",
        "failed: 3 tasks: 1 complete before the run, 1 failed, 1 upstream failed · wall 2.5 s",
        "This progress looks :( because there were failed tasks",
    ]


def test_text_view_big_run_writes_milestones_only() -> None:
    out = io.StringIO()
    view = TextView(out)
    for i in range(200):
        view.on_notification(TaskAdded(i, 0.0, f"t{i}", "T", (), (), P))
    view.on_notification(RunStarted(200, 0.0, "r", (), 200))

    for i in range(200):
        view.on_notification(TaskStatusChanged(300 + i, 1.0, f"t{i}", R, P))
        view.on_notification(TaskTrackingUrl(600 + i, 1.0, f"t{i}", "https://x"))
        view.on_notification(TaskStatusChanged(900 + i, 1.0, f"t{i}", D, R))

    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[1] == "  [20/200] 10% done"
    assert lines[-1] == "  [200/200] 100% done"


def test_text_view_summary_without_result() -> None:
    out = io.StringIO()
    view = TextView(out)

    view.summary(None)

    assert out.getvalue() == "nbflow: the run did not finish (running)\n"
    assert repr(view) == "<nbflow TextView running: 0 tasks: none>"
