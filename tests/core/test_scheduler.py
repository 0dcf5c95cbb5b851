from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbflow.core.errors import (
    InvalidTransitionError,
    UnknownEventError,
    UnknownTaskIdError,
)
from nbflow.core.events import (
    DependenciesAdded,
    Notify,
    ProgressReported,
    ResourcesDecreased,
    RetryPolicy,
    RunTask,
    Status,
    StatusMessageSet,
    TaskAdded,
    TaskFailed,
    TasksDiscovered,
    TaskSucceeded,
    Tick,
    TrackingUrlSet,
    WorkerStopped,
)
from nbflow.core.scheduler import TRANSITIONS, Scheduler
from nbflow.core.scheduler_node import Move
from tests.builders import changes, graph_of, runs, spec, started


def test_scheduler_runs_leaves_first_then_dependents() -> None:
    scheduler, actions = started(graph_of(b=["a"], c=["a"], d=["b", "c"]), slots=2)
    assert runs(actions) == ["a"]

    actions = scheduler.handle(TaskSucceeded("a"))

    assert runs(actions) == ["b", "c"]
    assert scheduler.status("d") is Status.PENDING


def test_scheduler_failure_blocks_dependents_but_not_siblings() -> None:
    scheduler, _ = started(graph_of(b=["a"], c=["a"], d=["b", "c"]), slots=2)
    scheduler.handle(TaskSucceeded("a"))

    actions = scheduler.handle(TaskFailed("b", error="ValueError: boom"))

    assert ("d", "UPSTREAM_FAILED") in changes(actions)
    assert scheduler.status("c") is Status.RUNNING
    assert scheduler.task_info("b").error == "ValueError: boom"


def test_scheduler_respects_slots() -> None:
    scheduler, actions = started(graph_of(r=["a", "b", "c"]), slots=2)
    assert runs(actions) == ["a", "b"]

    assert runs(scheduler.handle(TaskSucceeded("a"))) == ["c"]


def test_scheduler_higher_priority_runs_first_and_propagates_to_deps() -> None:
    discovered = TasksDiscovered(
        (
            spec("low"),
            spec("dep"),
            spec("high", "dep", priority=10),
        )
    )
    scheduler, actions = started(discovered)

    assert runs(actions) == ["dep"]
    assert scheduler.task_info("dep").priority == 10


def test_scheduler_complete_tasks_are_done_and_never_run() -> None:
    discovered = TasksDiscovered((spec("a", complete=True), spec("b", "a")))
    scheduler, actions = started(discovered)

    assert runs(actions) == ["b"]
    assert scheduler.task_info("a").complete_before


def test_scheduler_external_missing_task_blocks_without_running() -> None:
    discovered = TasksDiscovered((spec("ext", runnable=False), spec("b", "ext")))
    scheduler, actions = started(discovered)

    assert runs(actions) == []
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
    assert runs(actions) == ["a", "c"]

    assert runs(scheduler.handle(TaskSucceeded("a"))) == ["b"]


def test_scheduler_unlisted_resource_has_limit_one_as_in_luigi() -> None:
    discovered = TasksDiscovered(
        (
            spec("a", resources=(("gpu", 1),)),
            spec("b", resources=(("gpu", 1),)),
        )
    )
    _, actions = started(discovered, slots=2)

    assert runs(actions) == ["a"]


def test_scheduler_decreased_resources_let_waiting_task_run() -> None:
    discovered = TasksDiscovered(
        (
            spec("a", resources=(("db", 2),)),
            spec("b", resources=(("db", 1),)),
        )
    )
    scheduler, actions = started(discovered, slots=2, resources={"db": 2})
    assert runs(actions) == ["a"]

    actions = scheduler.handle(ResourcesDecreased("a", (("db", 1),)))

    assert runs(actions) == ["b"]


def test_scheduler_disables_after_retry_count_failures() -> None:
    policy = RetryPolicy(retry_count=2, retry_delay=10, disable_window=100)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy), spec("b", "a"))))

    scheduler.handle(TaskFailed("a", at=1.0))
    assert scheduler.status("a") is Status.FAILED
    assert scheduler.status("b") is Status.UPSTREAM_FAILED
    assert scheduler.next_retry_at == 11.0

    assert runs(scheduler.handle(Tick(11.0))) == ["a"]
    assert scheduler.status("b") is Status.PENDING

    scheduler.handle(TaskFailed("a", at=12.0))
    assert scheduler.status("a") is Status.DISABLED
    assert scheduler.status("b") is Status.UPSTREAM_DISABLED
    assert scheduler.next_retry_at is None


def test_scheduler_retry_then_success_unblocks_dependents() -> None:
    policy = RetryPolicy(retry_delay=5)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy), spec("b", "a"))))
    scheduler.handle(TaskFailed("a", at=0.0))
    assert runs(scheduler.handle(Tick(4.0))) == []

    scheduler.handle(Tick(5.0))
    actions = scheduler.handle(TaskSucceeded("a", at=6.0))

    assert runs(actions) == ["b"]
    assert scheduler.task_info("a").failures == 1


def test_scheduler_hard_timeout_disables() -> None:
    policy = RetryPolicy(retry_delay=1, disable_hard_timeout=10)
    scheduler, _ = started(TasksDiscovered((spec("a", retry=policy),)))
    scheduler.handle(TaskFailed("a", at=0.0))
    scheduler.handle(Tick(1.0))

    scheduler.handle(TaskFailed("a", at=11.0))

    assert scheduler.status("a") is Status.DISABLED


def test_scheduler_dynamic_dependencies_suspend_and_resume() -> None:
    scheduler, actions = started(graph_of(a=[]))
    assert runs(actions) == ["a"]

    actions = scheduler.handle(DependenciesAdded("a", ("x",), (spec("x"),)))

    assert runs(actions) == ["x"]
    assert scheduler.status("a") is Status.PENDING
    assert runs(scheduler.handle(TaskSucceeded("x"))) == ["a"]


def test_scheduler_batches_ready_tasks_with_the_same_key() -> None:
    discovered = TasksDiscovered(
        tuple(spec(f"d{i}", batch_key="Day{}", max_batch_size=3) for i in range(4))
    )
    scheduler, actions = started(discovered)

    (run,) = [a for a in actions if isinstance(a, RunTask)]
    assert run.batch == ("d0", "d1", "d2")
    assert scheduler.status("d1") is Status.BATCH_RUNNING

    actions = scheduler.handle(*(TaskSucceeded(m) for m in run.batch))

    assert runs(actions) == ["d3"]


def test_scheduler_runtime_reports_become_notifications() -> None:
    scheduler, _ = started(graph_of(a=[]))

    actions = scheduler.handle(
        ProgressReported("a", 50.0),
        StatusMessageSet("a", "half"),
        TrackingUrlSet("a", "u"),
    )

    kinds = [type(a.notification).__name__ for a in actions if isinstance(a, Notify)]
    assert kinds == ["TaskProgressed", "TaskMessage", "TaskTrackingUrl"]
    info = scheduler.task_info("a")
    assert (info.progress, info.status_message, info.tracking_url) == (
        50.0,
        "half",
        "u",
    )


def test_scheduler_notifications_are_numbered_in_order() -> None:
    scheduler, actions = started(graph_of(b=["a"]))
    actions += scheduler.handle(TaskSucceeded("a"))
    actions += scheduler.handle(TaskSucceeded("b"))

    seqs = [a.notification.seq for a in actions if isinstance(a, Notify)]

    assert seqs == list(range(1, len(seqs) + 1))
    added = [
        a.notification
        for a in actions
        if isinstance(a, Notify) and isinstance(a.notification, TaskAdded)
    ]
    assert [n.task_id for n in added] == ["a", "b"]


def test_scheduler_worker_stopped_fails_its_running_tasks() -> None:
    scheduler, _ = started(graph_of(a=[]))

    scheduler.handle(WorkerStopped("w"))

    assert scheduler.status("a") is Status.FAILED


def test_scheduler_broken_spec_is_failed_and_blocks_dependents() -> None:
    discovered = TasksDiscovered(
        (spec("a", broken="complete() raised"), spec("b", "a"))
    )
    scheduler, actions = started(discovered)

    assert runs(actions) == []
    assert scheduler.status("b") is Status.UPSTREAM_FAILED


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
    scheduler = Scheduler()

    with pytest.raises(UnknownTaskIdError, match="unknown task id 'nope'.*Fix:"):
        scheduler.status("nope")


def test_scheduler_unknown_event_is_a_clear_error() -> None:
    scheduler = Scheduler()

    with pytest.raises(UnknownEventError) as caught:
        scheduler.handle("TaskSucceeded('a')")  # type: ignore[arg-type]

    message = str(caught.value)
    assert message.startswith(
        "Scheduler.handle: not a scheduler event (got \"TaskSucceeded('a')\"). "
    )
    assert "Expected one of WorkerStarted, WorkerStopped, TasksDiscovered" in message
    assert "this is a bug in nbflow. Fix: please report it" in message
    assert pickle.loads(pickle.dumps(caught.value)).known == caught.value.known


def test_transitions_table_only_moves_between_real_statuses() -> None:
    assert all(isinstance(m, Move) for _, m in TRANSITIONS)
    assert set(TRANSITIONS.values()) <= set(Status)


def test_scheduler_deep_chain_failure_needs_no_recursion() -> None:
    depth = 20_000
    specs = [spec("t0")] + [spec(f"t{i}", f"t{i - 1}") for i in range(1, depth)]
    scheduler, _ = started(TasksDiscovered(tuple(specs)))

    scheduler.handle(TaskFailed("t0"))

    assert scheduler.status(f"t{depth - 1}") is Status.UPSTREAM_FAILED


@st.composite
def random_dags(draw: st.DrawFn) -> dict[str, list[str]]:
    size = draw(st.integers(min_value=1, max_value=25))
    edges: dict[str, list[str]] = {}
    for i in range(size):
        earlier = [f"n{j}" for j in range(i)]
        deps = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=4))
            if earlier
            else []
        )
        edges[f"n{i}"] = deps
    return edges


def _drive(scheduler: Scheduler, actions: list, fail: set[str]) -> list[str]:
    order: list[str] = []
    pending = runs(actions)
    while pending:
        task_id = pending.pop(0)
        order.append(task_id)
        event = TaskFailed(task_id) if task_id in fail else TaskSucceeded(task_id)
        pending += runs(scheduler.handle(event))
    return order


@given(random_dags(), st.integers(min_value=1, max_value=4))
@settings(max_examples=60, deadline=None)
def test_scheduler_on_random_dags_runs_each_task_once_after_its_deps(
    edges: dict[str, list[str]], slots: int
) -> None:
    scheduler, actions = started(graph_of(**edges), slots=slots)

    order = _drive(scheduler, actions, fail=set())

    assert sorted(order) == sorted(edges)
    position = {task_id: i for i, task_id in enumerate(order)}
    for task_id, deps in edges.items():
        assert all(position[dep] < position[task_id] for dep in deps)


def _descendants(edges: dict[str, list[str]], root: str) -> set[str]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for task_id, deps in edges.items():
            if task_id not in found and (root in deps or found & set(deps)):
                found.add(task_id)
                changed = True
    return found


@given(random_dags(), st.data())
@settings(max_examples=60, deadline=None)
def test_scheduler_failure_blocks_exactly_its_descendants(
    edges: dict[str, list[str]], data: st.DataObject
) -> None:
    failing = data.draw(st.sampled_from(sorted(edges)))
    scheduler, actions = started(graph_of(**edges), slots=2)

    order = _drive(scheduler, actions, fail={failing})

    blocked = _descendants(edges, failing)
    assert set(order) == set(edges) - blocked
    for task_id in blocked:
        assert scheduler.status(task_id) is Status.UPSTREAM_FAILED
    assert scheduler.status(failing) is Status.FAILED
