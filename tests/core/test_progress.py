"""RunProgress, the one run-state model: counts, changes, retries, drawn states."""

from __future__ import annotations

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskProgressed,
    TaskSpec,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.progress import (
    Changes,
    RunProgress,
    added_state,
    format_seconds,
    last_line,
    spec_state,
)

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED


def progress_of(*notifications: object) -> RunProgress:
    progress = RunProgress()
    for notification in notifications:
        progress.on_notification(notification)  # type: ignore[arg-type]
    return progress


def test_run_progress_counts_and_says_what_changed_once() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskAdded(2, 0.0, "b", "B", (), (), D, True),
        TaskStatusChanged(3, 1.0, "a", R, P),
    )

    changes = progress.take_changes()

    assert changes == Changes(grown=True, changed={"a", "b"}, panel=True)
    assert progress.counts == {"PENDING": 0, "complete": 1, "RUNNING": 1}
    assert progress.status_counts[D] == 1
    assert progress.status_counts[R] == 1
    assert progress.take_changes() == Changes(False, set(), False)
    assert list(progress.running) == ["a"]
    assert (progress.total, progress.done, progress.already_complete) == (2, 1, 1)


def test_run_progress_retry_leaves_the_failures_and_starts_afresh() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskStatusChanged(2, 1.0, "a", R, P),
        TaskStatusChanged(3, 2.0, "a", F, R, error="E: boom", traceback="tb"),
    )
    assert list(progress.failed) == ["a"]
    assert progress.failures == 1

    for notification in (
        TaskStatusChanged(4, 3.0, "a", P, F),
        TaskStatusChanged(5, 4.0, "a", R, P),
        TaskStatusChanged(6, 5.5, "a", D, R),
    ):
        progress.on_notification(notification)

    task = progress.tasks["a"]
    assert not progress.failed
    assert (task.error, task.traceback, task.started, task.ended) == ("", "", 4.0, 5.5)
    assert progress.detail("a")["elapsed"] == "1.5 s"


def test_run_progress_keeps_messages_urls_and_progress_of_known_tasks() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (("x", "1"),), (), P),
        TaskStatusChanged(2, 1.0, "a", R, P),
        TaskProgressed(3, 1.0, "a", 40.0),
        TaskMessage(4, 1.0, "a", "reading"),
        TaskTrackingUrl(5, 1.0, "a", "javascript:alert(1)"),
        TaskMessage(6, 1.0, "unknown", "ignored"),
        TaskStatusChanged(7, 2.0, "a", D, R),
    )

    detail = progress.detail("a")

    assert (detail["progress"], detail["message"], detail["label"]) == (
        100.0,
        "reading",
        "A(x=1)",
    )
    assert detail["url"] == ""  # only http(s) links are offered
    assert progress.tasks["a"].url == "javascript:alert(1)"
    assert progress.detail("unknown") == {}
    assert "unknown" not in progress.tasks


def test_run_progress_counts_a_task_added_twice_once() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskAdded(2, 0.0, "a", "A", (), (), D, True),
    )

    assert progress.total == 1
    assert progress.counts == {"PENDING": 0, "complete": 1}
    assert progress.status_counts[P] == 0


def test_run_progress_summary_line_has_outcome_counts_and_wall_time() -> None:
    progress = progress_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskAdded(2, 0.0, "b", "B", (), ("a",), P),
        RunStarted(3, 10.0, "run-1", ("b",), 2),
        TaskStatusChanged(4, 11.0, "a", F, P, error="E"),
        TaskStatusChanged(5, 11.0, "b", Status.UPSTREAM_FAILED, P, cause="a"),
        RunFinished(6, 22.0, "run-1", "failed", ()),
    )

    assert progress.summary_line() == (
        "failed: 2 tasks: 1 failed, 1 upstream failed · wall 12 s"
    )
    assert (progress.run_id, progress.roots, progress.outcome) == (
        "run-1",
        ("b",),
        "failed",
    )
    assert progress.tasks["b"].cause == "a"


def test_drawn_states_for_stale_unversioned_missing_and_broken_tasks() -> None:
    assert added_state(P, complete_before=False, reason="stale: code changed") == (
        "stale"
    )
    assert added_state(D, complete_before=True, reason="unversioned: no sidecar") == (
        "unversioned"
    )
    assert added_state(P, complete_before=False, reason="output missing") == "PENDING"
    assert added_state(F, complete_before=False, reason="stale: x") == "FAILED"
    assert spec_state(TaskSpec("a", "A", broken="boom", complete=True)) == "broken"
    assert spec_state(TaskSpec("a", "A", runnable=False)) == "missing"
    assert spec_state(TaskSpec("a", "A", reason="stale: code changed")) == "stale"


def test_format_seconds_and_last_line_are_the_one_shared_form() -> None:
    assert [format_seconds(s) for s in (-1, 0.5, 9.94, 12.3, 185)] == [
        "0.00 s",
        "0.50 s",
        "9.9 s",
        "12 s",
        "3 min 05 s",
    ]
    assert last_line("Traceback\n  x\nValueError: boom\n\n") == "ValueError: boom"
    assert last_line("  \n", "failed") == "failed"
