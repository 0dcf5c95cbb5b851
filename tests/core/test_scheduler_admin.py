"""Adding tasks again (luigid's rules) and the administration's events.

Feed events, assert the exact actions, as in test_scheduler.py.
"""

from __future__ import annotations

import pickle
from typing import Any

from nbflow.core.events import (
    FailuresForgiven,
    Notify,
    PauseChanged,
    RetryPolicy,
    RunCancelling,
    RunCancelRequested,
    RunTask,
    SchedulerPaused,
    SchedulerResumed,
    Status,
    TaskFailed,
    TaskHandedBack,
    TaskMarkedDone,
    TaskReenabled,
    TasksDiscovered,
    TasksPruned,
    TasksRemoved,
    TaskStatusChanged,
    TaskSucceeded,
    Tick,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.scheduler import TRANSITIONS, Scheduler
from tests.builders import changes, graph_of, runs, spec, started

PENDING, RUNNING, DONE = Status.PENDING, Status.RUNNING, Status.DONE
FAILED, DISABLED = Status.FAILED, Status.DISABLED
UPSTREAM_FAILED, UPSTREAM_DISABLED = Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED
ONCE = RetryPolicy(retry_count=1)


def moved(
    seq: int, task_id: str, status: Status, previous: Status, **fields: Any
) -> Notify:
    """Return the notification of a status change at time 0."""
    return Notify(TaskStatusChanged(seq, 0.0, task_id, status, previous, **fields))


def ran(seq: int, task_id: str) -> list[Any]:
    """Return the two actions that start ``task_id`` alone on worker "w"."""
    return [moved(seq, task_id, RUNNING, PENDING, worker_id="w"), RunTask(task_id, "w")]


# --- adding again -----------------------------------------------------------------------


def test_readd_failed_task_is_pending_at_once_and_unblocks_dependents() -> None:
    scheduler, _ = started(graph_of(b=["a"]))
    scheduler.handle(TaskFailed("a"))

    actions = scheduler.handle(TasksDiscovered((spec("a"),)))

    assert actions == [
        moved(6, "a", PENDING, FAILED, cause="re-added"),
        moved(7, "b", PENDING, UPSTREAM_FAILED, cause="a"),
        *ran(8, "a"),
    ]
    assert scheduler.task_info("a").failures == 1


def test_readd_done_task_incomplete_is_pending_and_leaves_running_ones_alone() -> None:
    scheduler, _ = started(graph_of(b=["a"]))
    scheduler.handle(TaskSucceeded("a"))  # b runs

    actions = scheduler.handle(TasksDiscovered((spec("b"), spec("a"))))

    assert actions == [moved(6, "a", PENDING, DONE, cause="re-added")]
    assert scheduler.status("b") is RUNNING
    assert runs(scheduler.handle(TaskSucceeded("b"))) == ["a"]


def test_readd_done_task_makes_a_ready_dependent_wait_for_it_again() -> None:
    scheduler, _ = started(TasksDiscovered((spec("a"), spec("busy"), spec("d", "a"))))
    scheduler.handle(TaskSucceeded("a"))  # busy runs; d is ready, waiting for the slot
    assert scheduler.task_info("d").blocked is False

    scheduler.handle(TasksDiscovered((spec("a"),)))

    assert scheduler.task_info("d").blocked
    assert runs(scheduler.handle(TaskSucceeded("busy"))) == ["a"]
    assert runs(scheduler.handle(TaskSucceeded("a"))) == ["d"]


def test_readd_leaves_running_disabled_and_pending_tasks_as_they_are() -> None:
    scheduler, _ = started(
        TasksDiscovered((spec("run"), spec("off", disabled=True), spec("wait")))
    )

    actions = scheduler.handle(
        TasksDiscovered((spec("run"), spec("off"), spec("wait")))
    )

    assert actions == []
    assert [scheduler.status(t) for t in ("run", "off", "wait")] == [
        RUNNING,
        DISABLED,
        PENDING,
    ]


def test_readd_cancelled_task_is_pending_again() -> None:
    scheduler, _ = started(graph_of(a=[]))
    scheduler.handle(TaskFailed("a", kind="cancelled"))

    actions = scheduler.handle(TasksDiscovered((spec("a"),)))

    assert actions == [
        moved(4, "a", PENDING, Status.CANCELLED, cause="re-added"),
        *ran(5, "a"),
    ]


def test_readd_complete_pending_task_is_done_and_releases_dependents() -> None:
    scheduler, _ = started(graph_of(b=["a"], a=["x"]))

    actions = scheduler.handle(TasksDiscovered((spec("a", complete=True),)))

    assert actions == [moved(5, "a", DONE, PENDING, cause="found-complete")]
    assert runs(scheduler.handle(TaskSucceeded("x"))) == ["b"]


def test_readd_complete_failed_task_is_done_and_its_dependents_recover() -> None:
    scheduler, _ = started(graph_of(b=["a"]))
    scheduler.handle(TaskFailed("a"))

    actions = scheduler.handle(TasksDiscovered((spec("a", complete=True),)))

    assert actions == [
        moved(6, "a", DONE, FAILED, cause="found-complete"),
        moved(7, "b", PENDING, UPSTREAM_FAILED, cause="a"),
        *ran(8, "b"),
    ]
    assert scheduler.next_retry_at is None


def test_readd_complete_running_task_stays_running() -> None:
    scheduler, _ = started(graph_of(a=[]))

    assert scheduler.handle(TasksDiscovered((spec("a", complete=True),))) == []
    assert scheduler.status("a") is RUNNING


def test_readd_with_higher_priority_raises_it_and_its_requirements() -> None:
    scheduler, _ = started(
        TasksDiscovered((spec("busy"), spec("low"), spec("dep"), spec("high", "dep")))
    )

    scheduler.handle(TasksDiscovered((spec("high", "dep", priority=9),)))

    assert scheduler.task_info("dep").priority == 9
    assert runs(scheduler.handle(TaskSucceeded("busy"))) == ["dep"]


# --- the administration's events ----------------------------------------------------


def test_handed_back_task_is_pending_without_a_failure_and_runs_again() -> None:
    scheduler, _ = started(graph_of(a=[]))

    actions = scheduler.handle(TaskHandedBack("a"))

    assert actions == [
        moved(3, "a", PENDING, RUNNING, cause="handed-back"),
        *ran(4, "a"),
    ]
    assert scheduler.task_info("a").failures == 0


def test_handed_back_batch_member_hands_back_the_whole_batch() -> None:
    batched = {"batch_key": "Day"}
    scheduler, _ = started(
        TasksDiscovered((spec("d0", **batched), spec("d1", **batched)))
    )
    scheduler.handle(SchedulerPaused())

    actions = scheduler.handle(TaskHandedBack("d1"))

    assert changes(actions) == [("d0", "PENDING"), ("d1", "PENDING")]
    (rerun,) = [
        a for a in scheduler.handle(SchedulerResumed()) if isinstance(a, RunTask)
    ]
    assert set(rerun.batch) == {"d0", "d1"}


def test_handing_back_a_task_that_is_not_running_changes_nothing() -> None:
    scheduler, _ = started(graph_of(a=[]))
    scheduler.handle(TaskSucceeded("a"))

    assert scheduler.handle(TaskHandedBack("a")) == []


def test_forgiven_failures_make_it_pending_at_once_with_a_clean_count() -> None:
    scheduler, _ = started(
        TasksDiscovered((spec("a", retry=RetryPolicy(retry_count=2)),))
    )
    scheduler.handle(TaskFailed("a", at=1.0))

    actions = scheduler.handle(FailuresForgiven("a", at=2.0))

    assert changes(actions) == [("a", "PENDING"), ("a", "RUNNING")]
    assert scheduler.task_info("a").failures == 0
    assert scheduler.next_retry_at is None
    scheduler.handle(TaskFailed("a", at=3.0))
    assert scheduler.status("a") is FAILED  # not disabled: the count started over


def test_forgiving_a_task_that_did_not_fail_changes_nothing() -> None:
    scheduler, _ = started(graph_of(a=[]))

    assert scheduler.handle(FailuresForgiven("a")) == []


def test_reenabled_task_is_pending_and_its_dependents_recover() -> None:
    scheduler, _ = started(TasksDiscovered((spec("a", retry=ONCE), spec("b", "a"))))
    scheduler.handle(TaskFailed("a"))
    assert scheduler.status("b") is UPSTREAM_DISABLED

    actions = scheduler.handle(TaskReenabled("a"))

    assert actions == [
        moved(6, "a", PENDING, DISABLED, cause="re-enabled"),
        moved(7, "b", PENDING, UPSTREAM_DISABLED, cause="a"),
        *ran(8, "a"),
    ]
    assert scheduler.task_info("a").failures == 0


def test_reenabling_a_pending_task_changes_nothing() -> None:
    scheduler, _ = started(graph_of(a=[], b=[]))

    assert scheduler.handle(TaskReenabled("b")) == []


def test_marked_done_task_releases_its_dependents() -> None:
    scheduler, _ = started(graph_of(c=["b"], b=["a"]))
    scheduler.handle(TaskFailed("a"))
    assert scheduler.status("c") is UPSTREAM_FAILED

    actions = scheduler.handle(TaskMarkedDone("b"))

    assert actions == [
        moved(8, "b", DONE, UPSTREAM_FAILED, cause="marked-done"),
        moved(9, "c", PENDING, UPSTREAM_FAILED, cause="b"),
        *ran(10, "c"),
    ]
    assert scheduler.status("a") is FAILED


def test_marking_a_running_task_done_changes_nothing() -> None:
    scheduler, _ = started(graph_of(a=[]))

    assert scheduler.handle(TaskMarkedDone("a")) == []
    assert scheduler.status("a") is RUNNING


def test_paused_scheduler_dispatches_nothing_until_resumed() -> None:
    scheduler, _ = started(graph_of(b=["a"]))

    paused = scheduler.handle(SchedulerPaused(at=1.0), TaskSucceeded("a", at=2.0))
    again = scheduler.handle(SchedulerPaused(at=3.0))
    resumed = scheduler.handle(SchedulerResumed(at=4.0))

    assert paused[0] == Notify(PauseChanged(4, 1.0, paused=True))
    assert runs(paused) == []
    assert again == []
    assert resumed[0] == Notify(PauseChanged(6, 4.0, paused=False))
    assert runs(resumed) == ["b"]
    assert not scheduler.paused


def test_pruning_forgets_old_finished_tasks_nothing_kept_depends_on() -> None:
    scheduler, _ = started(graph_of(b=["a"], c=["a"]), slots=2)
    scheduler.handle(TaskSucceeded("a", at=1.0))
    scheduler.handle(TaskSucceeded("b", at=2.0))

    first = scheduler.handle(TasksPruned(before=10.0, at=10.0))
    scheduler.handle(TaskSucceeded("c", at=11.0))
    second = scheduler.handle(TasksPruned(before=5.0, at=12.0))
    third = scheduler.handle(TasksPruned(before=20.0, at=20.0))

    assert first == [Notify(TasksRemoved(9, 10.0, ("b",)))]  # a: c runs on it
    assert second == []  # c changed after 5.0, and a stays with it
    assert third == [Notify(TasksRemoved(11, 20.0, ("a", "c")))]
    assert len(scheduler) == 0


def test_pruning_keeps_requirements_of_kept_tasks_and_forgets_retries() -> None:
    scheduler, _ = started(
        TasksDiscovered((spec("a"), spec("b", "a"), spec("lone"))), slots=2
    )
    scheduler.handle(TaskSucceeded("a", at=1.0), TaskFailed("lone", at=1.0))

    actions = scheduler.handle(TasksPruned(before=5.0, at=5.0))

    assert actions == [Notify(TasksRemoved(9, 5.0, ("lone",)))]
    assert "a" in scheduler
    assert scheduler.handle(Tick(10_000.0)) == []  # lone's retry went with it


def test_pruned_task_added_again_starts_afresh() -> None:
    scheduler, _ = started(graph_of(a=[]))
    scheduler.handle(TaskFailed("a", at=1.0), TasksPruned(before=2.0, at=2.0))

    actions = scheduler.handle(TasksDiscovered((spec("a"),), at=3.0))

    assert runs(actions) == ["a"]
    assert scheduler.task_info("a").failures == 0


def test_every_new_move_is_in_transitions() -> None:
    moves = {move.value for _, move in TRANSITIONS}

    assert {
        "handed-back",
        "re-added",
        "found-complete",
        "failures-forgiven",
        "re-enabled",
        "marked-done",
    } <= moves


# --- cancelling a worker's run ----------------------------------------------------------


def test_cancel_request_stops_dispatch_to_the_worker_until_it_stops() -> None:
    scheduler, first = started(graph_of(a=[], b=[], c=[]), slots=2)
    assert runs(first) == ["a", "b"]

    actions = scheduler.handle(RunCancelRequested("w"))

    assert actions == [Notify(RunCancelling(6, 0.0, "w"))]
    assert scheduler.cancel_requested("w")
    assert runs(scheduler.handle(TaskSucceeded("a"))) == []  # c waits: w is cancelling
    assert scheduler.handle(RunCancelRequested("w")) == []  # asked once is enough
    # a pull-mode worker announcing its slots again gets none while cancelling
    assert runs(scheduler.handle(WorkerStarted("w", 3))) == []

    scheduler.handle(TaskHandedBack("b"), WorkerStopped("w"))
    assert not scheduler.cancel_requested("w")
    assert sorted(runs(scheduler.handle(WorkerStarted("v", 2)))) == ["b", "c"]


def test_cancel_request_for_an_unknown_worker_changes_nothing() -> None:
    scheduler, _ = started(graph_of(a=[]))

    assert scheduler.handle(RunCancelRequested("nobody")) == []
    assert not scheduler.cancel_requested("nobody")


def test_cancel_request_survives_a_snapshot() -> None:
    scheduler = Scheduler()
    scheduler.handle(WorkerStarted("w", 1), graph_of(a=[], b=[]))
    scheduler.handle(RunCancelRequested("w"))

    restored = pickle.loads(pickle.dumps(scheduler))

    assert restored.cancel_requested("w")
    assert runs(restored.handle(TaskSucceeded("a"))) == []
