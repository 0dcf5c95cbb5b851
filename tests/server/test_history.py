"""Task history on real SQLite files and a real PostgreSQL: the writer and the queries."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskOutput,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.server.history import (
    LOST,
    History,
    HistoryQueryError,
    HistoryWriter,
    StateChange,
)
from nbflow.server.store import Store, create_engine, to_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.core.events import Notification

P, R, B, D, F = (
    Status.PENDING,
    Status.RUNNING,
    Status.BATCH_RUNNING,
    Status.DONE,
    Status.FAILED,
)


class Feed:
    """Notifications with increasing seq and time, as a scheduler makes them."""

    def __init__(self, start: int = 0) -> None:
        self.seq = start

    def _next(self) -> tuple[int, float]:
        self.seq += 1
        return self.seq, 1000.0 + self.seq

    def added(self, task_id: str, family: str = "Fam", **params: str) -> TaskAdded:
        return TaskAdded(*self._next(), task_id, family, tuple(params.items()), (), P)

    def status(
        self, task_id: str, status: Status, previous: Status, **extra: str
    ) -> TaskStatusChanged:
        return TaskStatusChanged(
            *self._next(), task_id, status, previous, extra.get("worker_id", "w1"),
            extra.get("error", ""), extra.get("traceback", ""),
        )  # fmt: skip

    def message(self, task_id: str, text: str) -> TaskMessage:
        return TaskMessage(*self._next(), task_id, text)

    def progress(self, task_id: str, percentage: float) -> TaskProgressed:
        return TaskProgressed(*self._next(), task_id, percentage)

    def tracking(self, task_id: str, url: str) -> TaskTrackingUrl:
        return TaskTrackingUrl(*self._next(), task_id, url)

    def run_started(self, run_id: str, *roots: str) -> RunStarted:
        return RunStarted(*self._next(), run_id, roots, 3)

    def run_finished(self, run_id: str) -> RunFinished:
        return RunFinished(*self._next(), run_id, "done", (("DONE", 3),))

    def one_run(
        self, task_id: str, end: Status = D, **params: str
    ) -> list[Notification]:
        return [
            self.added(task_id, **params),
            self.status(task_id, R, P),
            self.status(task_id, end, R),
        ]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


def write(store: Store, notifications: list[Notification], **options: int) -> None:
    """Run a writer over ``notifications`` until they are written."""
    writer = HistoryWriter(store, **options)
    writer.start()
    for notification in notifications:
        assert writer.submit(notification, worker_host="host-a")
    assert writer.flush()
    writer.stop()


def all_runs(store: Store, **filters: object) -> list[tuple[str, str]]:
    runs, cursor = History(store).runs(limit=1_000, **filters)  # type: ignore[arg-type]
    assert cursor is None
    return [(run.task_id, run.status) for run in runs]


# --- The writer -----------------------------------------------------------------------


def test_history_records_a_run_with_its_details_and_states(store: Store) -> None:
    feed = Feed()
    notifications = [
        feed.added("T1", "Clean", day="2024-01-31", n="3"),
        feed.status("T1", R, P, worker_id="worker-7"),
        feed.message("T1", "half way"),
        feed.progress("T1", 50.0),
        feed.tracking("T1", "http://tracker/1"),
        feed.message("T1", "nearly"),
        feed.status("T1", F, R, error="ValueError: boom", traceback="Traceback..."),
    ]

    write(store, notifications)

    (run,), cursor = History(store).runs()
    assert cursor is None
    assert (run.task_id, run.family, run.params) == (
        "T1",
        "Clean",
        {"day": "2024-01-31", "n": "3"},
    )
    assert (run.worker_id, run.host, run.status) == ("worker-7", "host-a", "FAILED")
    assert (run.started, run.ended) == (1002.0, 1007.0)
    assert (run.error, run.traceback) == ("ValueError: boom", "Traceback...")
    assert (run.message, run.progress, run.tracking_url) == (
        "nearly",
        50.0,
        "http://tracker/1",
    )
    detailed = History(store).run(run.id)
    assert detailed is not None
    assert detailed.states == (
        StateChange("RUNNING", 1002.0),
        StateChange("FAILED", 1007.0),
    )
    assert detailed.to_json()["states"] == [
        {"status": "RUNNING", "at": 1002.0},
        {"status": "FAILED", "at": 1007.0},
    ]
    assert History(store).run(run.id + 1) is None


def test_history_keeps_one_row_per_run_and_ignores_changes_outside_runs(
    store: Store,
) -> None:
    feed = Feed()
    notifications = [
        feed.added("T1"),
        feed.added("T2"),
        feed.status("T2", Status.UPSTREAM_FAILED, P),  # not a run
        feed.message("T2", "ignored: not running"),
        feed.status("T1", R, P),
        feed.status("T1", F, R),
        feed.status("T1", P, F),  # retried later
        feed.status("T1", B, P),
        feed.status("T1", R, B),  # the batch becomes a single run: same run
        feed.status("T1", D, R),
        TaskOutput(feed.seq, 0.0, "T1", ("printed",)),  # not history
    ]

    write(store, notifications)

    assert all_runs(store) == [("T1", "DONE"), ("T1", "FAILED")]
    newest = History(store).runs()[0][0]
    assert [state.status for state in History(store).run(newest.id).states] == [  # type: ignore[union-attr]
        "BATCH_RUNNING",
        "RUNNING",
        "DONE",
    ]


def test_history_closes_a_run_whose_end_it_never_saw_as_lost(store: Store) -> None:
    feed = Feed()
    started = [feed.added("T1"), feed.status("T1", R, P)]
    feed.status("T1", P, R)  # dropped: never submitted
    again = [feed.status("T1", R, P), feed.status("T1", D, R)]

    write(store, started + again)

    assert all_runs(store) == [("T1", "DONE"), ("T1", LOST)]


def test_history_records_graph_runs(store: Store) -> None:
    feed = Feed()
    notifications = [
        feed.run_started("run-1", "A", "B"),
        feed.run_started("run-2", "C"),
    ]
    notifications.append(feed.run_finished("run-1"))

    write(store, notifications)

    runs, cursor = History(store).graph_runs()
    assert cursor is None
    assert [(r.run_id, r.roots, r.state, r.counts) for r in runs] == [
        ("run-2", ("C",), None, {}),
        ("run-1", ("A", "B"), "done", {"DONE": 3}),
    ]
    assert runs[1].to_json()["started"] == 1001.0


def test_history_writes_in_batches_of_at_most_batch_size(store: Store) -> None:
    feed = Feed()
    notifications = [feed.run_started(f"run-{n}") for n in range(500)]
    commits: list[int] = []
    sa.event.listen(store.engine, "commit", lambda _connection: commits.append(1))
    writer = HistoryWriter(store, batch_size=50)
    for notification in notifications:  # all queued before the thread starts
        writer.submit(notification)

    writer.start()
    assert writer.flush()
    writer.stop()

    assert len(commits) == 500 // 50
    assert len(History(store).graph_runs(limit=1_000)[0]) == 500


def test_history_after_a_restart_skips_what_it_wrote_and_finishes_open_runs(
    store: Store,
) -> None:
    feed = Feed()
    before = [*feed.one_run("T1"), feed.added("T2"), feed.status("T2", R, P)]
    after = [
        feed.message("T2", "resumed"),
        feed.status("T2", D, R),
        *feed.one_run("T3"),
    ]
    write(store, before)

    write(store, before + after)  # the host replays the log: the same seqs again

    assert all_runs(store) == [("T3", "DONE"), ("T2", "DONE"), ("T1", "DONE")]
    run = History(store).runs(task_id="T2")[0][0]
    assert (run.family, run.message, run.host) == ("Fam", "resumed", "host-a")


@contextlib.contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection (a slow database)."""
    parsed = to_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(parsed.database), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql(
                "LOCK TABLE nbflow_history_mark IN ACCESS EXCLUSIVE MODE"
            )
            yield
    finally:
        engine.dispose()


def test_history_submit_never_blocks_on_a_locked_database(
    store: Store, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    feed = Feed()
    notifications = [feed.run_started(f"run-{n}") for n in range(1_000)]
    writer = HistoryWriter(store, capacity=100, batch_size=10)
    writer.start()

    with write_lock_held(db_url), caplog.at_level(logging.WARNING):
        accepted = [writer.submit(notification) for notification in notifications]
        assert writer.dropped == accepted.count(False)
        assert writer.dropped >= 1_000 - 100 - 10  # the queue and one batch in flight

    assert writer.flush()
    writer.stop()
    assert "task history is 100 notifications behind the scheduler" in caplog.text
    written = {run.run_id for run in History(store).graph_runs(limit=1_000)[0]}
    assert written == {n.run_id for n, ok in zip(notifications, accepted) if ok}


# --- Queries --------------------------------------------------------------------------


def test_history_runs_filter_by_task_family_params_and_time(store: Store) -> None:
    feed = Feed()
    long_value = "x" * 5_000  # longer than an index row may be
    notifications = [
        *feed.one_run("A1", day="1", mode="fast"),
        *feed.one_run("B1", day="1", mode=long_value),
        *feed.one_run("A2", day="2", mode="fast"),
    ]
    notifications[3] = feed.added("B1", "Other", day="1", mode=long_value)
    write(store, notifications)

    assert all_runs(store, task_id="A2") == [("A2", "DONE")]
    assert all_runs(store, family="Other") == [("B1", "DONE")]
    assert all_runs(store, params={"day": "1"}) == [("B1", "DONE"), ("A1", "DONE")]
    assert all_runs(store, params={"day": "1", "mode": "fast"}) == [("A1", "DONE")]
    assert all_runs(store, params={"mode": long_value}) == [("B1", "DONE")]
    assert all_runs(store, params={"day": "3"}) == []
    assert all_runs(store, since=1005.0) == [("A2", "DONE"), ("B1", "DONE")]
    assert all_runs(store, since=1005.0, until=1008.0) == [("B1", "DONE")]
    assert all_runs(store, family="Fam", since=1005.0) == [("A2", "DONE")]


def test_history_runs_pages_through_every_run_once(store: Store) -> None:
    feed = Feed()
    notifications = [n for k in range(250) for n in feed.one_run(f"T{k:03}")]
    write(store, notifications)
    history = History(store)

    pages, cursor = [], None
    while True:
        runs, cursor = history.runs(limit=100, cursor=cursor)
        pages.append([run.task_id for run in runs])
        if cursor is None:
            break
        write(store, feed.one_run("NEW"))  # new runs never shift the pages

    assert [len(page) for page in pages] == [100, 100, 50]
    assert [task for page in pages for task in page] == [
        f"T{k:03}" for k in range(249, -1, -1)
    ]


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"cursor": "abc"}, "invalid cursor (got 'abc'). Expected the next_cursor"),
        ({"cursor": "0"}, "invalid cursor (got '0')"),
        ({"limit": 0}, "invalid limit (got 0). Expected a number from 1 to 1000"),
        ({"limit": 1_001}, "invalid limit (got 1001)"),
    ],
)
def test_history_runs_refuses_bad_paging(
    store: Store, options: dict[str, object], text: str
) -> None:
    with pytest.raises(HistoryQueryError) as refused:
        History(store).runs(**options)  # type: ignore[arg-type]

    assert text in str(refused.value)
    assert "Fix: pass a valid" in str(refused.value)
    with pytest.raises(HistoryQueryError):
        History(store).graph_runs(**options)  # type: ignore[arg-type]


def test_history_retries_a_batch_the_database_refused(
    sqlite_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    impatient = f"{sqlite_db_url}?timeout=0.01"  # "database is locked" at once
    store = Store.open(impatient)
    feed = Feed()
    writer = HistoryWriter(store)
    writer.start()

    with write_lock_held(impatient), caplog.at_level(logging.WARNING):
        writer.submit(feed.run_started("run-1"))
        assert not writer.flush(timeout=0.5)  # bounded wait: it cannot write yet

    assert writer.flush()
    writer.stop()
    assert "task history: could not write a batch (" in caplog.text
    assert "database is locked" in caplog.text
    assert [run.run_id for run in History(store).graph_runs()[0]] == ["run-1"]
    store.close()
