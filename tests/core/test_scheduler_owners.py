"""Worker eligibility: owners, assistants, and what each worker is given.

A task added by ``TasksDiscovered(worker_id=w)`` is owned by ``w``; it runs only on an
owner or an assistant. Tasks added without a worker id (the embedded case) run
anywhere; the tests of that case are in test_scheduler.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.core.events import (
    Action,
    DependenciesAdded,
    RunTask,
    SchedulerPaused,
    SchedulerResumed,
    Status,
    TasksDiscovered,
    TaskSucceeded,
    WorkerStarted,
    WorkerStopped,
)
from tests.builders import spec
from tests.hosted import make_scheduler

if TYPE_CHECKING:
    from nbflow.core.scheduler import Scheduler


def placed(actions: list[Action]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return (task id, worker id, batch) of every RunTask."""
    return [
        (a.task_id, a.worker_id, a.batch) for a in actions if isinstance(a, RunTask)
    ]


def two_workers(*, assistant: bool = False) -> Scheduler:
    """Return a scheduler with workers "a" (maybe an assistant) and "b", 1 slot each."""
    scheduler: Scheduler = make_scheduler()
    scheduler.handle(WorkerStarted("a", 1, assistant=assistant), WorkerStarted("b", 1))
    return scheduler


def test_owned_task_runs_on_its_owner_not_on_the_first_free_worker() -> None:
    scheduler = two_workers()

    actions = scheduler.handle(TasksDiscovered((spec("x"),), worker_id="b"))

    assert placed(actions) == [("x", "b", ())]
    assert scheduler.task_info("x").owners == ("b",)


def test_owned_task_waits_for_its_busy_owner_while_others_idle() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("x"), spec("y")), worker_id="b"))

    assert scheduler.status("y") is Status.PENDING
    assert not scheduler.has_work_for("a")
    assert placed(scheduler.handle(TaskSucceeded("x"))) == [("y", "b", ())]


def test_assistant_runs_tasks_it_does_not_own() -> None:
    scheduler = two_workers(assistant=True)

    actions = scheduler.handle(TasksDiscovered((spec("x"), spec("y")), worker_id="b"))

    assert sorted(placed(actions)) == [("x", "a", ()), ("y", "b", ())]


def test_assistant_never_takes_a_private_task_its_owner_will_run() -> None:
    scheduler = two_workers(assistant=True)

    actions = scheduler.handle(
        TasksDiscovered(
            (spec("x", private=True), spec("y", private=True)), worker_id="b"
        )
    )

    assert placed(actions) == [("x", "b", ())]
    assert not scheduler.has_work_for("a")
    assert placed(scheduler.handle(TaskSucceeded("x"))) == [("y", "b", ())]


def test_assistant_batches_no_private_member() -> None:
    scheduler = two_workers(assistant=True)
    batched = {"batch_key": "Day", "max_batch_size": 10}
    scheduler.handle(WorkerStarted("b", 0))  # the owner is busy elsewhere

    actions = scheduler.handle(
        TasksDiscovered(
            (spec("d0", **batched), spec("d1", private=True, **batched)),
            worker_id="b",
        )
    )

    assert placed(actions) == [("d0", "a", ())]
    assert scheduler.status("d1") is Status.PENDING


def test_task_without_owner_runs_on_any_free_worker() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("x"),), worker_id="b"))

    actions = scheduler.handle(TasksDiscovered((spec("free"),)))

    assert placed(actions) == [("free", "a", ())]


def test_readding_from_another_worker_makes_it_an_owner_that_may_run_it() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("x"), spec("y")), worker_id="b"))

    actions = scheduler.handle(TasksDiscovered((spec("y"),), worker_id="a"))

    assert placed(actions) == [("y", "a", ())]
    assert scheduler.task_info("y").owners == ("a", "b")


def test_incomplete_external_task_gives_no_ownership_until_someone_can_run_it() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("x", runnable=False),), worker_id="a"))
    assert scheduler.task_info("x").owners == ()

    actions = scheduler.handle(TasksDiscovered((spec("x"),), worker_id="b"))

    assert placed(actions) == [("x", "b", ())]
    assert scheduler.task_info("x").owners == ("b",)


def test_batch_holds_only_members_its_worker_may_run() -> None:
    scheduler = two_workers()
    batched = {"batch_key": "Day", "max_batch_size": 10}

    actions = scheduler.handle(
        TasksDiscovered((spec("d0", **batched), spec("d1", **batched)), worker_id="a"),
        TasksDiscovered((spec("d2", **batched), spec("d3", **batched)), worker_id="b"),
    )

    assert placed(actions) == [
        ("d0", "a", ("d0", "d1")),
        ("d2", "b", ("d2", "d3")),
    ]


def test_worker_takes_higher_priority_first_across_its_queues() -> None:
    scheduler = make_scheduler()
    scheduler.handle(
        TasksDiscovered((spec("mine"),), worker_id="w"),
        TasksDiscovered((spec("anyone", priority=5), spec("later"))),
    )

    actions = scheduler.handle(WorkerStarted("w", 3))

    assert placed(actions) == [
        ("anyone", "w", ()),
        ("mine", "w", ()),
        ("later", "w", ()),
    ]


def test_requirements_yielded_by_an_owned_task_belong_to_its_worker() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("parent"),), worker_id="b"))

    actions = scheduler.handle(
        DependenciesAdded("parent", ("child",), (spec("child"),))
    )

    assert placed(actions) == [("child", "b", ())]
    assert scheduler.task_info("child").owners == ("b",)


def test_task_of_a_stopped_owner_waits_for_an_assistant() -> None:
    scheduler = two_workers()
    scheduler.handle(TasksDiscovered((spec("x"), spec("y")), worker_id="b"))
    scheduler.handle(WorkerStopped("b"))
    assert scheduler.status("x") is Status.FAILED
    assert scheduler.status("y") is Status.PENDING

    actions = scheduler.handle(WorkerStarted("helper", 1, assistant=True))

    assert placed(actions) == [("y", "helper", ())]


def test_worker_started_again_changes_its_role() -> None:
    scheduler = make_scheduler()
    scheduler.handle(WorkerStarted("a", 1, assistant=True), WorkerStarted("a", 1))

    actions = scheduler.handle(TasksDiscovered((spec("x"),), worker_id="b"))

    assert placed(actions) == []


def test_pull_mode_worker_gets_one_task_per_call() -> None:
    scheduler = make_scheduler()
    scheduler.handle(TasksDiscovered((spec("x"), spec("y")), worker_id="p"))

    first = scheduler.handle(WorkerStarted("p", 1))
    second = scheduler.handle(WorkerStarted("p", 2))

    assert placed(first) == [("x", "p", ())]
    assert placed(second) == [("y", "p", ())]


def test_has_work_for_running_ready_or_owned_pending_work() -> None:
    scheduler = two_workers()
    scheduler.handle(
        TasksDiscovered((spec("x"), spec("y", "x")), worker_id="b"),
        TasksDiscovered((spec("z", "x"),), worker_id="a"),
    )
    assert scheduler.has_work_for("b")  # runs x
    assert scheduler.has_work_for("a")  # owns z, which waits for x running on b
    assert not scheduler.has_work_for("stranger")

    scheduler.handle(SchedulerPaused(), TaskSucceeded("x"))

    assert scheduler.has_work_for("a")  # z is ready; paused, it is not dispatched
    assert not scheduler.has_work_for("stranger")
    assert placed(scheduler.handle(SchedulerResumed())) == [
        ("z", "a", ()),  # free workers take in the order they became free
        ("y", "b", ()),
    ]
    scheduler.handle(TaskSucceeded("y"), TaskSucceeded("z"))
    assert not scheduler.has_work_for("a")
    assert not scheduler.has_work_for("b")
