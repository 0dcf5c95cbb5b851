"""The scheduler's O(1) queries: counts by family and status, dependents, depths."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from nbflow.core.events import (
    RetryPolicy,
    RunTask,
    Status,
    TaskFailed,
    TasksDiscovered,
    TasksPruned,
    TaskSucceeded,
    WorkerStarted,
)
from tests.builders import spec
from tests.hosted import make_scheduler


def recount(scheduler) -> dict:
    return dict(Counter((info.family, info.status) for info in scheduler.tasks()))


def test_scheduler_counts_follow_every_move_and_prune() -> None:
    scheduler = make_scheduler()
    no_retry = RetryPolicy(retry_count=1)
    specs = (spec("a"), spec("b", "a"), spec("c", retry=no_retry), spec("d", "c"))
    scheduler.handle(WorkerStarted("w", 2), TasksDiscovered(specs))
    assert scheduler.counts() == recount(scheduler)

    scheduler.handle(TaskSucceeded("a", at=1.0), TaskFailed("c", "boom", at=1.0))
    scheduler.handle(TaskSucceeded("b", at=2.0))
    assert scheduler.counts() == recount(scheduler)
    assert scheduler.counts()[("B", Status.DONE)] == 1

    scheduler.handle(TasksPruned(before=5.0, at=6.0))

    assert scheduler.counts() == recount(scheduler)
    assert ("A", Status.DONE) not in scheduler.counts()


def test_scheduler_dependents_and_queue_depths() -> None:
    scheduler = make_scheduler()
    specs = (spec("a"), spec("b", "a"), spec("c", "a"), spec("x"))

    scheduler.handle(WorkerStarted("w", 1), TasksDiscovered(specs))

    assert sorted(scheduler.dependents("a")) == ["b", "c"]
    assert scheduler.dependents("b") == ()
    assert scheduler.running_count == 1
    assert scheduler.ready_count == 1  # a or x waits for the one slot


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=10), st.data())
def test_scheduler_counts_equal_a_recount_on_random_runs(deps, data) -> None:
    scheduler = make_scheduler()
    specs = [spec(f"t{i}", *([f"t{d}"] if d < i else [])) for i, d in enumerate(deps)]
    actions = scheduler.handle(WorkerStarted("w", 2), TasksDiscovered(tuple(specs)))
    running = [a.task_id for a in actions if isinstance(a, RunTask)]
    while running:
        task_id = running.pop(0)
        fail = data.draw(st.booleans())
        event = TaskFailed(task_id, "x") if fail else TaskSucceeded(task_id)
        actions = scheduler.handle(event)
        running += [a.task_id for a in actions if isinstance(a, RunTask)]
        assert scheduler.counts() == recount(scheduler)


def test_scheduler_nodes_now_is_a_copy_in_discovery_order() -> None:
    scheduler = make_scheduler()
    scheduler.handle(TasksDiscovered((spec("b"), spec("a"))))

    nodes = scheduler.nodes_now()
    scheduler.handle(TasksDiscovered((spec("c"),)))

    assert [node.id for node in nodes] == ["b", "a"]
