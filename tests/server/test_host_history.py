"""The host and the task history together: a restart fills in what a crash lost."""

from __future__ import annotations

import pytest

from nbflow.core.events import TasksDiscovered, TaskSpec, TaskSucceeded, WorkerStarted
from nbflow.server.history import HistoryWriter
from nbflow.server.history_query import History
from nbflow.server.host import SchedulerHost
from nbflow.server.store import Store

pytestmark = pytest.mark.server


def test_restart_writes_the_runs_a_crash_kept_from_the_history(db_url: str) -> None:
    url = db_url
    store = Store.open(url)
    first = SchedulerHost(store)  # no history writer: as if it died before writing
    first.start()
    specs = (TaskSpec("a", "Fam", params=(("day", "1"),)), TaskSpec("b", "Fam"))
    first.call("w1", [WorkerStarted("w1", 2), TasksDiscovered(specs)])
    first.call("w1", [TaskSucceeded("a"), TaskSucceeded("b")])
    first._thread = None  # a crash: no snapshot
    first._queue.put(None)
    store.close()

    store = Store.open(url)
    writer = HistoryWriter(store)
    second = SchedulerHost(store)
    second.subscribe(writer.on_notification, replayed=writer.on_replayed)
    writer.start()
    second.start()
    try:
        assert writer.flush(timeout=30)
        runs, _ = History(store).runs(family="Fam")
    finally:
        second.stop()
        writer.stop()
        store.close()

    assert sorted((run.task_id, run.status) for run in runs) == [
        ("a", "DONE"),
        ("b", "DONE"),
    ]


def test_restart_does_not_write_runs_twice(db_url: str) -> None:
    url = db_url
    for _life in range(2):
        store = Store.open(url)
        writer = HistoryWriter(store)
        host = SchedulerHost(store)
        host.subscribe(writer.on_notification, replayed=writer.on_replayed)
        writer.start()
        host.start()
        if _life == 0:
            host.call(
                "w1",
                [WorkerStarted("w1", 1), TasksDiscovered((TaskSpec("a", "Once"),))],
            )
            host.call("w1", [TaskSucceeded("a")])
        assert writer.flush(timeout=30)
        runs, _ = History(store).runs(family="Once")
        host.stop()
        writer.stop()
        store.close()

    assert len(runs) == 1


def test_restart_brings_back_the_same_scheduler_and_a_run_goes_on(db_url: str) -> None:
    specs = tuple(
        TaskSpec(f"t{i}", "Chain", deps=(f"t{i - 1}",) if i else ()) for i in range(5)
    )
    store = Store.open(db_url)
    first = SchedulerHost(store, snapshot_every=3)
    first.start()
    first.call("w1", [WorkerStarted("w1", 1), TasksDiscovered(specs)])
    first.call("w1", [TaskSucceeded("t0")])
    first.call("w1", [TaskSucceeded("t1")])
    before = first.read(lambda s: [(i.task_id, i.status) for i in s.tasks()])
    first.stop(
        snapshot=False
    )  # as after kill -9: whatever snapshot there is, plus the log
    store.close()

    store = Store.open(db_url)
    second = SchedulerHost(store)
    second.start()
    try:
        after = second.read(lambda s: [(i.task_id, i.status) for i in s.tasks()])
        reply = second.call("w1", [TaskSucceeded("t2")], running=["t2"])
    finally:
        second.stop()
        store.close()

    assert after == before
    assert [run.task_id for run in reply.actions] == ["t3"]
