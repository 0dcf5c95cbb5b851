"""The run model takes the scheduler's notifications that name no single task."""

from __future__ import annotations

from nbflow.core.events import PauseChanged, Status, TaskAdded, TasksRemoved
from nbflow.core.progress import RunProgress


def test_progress_takes_pause_and_removal_notifications_in_stride() -> None:
    progress = RunProgress()
    progress.on_notification(TaskAdded(1, 0.0, "a", "A", (), (), Status.PENDING))

    progress.on_notification(PauseChanged(2, 1.0, paused=True))
    progress.on_notification(TasksRemoved(3, 2.0, ("a",)))

    assert progress.seq == 3
    assert set(progress.tasks) == {"a"}
