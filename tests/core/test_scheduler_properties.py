"""Hypothesis properties of the pure scheduler on random graphs.

Running tasks finish in an order Hypothesis draws (not only first-in first-out), so
the properties hold whatever order a pool of workers reports in. With random owners
and assistants, every task also runs only on a worker allowed to run it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nbflow.core.events import (
    Action,
    RunTask,
    SchedulerEvent,
    Status,
    TaskFailed,
    TasksDiscovered,
    TaskStatusChanged,
    TaskSucceeded,
    WorkerStarted,
)
from nbflow.core.scheduler import TRANSITIONS, Scheduler
from tests.builders import graph_of, spec, started

Edges = dict[str, list[str]]


@st.composite
def random_dags(draw: st.DrawFn) -> Edges:
    size = draw(st.integers(min_value=1, max_value=25))
    edges: Edges = {}
    for i in range(size):
        earlier = [f"n{j}" for j in range(i)]
        deps = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=4))
            if earlier
            else []
        )
        edges[f"n{i}"] = deps
    return edges


class Drive:
    """Finish running tasks in a drawn order, recording what the scheduler did."""

    def __init__(self, scheduler: Scheduler, edges: Edges) -> None:
        self.scheduler, self.edges = scheduler, edges
        #: Task ids in the order RunTask asked for them.
        self.started: list[str] = []
        #: (task id, requirements not yet succeeded) for every RunTask.
        self.early: list[tuple[str, set[str]]] = []
        self.succeeded: set[str] = set()
        self.moves: list[tuple[Status, Status]] = []
        #: (task id, worker id) for every task a RunTask started, batch members too.
        self.placed: list[tuple[str, str]] = []

    def run(self, first: list[Action], fail: set[str], data: st.DataObject) -> None:
        running = self._record(first)
        while running:
            index = data.draw(st.integers(0, len(running) - 1), label="finishes next")
            task_id = running.pop(index)
            if task_id in fail:
                event: TaskFailed | TaskSucceeded = TaskFailed(task_id)
            else:
                event = TaskSucceeded(task_id)
                self.succeeded.add(task_id)
            running += self._record(self.scheduler.handle(event))

    def _record(self, actions: list[Action]) -> list[str]:
        new = []
        for action in actions:
            if isinstance(action, RunTask):
                new.append(action.task_id)
                for member in action.batch or (action.task_id,):
                    self.placed.append((member, action.worker_id))
                missing = set(self.edges[action.task_id]) - self.succeeded
                self.early.append((action.task_id, missing))
            elif isinstance(action.notification, TaskStatusChanged):
                change = action.notification
                self.moves.append((change.previous, change.status))
        self.started += new
        return new


def _descendants(edges: Edges, roots: set[str]) -> set[str]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for task_id, deps in edges.items():
            if task_id not in found and (roots | found) & set(deps):
                found.add(task_id)
                changed = True
    return found


def _assert_legal(drive: Drive) -> None:
    assert [(t, m) for t, m in drive.early if m] == []
    assert len(drive.started) == len(set(drive.started))
    allowed = {(before, after) for (before, _), after in TRANSITIONS.items()}
    assert set(drive.moves) <= allowed


@given(random_dags(), st.integers(min_value=1, max_value=4), st.data())
@settings(max_examples=60, deadline=None)
def test_scheduler_on_random_dags_runs_each_task_once_after_its_deps(
    edges: Edges, slots: int, data: st.DataObject
) -> None:
    scheduler, actions = started(graph_of(**edges), slots=slots)
    drive = Drive(scheduler, edges)

    drive.run(actions, fail=set(), data=data)

    _assert_legal(drive)
    assert sorted(drive.started) == sorted(edges)
    assert {scheduler.status(task_id) for task_id in edges} == {Status.DONE}
    assert not scheduler.has_work()


@given(random_dags(), st.integers(min_value=1, max_value=4), st.data())
@settings(max_examples=60, deadline=None)
def test_scheduler_failure_blocks_exactly_its_descendants(
    edges: Edges, slots: int, data: st.DataObject
) -> None:
    failing = data.draw(
        st.sets(st.sampled_from(sorted(edges)), min_size=1, max_size=3), label="fail"
    )
    scheduler, actions = started(graph_of(**edges), slots=slots)
    drive = Drive(scheduler, edges)

    drive.run(actions, fail=failing, data=data)

    _assert_legal(drive)
    blocked = _descendants(edges, failing)
    assert set(drive.started) == set(edges) - blocked
    expected = {
        task_id: Status.UPSTREAM_FAILED
        if task_id in blocked
        else Status.FAILED
        if task_id in failing
        else Status.DONE
        for task_id in edges
    }
    assert {task_id: scheduler.status(task_id) for task_id in edges} == expected
    assert not scheduler.has_work()


WORKERS = ("w0", "w1", "w2")


@st.composite
def owned_setups(draw: st.DrawFn) -> tuple[Edges, dict[str, set[str]], set[str]]:
    """Return a random DAG, each task's owners (maybe none) and the assistants."""
    edges = draw(random_dags())
    owners = {
        task_id: draw(st.sets(st.sampled_from(WORKERS)), label=f"owners of {task_id}")
        for task_id in edges
    }
    assistants = draw(st.sets(st.sampled_from(WORKERS), max_size=1), label="assistants")
    return edges, owners, assistants


def _discovery(edges: Edges, owners: dict[str, set[str]]) -> list[SchedulerEvent]:
    """Add each task from every owner in turn (re-adds make the later ones owners)."""
    events: list[SchedulerEvent] = []
    for task_id, deps in edges.items():  # requirements come first
        events.extend(
            TasksDiscovered((spec(task_id, *deps),), worker_id=worker_id)
            for worker_id in sorted(owners[task_id]) or [""]
        )
    return events


@given(owned_setups(), st.integers(min_value=1, max_value=3), st.data())
@settings(max_examples=60, deadline=None)
def test_scheduler_with_owners_runs_each_task_once_on_an_allowed_worker(
    setup: tuple[Edges, dict[str, set[str]], set[str]], slots: int, data: st.DataObject
) -> None:
    edges, owners, assistants = setup
    scheduler = Scheduler()
    workers = [
        WorkerStarted(worker_id, slots, assistant=worker_id in assistants)
        for worker_id in WORKERS
    ]
    first = scheduler.handle(*workers, *_discovery(edges, owners))
    drive = Drive(scheduler, edges)

    drive.run(first, fail=set(), data=data)

    _assert_legal(drive)
    assert sorted(drive.started) == sorted(edges)
    for task_id, worker_id in drive.placed:
        allowed = owners[task_id] or set(WORKERS)
        assert worker_id in allowed | assistants, (task_id, worker_id)
    assert {scheduler.status(task_id) for task_id in edges} == {Status.DONE}
    assert not any(scheduler.has_work_for(worker_id) for worker_id in WORKERS)
