"""RunProgress's inlined paths: a task added while running or failed, added again, and
ending with or without a failure's details, kept as the views read them."""

from __future__ import annotations

from nbflow.core.events import Status, TaskAdded, TaskStatusChanged
from nbflow.core.progress import RunProgress

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED


def progress_of(*notifications: object) -> RunProgress:
    progress = RunProgress()
    for notification in notifications:
        progress.on_notification(notification)  # type: ignore[arg-type]
    return progress


def test_a_task_added_running_or_failed_is_listed_as_such() -> None:
    progress = progress_of(
        TaskAdded(1, 5.0, "r", "R", (), (), R),
        TaskAdded(2, 5.0, "f", "F", (), (), F),
        TaskAdded(3, 5.0, "s", "S", (), (), P, reason="stale: code changed"),
        TaskAdded(4, 5.0, "n", "N", (), (), P, reason="no outputs"),
    )

    assert list(progress.running) == ["r"]
    assert progress.tasks["r"].started == 5.0
    assert list(progress.failed) == ["f"]
    assert progress.tasks["s"].state == "stale"
    assert progress.tasks["n"].state == "PENDING"


def test_a_task_added_again_leaves_the_running_and_failed_lists() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "r", "R", (), (), R),
        TaskAdded(2, 0.0, "f", "F", (), (), F),
        TaskAdded(3, 1.0, "r", "R", (), (), P),
        TaskAdded(4, 1.0, "f", "F", (), (), D, True),
    )

    assert not progress.running
    assert not progress.failed
    assert progress.counts == {"RUNNING": 0, "FAILED": 0, "PENDING": 1, "complete": 1}
    assert progress.already_complete == 0  # counted when a task first joins


def test_a_failure_keeps_its_details_and_a_restart_clears_them() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskAdded(2, 0.0, "b", "B", (), (), P),
        TaskStatusChanged(3, 1.0, "a", F, P, error="boom", output=("x",)),
        TaskStatusChanged(4, 1.0, "b", F, P, traceback="tb", full_traceback="full"),
        TaskStatusChanged(5, 2.0, "a", F, F, error="again"),
    )

    a, b = progress.tasks["a"], progress.tasks["b"]
    assert (a.error, a.output) == ("again", ("x",))
    assert (b.error, b.traceback, b.full_traceback) == ("", "tb", "full")
    assert list(progress.failed) == ["a", "b"]  # a failure again keeps its place

    progress.on_notification(TaskStatusChanged(6, 3.0, "a", R, F, error="ignored"))

    assert (a.error, a.output, a.started, a.ended) == ("", (), 3.0, None)
    assert list(progress.failed) == ["b"]
    assert list(progress.running) == ["a"]
