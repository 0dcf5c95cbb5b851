"""Task history: every run of every task, derived from the scheduler's notifications.

:class:`HistoryWriter` takes notifications from the host thread without ever blocking
it and writes them to the history tables (:mod:`nbflow.server.store`) in batches from a
thread of its own. :class:`History` (from :mod:`nbflow.server.history_query`, re-exported
here) answers the API's queries with keyset paging.

Theory of operation
-------------------
- A *run* of a task opens when the task turns RUNNING (or BATCH_RUNNING) and ends with
  the next status it takes (DONE, FAILED, PENDING when handed back, ...). Status
  messages, progress and tracking URLs update the open run; every status of the run is
  a row of ``nbflow_task_run_state``. Status changes outside a run (PENDING ->
  UPSTREAM_FAILED, ...) are the scheduler's state, not history.
- Only the writer thread touches ``_open`` (task id -> its open run), ``_graphs`` and the
  task cache; ``submit`` (any thread) only puts on a bounded queue. When the queue is
  full the notification is dropped and counted, and the writer says so in the log: the
  scheduler never waits for history. A run whose end was dropped is closed as ``LOST``
  when the task next starts.
- Each batch commits together with the seq of its last notification
  (``nbflow_history_mark``), and the writer starts by reading it back, with the runs
  still open. Replaying the log after a restart regenerates the same notifications
  with the same seqs: a host that submits them again loses nothing the writer had not
  written before a crash (for the events after the latest snapshot), and those at or
  below the mark are skipped, so nothing is written twice.
- A database error (locked, connection lost) is logged and the same batch retried with
  backoff, while new notifications queue (and, if it lasts, overflow).

Imports: nbflow.core.events, nbflow.server.store, nbflow.server.history_query, SQLAlchemy.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.server.history_query import (
    GraphRun,
    History,
    HistoryQueryError,
    StateChange,
    TaskRun,
    digest,
)
from nbflow.server.store import (
    graph_runs_table,
    history_mark_table,
    run_states_table,
    task_params_table,
    task_runs_table,
    tasks_table,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nbflow.core.events import Notification
    from nbflow.server.store import Store

__all__ = [
    "LOST",
    "GraphRun",
    "History",
    "HistoryQueryError",
    "HistoryWriter",
    "StateChange",
    "TaskRun",
]

logger = logging.getLogger(__name__)

#: The status of a run whose end the writer never saw (its notification was dropped).
LOST = "LOST"
_RUNNING = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
_RECORDED = (
    TaskAdded,
    TaskStatusChanged,
    TaskMessage,
    TaskProgressed,
    TaskTrackingUrl,
    RunStarted,
    RunFinished,
)
#: Seconds between two "dropped" warnings.
_DROP_LOG_INTERVAL = 10.0
#: Entries of the task cache before it is emptied (the database has them all).
_TASK_CACHE_SIZE = 200_000
#: Task ids per ``IN (...)`` lookup.
_LOOKUP_CHUNK = 500


# --- The writer's bookkeeping ----------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """A task run the writer is following (mutable; the writer thread only)."""

    id: int
    task_id: str
    worker_id: str | None
    host: str | None
    started: float
    status: str
    #: None until known: looked up in nbflow_task when the batch is written.
    family: str | None = None
    params: str | None = None
    ended: float | None = None
    error: str = ""
    traceback: str = ""
    message: str = ""
    tracking_url: str = ""
    progress: float | None = None
    stored: bool = False

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "worker_id": self.worker_id,
            "host": self.host,
            "started": self.started,
            "status": self.status,
            "family": self.family,
            "params": self.params,
            "ended": self.ended,
            "error": self.error,
            "traceback": self.traceback,
            "message": self.message,
            "tracking_url": self.tracking_url,
            "progress": self.progress,
        }


@dataclass(slots=True)
class _Graph:
    """A graph run the writer is following."""

    id: int
    run_id: str
    roots: str = "[]"
    total: int = 0
    started: float | None = None
    ended: float | None = None
    state: str | None = None
    counts: str | None = None
    stored: bool = False

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "roots": self.roots,
            "total": self.total,
            "started": self.started,
            "ended": self.ended,
            "state": self.state,
            "counts": self.counts,
        }


@dataclass
class _Batch:
    """The rows one batch of notifications becomes."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    runs: dict[int, _Run] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    graphs: dict[int, _Graph] = field(default_factory=dict)
    seq: int = 0

    def state(self, run: _Run, status: str, at: float) -> None:
        self.runs[run.id] = run
        self.states.append({"run_id": run.id, "status": status, "at": at})


# --- The writer -------------------------------------------------------------------------------


class HistoryWriter:
    """Write notifications to the history tables in batches, from a thread of its own.

    Parameters
    ----------
    store
        The server's store (its history tables).
    capacity
        Notifications the queue holds; more are dropped (and logged), never waited for.
    batch_size
        Most notifications written in one transaction.
    interval
        Seconds to gather notifications before writing them (unless a batch is full,
        or :meth:`flush` or :meth:`stop` is waiting). Few, large transactions leave
        the database's write lock to the scheduler's event log: with SQLite, writing
        each notification at once doubled the scheduler's commit time (measured).
    """

    def __init__(
        self,
        store: Store,
        *,
        capacity: int = 100_000,
        batch_size: int = 500,
        interval: float = 0.25,
    ) -> None:
        self._store = store
        self._queue: queue.Queue[tuple[Notification, str | None]] = queue.Queue(
            capacity
        )
        self._capacity, self._batch_size = capacity, batch_size
        self._thread = threading.Thread(
            target=self._loop, name="nbflow-history", daemon=True
        )
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._accepted = self._done = self._dropped = 0
        self._last_drop_log = float("-inf")
        self._behind = False
        #: seconds to gather notifications before a write (flush and stop cut it short)
        self._interval = interval
        self._hurry = threading.Event()
        self._last_write = float("-inf")
        #: the history's mark, read once when a restore replays notifications
        self._replay_mark: int | None = None
        # Writer thread only:
        self._mark = 0
        self._next_run = self._next_graph = 1
        self._open: dict[str, _Run] = {}
        self._graphs: dict[str, _Graph] = {}
        self._tasks: dict[str, tuple[str, str]] = {}

    # --- Any thread ---------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Notifications dropped because the queue was full."""
        return self._dropped

    @property
    def queued(self) -> int:
        """Notifications waiting to be written."""
        return self._queue.qsize()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def submit(
        self, notification: Notification, *, worker_host: str | None = None
    ) -> bool:
        """Queue ``notification`` for writing; never block. Return False if dropped.

        ``worker_host`` is the host name of the worker a status change is about.
        Notifications history does not record (task output) are ignored (True).
        """
        if not isinstance(notification, _RECORDED):
            return True
        try:
            self._queue.put_nowait((notification, worker_host))
        except queue.Full:
            self._dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log >= _DROP_LOG_INTERVAL:
                self._last_drop_log = now
                logger.warning(
                    "task history is %d notifications behind the scheduler: dropping "
                    "notifications (%d so far); the runs they concern may be incomplete",
                    self._capacity,
                    self._dropped,
                )
            return False
        with self._progress:
            self._accepted += 1
        return True

    def on_notification(self, notification: Notification) -> None:
        """Listen to a scheduler (the Listener protocol): :meth:`submit` it."""
        self.submit(notification, worker_host=_host_of(notification))

    def on_replayed(self, notification: Notification) -> None:
        """Take a notification the scheduler made again while restoring after a restart.

        Those the history already holds (at or below its mark) are skipped here, on the
        caller's thread, so a replay of a long log queues only what a crash kept from
        being written.
        """
        if self._replay_mark is None:
            with self._store.engine.connect() as connection:
                mark = connection.scalar(sa.select(history_mark_table.c.seq))
            self._replay_mark = mark or 0
        if notification.seq > self._replay_mark:
            self.on_notification(notification)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written; False on timeout."""
        with self._progress:
            target = self._accepted
            self._hurry.set()
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Write what is queued (waiting up to ``timeout`` s), then end the thread."""
        self._stopping.set()
        self._hurry.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- The writer thread ----------------------------------------------------------------

    def _loop(self) -> None:
        if not self._retrying("load the task history", self._load):
            return
        while True:
            items = self._take()
            if items is None:
                return
            if items:
                self._write(items)
                self._last_write = time.monotonic()
            if self._queue.empty():
                self._hurry.clear()
            with self._progress:
                self._done += len(items)
                self._progress.notify_all()

    def _take(self) -> list[tuple[Notification, str | None]] | None:
        try:
            items = [self._queue.get(timeout=0.1)]
        except queue.Empty:
            return None if self._stopping.is_set() else []
        # Gather for a while before writing: few, large transactions keep the
        # database's write lock (and the interpreter) free for the scheduler's log.
        pause = self._last_write + self._interval - time.monotonic()
        if pause > 0 and self._queue.qsize() < self._batch_size:
            self._hurry.wait(pause)
        while len(items) < self._batch_size:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._report_lag()
        return items

    def _report_lag(self) -> None:
        waiting = self._queue.qsize()
        if not self._behind and waiting > self._capacity // 2:
            self._behind = True
            logger.warning(
                "task history is falling behind the scheduler: %d notifications queued "
                "(capacity %d); the database is slow",
                waiting,
                self._capacity,
            )
        elif self._behind and waiting == 0:
            self._behind = False
            logger.info(
                "task history caught up (%d notifications dropped)", self._dropped
            )

    def _retrying(self, what: str, work: Callable[[], object]) -> bool:
        """Call ``work()`` until it succeeds; False if the writer stops meanwhile."""
        delay = 0.05
        while True:
            try:
                work()
            except sa.exc.OperationalError as exc:
                if self._stopping.is_set() and delay >= 1.0:
                    logger.exception("task history: could not %s before stopping", what)
                    return False
                logger.warning("task history: could not %s (%s); retrying", what, exc)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                return True

    def _load(self) -> None:
        runs, graphs = task_runs_table.c, graph_runs_table.c
        with self._store.engine.connect() as connection:
            self._mark = connection.scalar(sa.select(history_mark_table.c.seq)) or 0
            self._next_run = (connection.scalar(sa.func.max(runs.id).select()) or 0) + 1
            self._next_graph = (
                connection.scalar(sa.func.max(graphs.id).select()) or 0
            ) + 1
            open_runs = connection.execute(
                sa.select(task_runs_table).where(runs.ended.is_(None))
            )
            for row in open_runs:
                self._open[row.task_id] = _Run(**row._asdict(), stored=True)
            open_graphs = connection.execute(
                sa.select(graph_runs_table).where(graphs.ended.is_(None))
            )
            for row in open_graphs:
                self._graphs[row.run_id] = _Graph(**row._asdict(), stored=True)

    def _write(self, items: Iterable[tuple[Notification, str | None]]) -> None:
        batch = _Batch(seq=self._mark)
        for notification, host in items:
            if notification.seq > self._mark:
                self._apply(notification, host, batch)
                batch.seq = max(batch.seq, notification.seq)
        if batch.seq == self._mark:
            return
        try:
            written = self._retrying("write a batch", lambda: self._commit(batch))
        except sa.exc.SQLAlchemyError:
            logger.exception("task history: dropped a batch after an unexpected error")
            return
        if written:
            self._mark = batch.seq
            for run in batch.runs.values():
                run.stored = True
            for graph in batch.graphs.values():
                graph.stored = True

    def _apply(
        self, notification: Notification, host: str | None, batch: _Batch
    ) -> None:
        if isinstance(notification, TaskStatusChanged):
            self._on_status(notification, host, batch)
        elif isinstance(notification, TaskAdded):
            self._on_added(notification, batch)
        elif isinstance(notification, (TaskMessage, TaskProgressed, TaskTrackingUrl)):
            self._on_detail(notification, batch)
        elif isinstance(notification, RunStarted):
            graph = self._graph(notification.run_id, batch)
            graph.roots, graph.total = (
                json.dumps(notification.roots),
                notification.total,
            )
            graph.started = notification.at
        elif isinstance(notification, RunFinished):
            graph = self._graph(notification.run_id, batch)
            graph.ended, graph.state = notification.at, notification.state
            graph.counts = json.dumps(dict(notification.counts))
            self._graphs.pop(notification.run_id, None)

    def _on_added(self, added: TaskAdded, batch: _Batch) -> None:
        if added.task_id in self._tasks:
            return
        if len(self._tasks) >= _TASK_CACHE_SIZE:
            self._tasks.clear()
        params = json.dumps(dict(added.params))
        self._tasks[added.task_id] = (added.family, params)
        batch.tasks[added.task_id] = {
            "task_id": added.task_id,
            "family": added.family,
            "params": params,
            "first_seen": added.at,
        }
        batch.params[added.task_id] = [
            {
                "task_id": added.task_id,
                "name": name,
                "digest": digest(value),
                "value": value,
            }
            for name, value in dict(added.params).items()
        ]

    def _on_status(
        self, changed: TaskStatusChanged, host: str | None, batch: _Batch
    ) -> None:
        run = self._open.get(changed.task_id)
        if changed.status in _RUNNING:
            if run is not None and changed.previous in _RUNNING:
                run.status = changed.status
                batch.state(run, changed.status, changed.at)
                return
            if run is not None:  # how it ended was dropped
                self._end(run, LOST, changed.at, batch)
            known = self._tasks.get(changed.task_id, (None, None))
            run = _Run(
                self._next_run, changed.task_id, changed.worker_id, host, changed.at,
                changed.status, *known,
            )  # fmt: skip
            self._next_run += 1
            self._open[changed.task_id] = run
            batch.state(run, changed.status, changed.at)
        elif run is not None:
            run.error = changed.error
            run.traceback = changed.full_traceback or changed.traceback
            self._end(run, changed.status, changed.at, batch)

    def _end(self, run: _Run, status: str, at: float, batch: _Batch) -> None:
        run.status, run.ended = status, at
        batch.state(run, status, at)
        del self._open[run.task_id]

    def _on_detail(
        self, detail: TaskMessage | TaskProgressed | TaskTrackingUrl, batch: _Batch
    ) -> None:
        run = self._open.get(detail.task_id)
        if run is None:
            return
        if isinstance(detail, TaskMessage):
            run.message = detail.message
        elif isinstance(detail, TaskProgressed):
            run.progress = detail.percentage
        else:
            run.tracking_url = detail.url
        batch.runs[run.id] = run

    def _graph(self, run_id: str, batch: _Batch) -> _Graph:
        graph = self._graphs.get(run_id)
        if graph is None:
            graph = self._graphs[run_id] = _Graph(self._next_graph, run_id)
            self._next_graph += 1
        batch.graphs[graph.id] = graph
        return graph

    # --- One transaction per batch ------------------------------------------------------------

    def _commit(self, batch: _Batch) -> None:
        with self._store.write() as connection:
            self._insert_tasks(connection, batch)
            self._fill_task_details(connection, batch)
            _upsert(connection, task_runs_table, batch.runs.values())
            if batch.states:
                connection.execute(run_states_table.insert(), batch.states)
            _upsert(connection, graph_runs_table, batch.graphs.values())
            connection.execute(history_mark_table.update().values(seq=batch.seq))

    def _insert_tasks(self, connection: sa.Connection, batch: _Batch) -> None:
        new = set(batch.tasks)
        for chunk in _chunks(sorted(new)):
            known = tasks_table.c.task_id.in_(chunk)
            new -= set(
                connection.scalars(sa.select(tasks_table.c.task_id).where(known))
            )
        if not new:
            return
        connection.execute(tasks_table.insert(), [batch.tasks[task] for task in new])
        params = [param for task in new for param in batch.params[task]]
        if params:
            connection.execute(task_params_table.insert(), params)

    def _fill_task_details(self, connection: sa.Connection, batch: _Batch) -> None:
        """Find the family and parameters of runs of tasks added before a restart."""
        unknown = {run.task_id for run in batch.runs.values() if run.family is None}
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(unknown)):
            query = sa.select(
                tasks_table.c.task_id, tasks_table.c.family, tasks_table.c.params
            )
            for task_id, family, params in connection.execute(
                query.where(tasks_table.c.task_id.in_(chunk))
            ):
                found[task_id] = (family, params)
        for run in batch.runs.values():
            if run.family is None:
                run.family, run.params = found.get(run.task_id, ("", "{}"))
                self._tasks.setdefault(run.task_id, (run.family, run.params))


def _upsert(
    connection: sa.Connection, table: sa.Table, records: Iterable[_Run | _Graph]
) -> None:
    """Insert the records not stored yet and update the others, a statement each."""
    records = list(records)
    new = [record.row() for record in records if not record.stored]
    changed = [record.row() for record in records if record.stored]
    if new:
        connection.execute(table.insert(), new)
    if changed:
        columns: dict[str, sa.BindParameter[Any]] = {
            name: sa.bindparam(f"new_{name}") for name in changed[0] if name != "id"
        }
        update = (
            table.update().where(table.c.id == sa.bindparam("old_id")).values(columns)
        )
        connection.execute(
            update,
            [
                {"old_id": row["id"], **{f"new_{k}": v for k, v in row.items()}}
                for row in changed
            ],
        )


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _LOOKUP_CHUNK):
        yield items[start : start + _LOOKUP_CHUNK]


def _host_of(notification: Notification) -> str | None:
    """Return the host of the worker a status change names (nbflow's ids: host:pid:...)."""
    worker_id = getattr(notification, "worker_id", None)
    if not worker_id or ":" not in worker_id:
        return None
    return str(worker_id).split(":", 1)[0]
