"""What the visualiser's pages read: families, resources, hosts, run search, stats.

The history queries run on a SQLite file and on PostgreSQL (``db_url``); the API
answers come from a real server (host, SQLite file, tornado on a port).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nbflow.core.events import (
    Status,
    TaskAdded,
    TasksDiscovered,
    TaskSpec,
    TaskStatusChanged,
    TaskSucceeded,
    WorkerStarted,
)
from nbflow.core.scheduler import Scheduler
from nbflow.server.history import History, HistoryQueryError, HistoryWriter
from nbflow.server.store import Store
from tests.server.live_server import LiveServer, chain_specs, submit

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from nbflow.core.events import Notification

pytestmark = pytest.mark.server

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'visualiser.db'}").start()
    yield live
    live.stop()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


def _run(
    seq: int, task_id: str, family: str, end: Status, took: float
) -> list[Notification]:
    """One run of ``task_id`` starting at 1000 + seq and lasting ``took`` seconds."""
    start = 1000.0 + seq
    return [
        TaskAdded(seq, start, task_id, family, (("n", task_id),), (), P),
        TaskStatusChanged(seq + 1, start, task_id, R, P, "host-a:1:w"),
        TaskStatusChanged(seq + 2, start + took, task_id, end, R, "host-a:1:w"),
    ]


def _write(store: Store, notifications: list[Notification]) -> None:
    writer = HistoryWriter(store)
    writer.start()
    for notification in notifications:
        assert writer.submit(notification)
    assert writer.flush()
    writer.stop()


# --- history: per family, and runs by a part of the task id ------------------------


def test_history_families_counts_failures_and_durations(store: Store) -> None:
    _write(
        store,
        [
            *_run(1, "Load_1", "Load", D, 2.0),
            *_run(10, "Load_2", "Load", F, 4.0),
            *_run(20, "Load_3", "Load", D, 6.0),
            *_run(30, "Report_1", "Report", D, 1.0),
        ],
    )

    found = History(store).families()

    assert [(s.family, s.runs, s.failed, s.done) for s in found] == [
        ("Load", 3, 1, 2),
        ("Report", 1, 0, 1),
    ]
    assert found[0].mean_duration == pytest.approx(4.0)
    assert found[0].max_duration == pytest.approx(6.0)
    assert found[0].last_started == pytest.approx(1020.0)


def test_history_families_keeps_runs_started_in_the_window(store: Store) -> None:
    _write(store, [*_run(1, "A_1", "A", D, 1.0), *_run(10, "B_1", "B", F, 1.0)])

    found = History(store).families(since=1005.0, until=1100.0)

    assert [(s.family, s.runs, s.failed) for s in found] == [("B", 1, 1)]
    assert History(store).families(since=2000.0) == []
    with pytest.raises(HistoryQueryError, match="limit"):
        History(store).families(limit=0)


def test_history_runs_search_matches_part_of_the_task_id(store: Store) -> None:
    _write(
        store,
        [
            *_run(1, "Load_100%_x", "Load", D, 1.0),
            *_run(10, "Load_1000_y", "Load", D, 1.0),
            *_run(20, "Report_1", "Report", D, 1.0),
        ],
    )

    runs, _cursor = History(store).runs(search="Load_1")
    literal, _cursor = History(store).runs(search="100%")

    assert [run.task_id for run in runs] == ["Load_1000_y", "Load_100%_x"]
    assert [run.task_id for run in literal] == ["Load_100%_x"]  # % is no wildcard


# --- the API -------------------------------------------------------------------------


def test_api_scheduler_lists_families_and_resources(server: LiveServer) -> None:
    specs = (
        TaskSpec("c", "Other", resources=(("db", 1),), priority=10),
        *chain_specs("a", "b"),
    )
    submit(server, "host-b:42:abc", specs)

    state = server.get("/api/v1/scheduler").json()

    assert state["families"] == {"Other": 1, "Step": 2}
    assert state["resources"] == {"db": {"used": 1, "limit": 1}}


def test_scheduler_resource_use_counts_what_runs() -> None:
    scheduler = Scheduler(resources={"db": 2, "gpu": 1})
    scheduler.handle(
        WorkerStarted("w", slots=2),
        TasksDiscovered((TaskSpec("a", "A", resources=(("db", 2),)),)),
    )

    assert scheduler.resource_use() == {"db": (2, 2), "gpu": (0, 1)}


def test_api_workers_name_their_host(server: LiveServer) -> None:
    submit(server, "host-b:42:abc", chain_specs("a"))
    submit(server, "Worker(salt=1, workers=1, host=luigi-box, username=u)", ())
    submit(server, "plain", ())

    workers = server.get("/api/v1/workers").json()["workers"]

    hosts = {worker["worker_id"]: worker["host"] for worker in workers}
    assert hosts == {
        "host-b:42:abc": "host-b",
        "Worker(salt=1, workers=1, host=luigi-box, username=u)": "luigi-box",
        "plain": None,
    }


def test_api_tasks_sort_by_when_they_changed(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b", "c"))
    server.call("w1", [TaskSucceeded("a")])  # later: a is done, b runs

    oldest_first = server.get("/api/v1/tasks?sort=changed").json()["tasks"]
    newest_first = server.get("/api/v1/tasks?sort=-changed").json()["tasks"]

    assert [task["task_id"] for task in oldest_first] == ["c", "a", "b"]
    assert [task["task_id"] for task in newest_first] == ["b", "a", "c"]


def test_api_history_families_and_run_search(server: LiveServer) -> None:
    server.call("w1", [WorkerStarted("w1", slots=1), TasksDiscovered(chain_specs("a"))])
    assert server.writer.flush()

    stats = server.get("/api/v1/history/families?since=0").json()
    runs = server.get("/api/v1/history/runs?search=a").json()
    bad = server.get("/api/v1/history/families?since=soon")

    assert stats["families"][0]["family"] == "Step"
    assert stats["families"][0]["runs"] == 1
    assert [run["task_id"] for run in runs["runs"]] == ["a"]
    assert bad.status == 400
