"""Unit tests of the pure scheduler: feed events, assert the exact list of actions.

The Hypothesis properties on random graphs are in test_scheduler_properties.py.
"""

from __future__ import annotations

import pickle
from typing import Any, get_args

import pytest

from nbflow.core.errors import (
    InvalidTransitionError,
    UnknownEventError,
    UnknownTaskIdError,
)
from nbflow.core.events import (
    Action,
    DependenciesAdded,
    Notify,
    ProgressReported,
    ResourcesDecreased,
    RetryPolicy,
    RunBegan,
    RunEnded,
    RunFinished,
    RunStarted,
    RunTask,
    SchedulerEvent,
    Status,
    StatusMessageSet,
    TaskAdded,
    TaskFailed,
    TaskMessage,
    TaskProgressed,
    TasksDiscovered,
    TaskStatusChanged,
    TaskSucceeded,
    TaskTrackingUrl,
    Tick,
    TrackingUrlSet,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.scheduler import TRANSITIONS, Scheduler
from tests.builders import graph_of, spec, started
from tests.hosted import make_scheduler

PENDING, RUNNING, DONE = Status.PENDING, Status.RUNNING, Status.DONE
FAILED, DISABLED = Status.FAILED, Status.DISABLED


def added(seq: int, task_id: str, *deps: str, **fields: Any) -> Notify:
    """Return the notification of ``spec(task_id, *deps)`` joining the graph."""
    status = fields.pop("status", PENDING)
    return Notify(
        TaskAdded(seq, 0.0, task_id, task_id.upper(), (), deps, status, **fields)
    )


def moved(
    seq: int, task_id: str, status: Status, previous: Status, **fields: Any
) -> Notify:
    """Return the notification of a status change (``at=`` defaults to 0.0)."""
    at = fields.pop("at", 0.0)
    return Notify(TaskStatusChanged(seq, at, task_id, status, previous, **fields))


def ran(seq: int, task_id: str, at: float = 0.0) -> list[Action]:
    """Return the two actions that start ``task_id`` alone on worker "w"."""
    return [
        moved(seq, task_id, RUNNING, PENDING, worker_id="w", at=at),
        RunTask(task_id, "w"),
    ]


def succeeded(seq: int, task_id: str, at: float = 0.0) -> Notify:
    """Return the notification of ``task_id`` finishing on worker "w"."""
    return moved(seq, task_id, DONE, RUNNING, worker_id="w", at=at)


def test_scheduler_runs_leaves_first_then_dependents() -> None:
    scheduler, actions = started(graph_of(b=["a"], c=["a"], d=["b", "c"]), slots=2)
    assert actions == [
        added(1, "a"),
        added(2, "b", "a"),
        added(3, "c", "a"),
        added(4, "d", "b", "c"),
        *ran(5, "a"),
    ]

    actions = scheduler.handle(TaskSucceeded("a"))

    assert actions == [succeeded(6, "a"), *ran(7, "b"), *ran(8, "c")]
    assert scheduler.status("d") is PENDING


def test_scheduler_failure_blocks_dependents_but_not_siblings() -> None:
    scheduler, _ = started(graph_of(b=["a"], c=["a"], d=["b", "c"]), slots=2)
    scheduler.handle(TaskSucceeded("a"))

    actions = scheduler.handle(TaskFailed("b", error="ValueError: boom"))

    assert actions == [
        moved(9, "b", FAILED, RUNNING, worker_id="w", error="ValueError: boom"),
        moved(10, "d", Status.UPSTREAM_FAILED, PENDING, cause="b"),
    ]
    assert scheduler.status("c") is RUNNING
    assert scheduler.task_info("b").error == "ValueError: boom"


def test_scheduler_respects_slots() -> None:
    scheduler, actions = started(graph_of(r=["a", "b", "c"]), slots=2)
    assert actions[4:] == [*ran(5, "a"), *ran(6, "b")]

    actions = scheduler.handle(TaskSucceeded("a"))

    assert actions == [succeeded(7, "a"), *ran(8, "c")]


def test_scheduler_higher_priority_runs_first_and_propagates_to_deps() -> None:
    discovered = TasksDiscovered(
        (spec("low"), spec("dep"), spec("high", "dep", priority=10))
    )

    scheduler, actions = started(discovered)

    assert actions == [
        added(1, "low"),
        added(2, "dep"),
        added(3, "high", "dep"),
        *ran(4, "dep"),
    ]
    assert scheduler.task_info("dep").priority == 10


def test_scheduler_complete_tasks_are_done_and_never_run() -> None:
    discovered = TasksDiscovered((spec("a", complete=True), spec("b", "a")))

    scheduler, actions = started(discovered)

    assert actions == [
        added(1, "a", status=DONE, complete_before=True),
        added(2, "b", "a"),
        *ran(3, "b"),
    ]
    assert scheduler.task_info("a").complete_before


def test_scheduler_external_missing_task_blocks_without_running() -> None:
    discovered = TasksDiscovered((spec("ext", runnable=False), spec("b", "ext")))

    scheduler, actions = started(discovered)

    assert actions == [added(1, "ext"), added(2, "b", "ext")]
    assert not scheduler.has_work()
    assert scheduler.task_info("b").blocked


def test_scheduler_resources_limit_concurrency() -> None:
    discovered = TasksDiscovered(
        (
            spec("a", resources=(("db", 1),)),
            spec("b", resources=(("db", 1),)),
            spec("c"),
        )
    )
    scheduler, actions = started(discovered, slots=3, resources={"db": 1})
    assert actions[3:] == [*ran(4, "a"), *ran(5, "c")]

    actions = scheduler.handle(TaskSucceeded("a"))

    assert actions == [succeeded(6, "a"), *ran(7, "b")]


def test_scheduler_unlisted_resource_has_limit_one_as_in_luigi() -> None:
    discovered = TasksDiscovered(
        (spec("a", resources=(("gpu", 1),)), spec("b", resources=(("gpu", 1),)))
    )

    _, actions = started(discovered, slots=2)

    assert actions == [added(1, "a"), added(2, "b"), *ran(3, "a")]


def test_scheduler_decreased_resources_let_waiting_task_run() -> None:
    discovered = TasksDiscovered(
        (spec("a", resources=(("db", 2),)), spec("b", resources=(("db", 1),)))
    )
    scheduler, actions = started(discovered, slots=2, resources={"db": 2})
    assert actions[2:] == ran(3, "a")

    actions = scheduler.handle(ResourcesDecreased("a", (("db", 1),)))

    assert actions == ran(4, "b")


def test_scheduler_disables_after_retry_count_failures() -> None:
    policy = RetryPolicy(retry_count=2, retry_delay=10, disable_window=100)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy), spec("b", "a"))))

    assert scheduler.handle(TaskFailed("a", at=1.0)) == [
        moved(4, "a", FAILED, RUNNING, worker_id="w", at=1.0),
        moved(5, "b", Status.UPSTREAM_FAILED, PENDING, cause="a", at=1.0),
    ]
    assert scheduler.next_retry_at == 11.0
    assert scheduler.handle(Tick(11.0)) == [
        moved(6, "a", PENDING, FAILED, at=11.0),
        moved(7, "b", PENDING, Status.UPSTREAM_FAILED, cause="a", at=11.0),
        *ran(8, "a", at=11.0),
    ]
    assert scheduler.handle(TaskFailed("a", at=12.0)) == [
        moved(9, "a", DISABLED, RUNNING, worker_id="w", at=12.0),
        moved(10, "b", Status.UPSTREAM_DISABLED, PENDING, cause="a", at=12.0),
    ]
    assert scheduler.next_retry_at is None


def test_scheduler_retry_then_success_unblocks_dependents() -> None:
    policy = RetryPolicy(retry_delay=5)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy), spec("b", "a"))))
    scheduler.handle(TaskFailed("a", at=0.0))
    assert scheduler.handle(Tick(4.0)) == []
    scheduler.handle(Tick(5.0))

    actions = scheduler.handle(TaskSucceeded("a", at=6.0))

    assert actions == [succeeded(9, "a", at=6.0), *ran(10, "b", at=6.0)]
    assert scheduler.task_info("a").failures == 1


def test_scheduler_hard_timeout_disables() -> None:
    policy = RetryPolicy(retry_delay=1, disable_hard_timeout=10)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy),)))
    scheduler.handle(TaskFailed("a", at=0.0))
    scheduler.handle(Tick(1.0))

    actions = scheduler.handle(TaskFailed("a", at=11.0))

    assert actions == [moved(6, "a", DISABLED, RUNNING, worker_id="w", at=11.0)]


def test_scheduler_dynamic_dependencies_suspend_and_resume() -> None:
    scheduler, actions = started(graph_of(a=[]))
    assert actions == [added(1, "a"), *ran(2, "a")]

    actions = scheduler.handle(DependenciesAdded("a", ("x",), (spec("x"),)))

    assert actions == [added(3, "x"), moved(4, "a", PENDING, RUNNING), *ran(5, "x")]
    assert scheduler.handle(TaskSucceeded("x")) == [succeeded(6, "x"), *ran(7, "a")]


def test_scheduler_batches_ready_tasks_with_the_same_key() -> None:
    discovered = TasksDiscovered(
        tuple(spec(f"d{i}", batch_key="Day{}", max_batch_size=3) for i in range(4))
    )
    batch_running = {"worker_id": "w"}

    scheduler, actions = started(discovered)

    assert actions[4:] == [
        moved(5, "d0", Status.BATCH_RUNNING, PENDING, **batch_running),
        moved(6, "d1", Status.BATCH_RUNNING, PENDING, **batch_running),
        moved(7, "d2", Status.BATCH_RUNNING, PENDING, **batch_running),
        RunTask("d0", "w", ("d0", "d1", "d2")),
    ]
    actions = scheduler.handle(*(TaskSucceeded(m) for m in ("d0", "d1", "d2")))
    assert actions == [
        moved(8, "d0", DONE, Status.BATCH_RUNNING, worker_id="w"),
        moved(9, "d1", DONE, Status.BATCH_RUNNING, worker_id="w"),
        moved(10, "d2", DONE, Status.BATCH_RUNNING, worker_id="w"),
        *ran(11, "d3"),
    ]


def test_scheduler_runtime_reports_become_notifications() -> None:
    scheduler, _ = started(graph_of(a=[]))

    actions = scheduler.handle(
        ProgressReported("a", 50.0, at=1.0),
        StatusMessageSet("a", "half", at=2.0),
        TrackingUrlSet("a", "u", at=3.0),
    )

    assert actions == [
        Notify(TaskProgressed(3, 1.0, "a", 50.0)),
        Notify(TaskMessage(4, 2.0, "a", "half")),
        Notify(TaskTrackingUrl(5, 3.0, "a", "u")),
    ]
    info = scheduler.task_info("a")
    assert (info.progress, info.status_message, info.tracking_url) == (
        50.0,
        "half",
        "u",
    )


def test_scheduler_run_began_and_ended_announce_totals_and_counts() -> None:
    scheduler, _ = started(graph_of(b=["a"]))

    began = scheduler.handle(RunBegan("r1", roots=("b",), at=1.0))
    scheduler.handle(TaskFailed("a", at=2.0))
    ended = scheduler.handle(RunEnded("r1", "failed", at=3.0))

    assert began == [Notify(RunStarted(4, 1.0, "r1", ("b",), 2))]
    assert ended == [
        Notify(
            RunFinished(7, 3.0, "r1", "failed", (("FAILED", 1), ("UPSTREAM_FAILED", 1)))
        )
    ]


def test_scheduler_worker_stopped_fails_its_running_tasks() -> None:
    scheduler, _ = started(graph_of(a=[]))

    actions = scheduler.handle(WorkerStopped("w", at=4.0))

    assert actions == [
        moved(3, "a", FAILED, RUNNING, worker_id="w", error="worker stopped", at=4.0)
    ]


def test_scheduler_broken_spec_is_failed_and_blocks_dependents() -> None:
    discovered = TasksDiscovered(
        (spec("a", broken="complete() raised"), spec("b", "a"))
    )

    scheduler, actions = started(discovered)

    assert actions == [
        added(1, "a"),
        moved(2, "a", FAILED, PENDING, error="complete() raised"),
        moved(3, "b", Status.UPSTREAM_FAILED, PENDING, cause="a"),
        added(4, "b", "a", status=Status.UPSTREAM_FAILED),
    ]
    assert scheduler.story("a") == ("at 0.000: broken -> FAILED",)


def test_scheduler_disabled_spec_behind_a_broken_one_is_disabled() -> None:
    discovered = TasksDiscovered(
        (spec("a", broken="requires() raised"), spec("b", "a", disabled=True))
    )

    scheduler, actions = started(discovered)

    assert actions[3:] == [
        added(4, "b", "a", status=Status.UPSTREAM_FAILED),
        moved(5, "b", DISABLED, Status.UPSTREAM_FAILED, error="disabled"),
    ]
    assert scheduler.story("b")[-1] == "at 0.000: disabled -> DISABLED"


def test_scheduler_complete_disabled_spec_is_done() -> None:
    discovered = TasksDiscovered((spec("a", complete=True, disabled=True),))

    scheduler, actions = started(discovered)

    assert actions == [added(1, "a", status=DONE, complete_before=True)]
    assert scheduler.status("a") is DONE


def test_scheduler_illegal_move_raises_with_story() -> None:
    scheduler, _ = started(graph_of(a=[]))
    scheduler.handle(TaskSucceeded("a"))

    with pytest.raises(InvalidTransitionError) as caught:
        scheduler.handle(TaskSucceeded("a"))

    message = str(caught.value)
    assert "illegal transition from DONE" in message
    assert "dispatch -> RUNNING" in message
    assert "Fix: please report it" in message
    assert pickle.loads(pickle.dumps(caught.value)).task_id == "a"


def test_scheduler_unknown_task_id_is_a_clear_error() -> None:
    scheduler = make_scheduler()

    with pytest.raises(UnknownTaskIdError, match="unknown task id 'nope'.*Fix:"):
        scheduler.status("nope")


def test_scheduler_unknown_event_is_a_clear_error() -> None:
    scheduler = make_scheduler()

    with pytest.raises(UnknownEventError) as caught:
        scheduler.handle("TaskSucceeded('a')")  # type: ignore[arg-type]

    message = str(caught.value)
    assert message.startswith(
        "Scheduler.handle: not a scheduler event (got \"TaskSucceeded('a')\"). "
    )
    assert "Expected one of WorkerStarted, WorkerStopped, TasksDiscovered" in message
    assert "this is a bug in nbflow. Fix: please report it" in message
    assert pickle.loads(pickle.dumps(caught.value)).known == caught.value.known


def test_scheduler_handles_every_scheduler_event_type() -> None:
    assert set(Scheduler._HANDLERS) == set(get_args(SchedulerEvent))


def test_scheduler_notifies_only_status_changes_that_transitions_allows() -> None:
    allowed = {(before, after) for (before, _), after in TRANSITIONS.items()}
    discovered = TasksDiscovered(
        (
            spec("broken", broken="requires() raised"),
            spec("off", disabled=True),
            spec("blocked", "broken"),
            spec("off_and_blocked", "broken", disabled=True),
        )
    )

    _, actions = started(discovered)

    notified = [
        (a.notification.previous, a.notification.status)
        for a in actions
        if isinstance(a, Notify) and isinstance(a.notification, TaskStatusChanged)
    ]
    assert len(notified) == 5
    assert set(notified) <= allowed


def test_scheduler_deep_chain_failure_needs_no_recursion() -> None:
    depth = 20_000
    specs = [spec("t0")] + [spec(f"t{i}", f"t{i - 1}") for i in range(1, depth)]
    scheduler, _ = started(TasksDiscovered(tuple(specs)))

    scheduler.handle(TaskFailed("t0"))

    assert scheduler.status(f"t{depth - 1}") is Status.UPSTREAM_FAILED


def test_scheduler_worker_started_twice_keeps_one_worker() -> None:
    scheduler = make_scheduler()

    actions = scheduler.handle(
        WorkerStarted("w", 1), WorkerStarted("w", 1), graph_of(b=[], a=[])
    )

    assert actions == [added(1, "b"), added(2, "a"), *ran(3, "b")]
