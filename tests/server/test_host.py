"""The scheduler host: calls applied, logged before answered, routed, restored."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from nbflow.core import wire
from nbflow.core.events import (
    RunTask,
    Status,
    TaskAdded,
    TaskFailed,
    TasksDiscovered,
    TaskSpec,
    TaskStatusChanged,
    TaskSucceeded,
    Tick,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.server.host import (
    EventRejectedError,
    HostStoppedError,
    MemoryEventLog,
    SchedulerHost,
)

pytestmark = pytest.mark.server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def logged(log: MemoryEventLog) -> list[dict]:
    """Every event in the log, its groups (one per call) flattened."""
    return [event for group in log.events for event in group["events"]]


def chain(*ids: str) -> TasksDiscovered:
    specs = [TaskSpec(ids[0], "Fam")]
    specs += [TaskSpec(b, "Fam", deps=(a,)) for a, b in itertools.pairwise(ids)]
    return TasksDiscovered(tuple(specs))


@pytest.fixture
def log() -> MemoryEventLog:
    return MemoryEventLog()


@pytest.fixture
def host(log: MemoryEventLog):
    host = SchedulerHost(log)
    host.start()
    yield host
    host.stop()


def test_host_call_returns_the_workers_run_and_logs_before_answering(host, log) -> None:
    reply = host.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])

    assert reply.actions == (RunTask("a", "w1"),)
    assert reply.has_work
    kinds = [event["type"] for event in logged(log)]
    assert kinds == ["WorkerStarted", "TasksDiscovered"]


def test_host_stamps_events_with_its_own_clock_and_the_callers_id(log) -> None:
    clock = FakeClock()
    host = SchedulerHost(log, clock=clock)
    host.start()
    try:
        host.call("w1", [WorkerStarted("w1", 1, at=5.0), chain("a")])
    finally:
        host.stop()

    events = [wire.from_json(event) for event in logged(log)]
    assert [event.at for event in events] == [1000.0, 1000.0]
    assert events[1].worker_id == "w1"


def test_host_routes_a_run_made_by_one_workers_call_to_the_other_worker(host) -> None:
    host.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])
    host.call("w2", [WorkerStarted("w2", 1), chain("a", "b")])

    reply = host.call("w1", [TaskSucceeded("a")])
    other = host.call("w2", [])

    assert len(reply.actions) + len(other.actions) == 1
    (run,) = reply.actions + other.actions
    assert run.task_id == "b"


def test_host_long_poll_returns_as_soon_as_work_arrives(host) -> None:
    host.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])
    host.call("w2", [WorkerStarted("w2", 1), chain("a", "b")])
    got: list[tuple[RunTask, ...]] = []
    poller = threading.Thread(
        target=lambda: got.append(host.call("w2", [], wait=20).actions)
    )
    poller.start()
    time.sleep(0.2)
    host.call("w1", [WorkerStarted("w1", 0), TaskSucceeded("a")])
    poller.join(timeout=10)

    assert got == [(RunTask("b", "w2"),)]


def test_host_drops_reports_about_tasks_the_worker_does_not_run(host) -> None:
    host.call("w1", [WorkerStarted("w1", 1), chain("a")])

    reply = host.call("w2", [WorkerStarted("w2", 1), TaskSucceeded("a")])

    assert reply.dropped == ("a",)
    assert host.read(lambda s: s.status("a")) is Status.RUNNING


def test_host_rejects_unknown_tasks_and_dependencies_and_applies_nothing(
    host, log
) -> None:
    host.call("w1", [WorkerStarted("w1", 1)])
    before = len(log.events)

    with pytest.raises(EventRejectedError, match="earlier one"):
        host.call("w1", [TasksDiscovered((TaskSpec("b", "F", deps=("zz",)),))])
    with pytest.raises(EventRejectedError, match="add the task"):
        host.call("w1", [TaskFailed("nope", error="x")])
    with pytest.raises(EventRejectedError, match="its own id"):
        host.call("w1", [WorkerStarted("someone-else", 1)])

    assert len(log.events) == before


def test_host_ignores_clients_ticks(host, log) -> None:
    host.call("w1", [WorkerStarted("w1", 1), Tick(99999999.0)])

    assert [event["type"] for event in logged(log)] == ["WorkerStarted"]


def test_host_fails_the_tasks_of_a_silent_worker(log) -> None:
    clock = FakeClock()
    host = SchedulerHost(log, clock=clock, worker_disconnect_delay=5)
    host.start()
    try:
        host.call("w1", [WorkerStarted("w1", 1), chain("a")])
        clock.now += 10
        deadline = time.monotonic() + 10
        while host.read(lambda s: s.status("a")) is Status.RUNNING:
            assert time.monotonic() < deadline, "the silent worker was not noticed"
            time.sleep(0.1)
        info = host.read(lambda s: s.task_info("a"))
    finally:
        host.stop()

    assert info.status is Status.FAILED
    assert "worker stopped" in info.error
    assert any(event["type"] == "WorkerStopped" for event in logged(log))


def test_host_restores_the_same_state_from_the_log_alone(log) -> None:
    first = SchedulerHost(log)
    first.start()
    first.call("w1", [WorkerStarted("w1", 2), chain("a", "b", "c")])
    first.call("w1", [TaskSucceeded("a")])
    before = first.read(lambda s: [(i.task_id, i.status) for i in s.tasks()])
    seq = first.feed.last
    first._thread = None  # a crash: no snapshot, no clean stop
    first._queue.put(None)

    second = SchedulerHost(log)
    second.start()
    try:
        after = second.read(lambda s: [(i.task_id, i.status) for i in s.tasks()])
        reply = second.call("w1", [], running=["b"], since=seq)
    finally:
        second.stop()

    assert after == before
    assert second.feed.last == seq
    assert reply.actions == ()
    assert reply.notifications == ()


def test_host_hands_back_tasks_a_worker_no_longer_runs_after_a_restart(log) -> None:
    first = SchedulerHost(log)
    first.start()
    first.call("w1", [WorkerStarted("w1", 2), chain("a"), chain("x")])
    first.stop()

    second = SchedulerHost(log)
    second.start()
    try:
        reply = second.call("w1", [], running=["a"], since=0)
        statuses = second.read(lambda s: {i.task_id: i.status for i in s.tasks()})
    finally:
        second.stop()

    assert statuses["a"] is Status.RUNNING
    # x was handed back, and dispatched again to the worker's free slot
    assert reply.actions == (RunTask("x", "w1"),)
    changes = [n for n in reply.notifications if isinstance(n, TaskStatusChanged)]
    assert [(n.task_id, n.status) for n in changes][-2:] == [
        ("x", Status.PENDING),
        ("x", Status.RUNNING),
    ]


def test_host_restores_from_a_snapshot_and_the_events_after_it(log) -> None:
    first = SchedulerHost(log, snapshot_every=2)
    first.start()
    first.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])
    first.call("w1", [TaskSucceeded("a")])
    first.call("w1", [TaskSucceeded("b")])
    first._thread = None
    first._queue.put(None)

    second = SchedulerHost(log)
    second.start()
    try:
        statuses = second.read(lambda s: [i.status for i in s.tasks()])
    finally:
        second.stop()

    assert log.snapshots
    assert second.stats.restored_events < len(log.events)
    assert statuses == [Status.DONE, Status.DONE]


def test_host_stops_answering_when_its_store_fails() -> None:
    class BrokenLog(MemoryEventLog):
        def append(self, events):
            raise OSError("disk full")

    host = SchedulerHost(BrokenLog())
    host.start()

    with pytest.raises(HostStoppedError, match="disk full"):
        host.call("w1", [WorkerStarted("w1", 1)])
    with pytest.raises(HostStoppedError, match="Fix: start it again"):
        host.call("w1", [])
    assert not host.running


def test_host_first_call_after_a_restart_reporting_a_finished_task_keeps_it(
    log,
) -> None:
    first = SchedulerHost(log)
    first.start()
    first.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])
    first.stop()

    second = SchedulerHost(log)
    second.start()
    try:
        reply = second.call("w1", [TaskSucceeded("a")], running=[])
        status = second.read(lambda s: s.status("a"))
    finally:
        second.stop()

    assert reply.dropped == ()
    assert status is Status.DONE
    assert reply.actions == (RunTask("b", "w1"),)


def test_host_tells_a_worker_adding_known_tasks_how_the_scheduler_has_them(
    host,
) -> None:
    host.call("w1", [WorkerStarted("w1", 1), chain("a", "b")])

    reply = host.call("w2", [chain("a", "b")], since=host.feed.last)

    added = {
        n.task_id: n.status for n in reply.notifications if isinstance(n, TaskAdded)
    }
    assert added == {"a": Status.RUNNING, "b": Status.PENDING}


def test_host_prunes_finished_tasks_after_the_remove_delay(log) -> None:
    clock = FakeClock()
    host = SchedulerHost(log, clock=clock, remove_delay=600)
    host.start()
    try:
        host.call("w1", [WorkerStarted("w1", 1), chain("a"), chain("x", "y")])
        host.call("w1", [TaskSucceeded("a")])  # x runs next; y waits for it
        clock.now += 700
        deadline = time.monotonic() + 10
        while host.read(lambda s: "a" in s):
            assert time.monotonic() < deadline, "a was not pruned"
            time.sleep(0.1)
        left = host.read(lambda s: sorted(i.task_id for i in s.tasks()))
    finally:
        host.stop()

    assert left == ["x", "y"]


def test_host_hands_back_a_task_given_to_a_worker_as_it_stops(host) -> None:
    # w2 owns "b" too, and its last answer said it had nothing to do; "b" becomes
    # ready and is handed to w2 just as w2 decides to stop: it never started it
    host.call("w1", [WorkerStarted("w1", 1), chain("a", "b")], running=[])
    host.call("w2", [WorkerStarted("w2", 1), chain("a", "b")], running=[])
    w1_turn = host.call("w1", [TaskSucceeded("a")], running=["a"])
    given_to = "w1" if w1_turn.actions else "w2"
    assert host.read(lambda s: s.status("b")) is Status.RUNNING

    host.call(given_to, [WorkerStopped(given_to)], running=[])

    info = host.read(lambda s: s.task_info("b"))
    # not FAILED "worker stopped": back to pending, and at once given to the other
    assert (info.status, info.worker_id) == (
        Status.RUNNING, "w2" if given_to == "w1" else "w1"
    )  # fmt: skip
    assert info.failures == 0


def test_host_still_fails_a_task_a_stopping_worker_says_it_runs(host) -> None:
    host.call("w1", [WorkerStarted("w1", 1), chain("a")], running=[])

    host.call("w1", [WorkerStopped("w1")], running=["a"])

    info = host.read(lambda s: s.task_info("a"))
    assert info.status is Status.FAILED
    assert "worker stopped" in info.error
