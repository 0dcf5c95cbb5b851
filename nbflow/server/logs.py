"""Task logs: what each run of a task printed and logged, kept with the run.

Workers stream their running tasks' log deltas (:mod:`nbflow.core.capture`) in the
``logs`` field of their calls (``[{task_id, offset, text}]``, ``offset`` = characters the
run wrote before ``text``). :class:`TaskLogs` keeps each run's log in the database
(``nbflow_task_log`` and its chunks, :mod:`nbflow.server.store`), bounded like the
worker's (``[worker] log_max_bytes``, 1 MB): the oldest text is dropped and counted. It
serves ``GET /api/v1/tasks/{task_id}/log`` (the current or last run) and ``GET
/api/v1/history/runs/{run_id}/log``, and feeds the event stream's ``log`` events
(:class:`LogFeed`, read by :mod:`nbflow.server.stream`).

Theory of operation
-------------------
- A run is ``(task_id, started)``: ``started`` is the time of the task's
  ``TaskStatusChanged`` to RUNNING, the same as the history's run row, so the two meet
  without either waiting for the other. A listener on the host thread keeps the
  running tasks' starts in a dict (two dict operations per run: a task that prints
  nothing costs nothing more); the API's handler stamps each delta with its run's
  start and queues it (never blocking), before the call's events are applied, so a
  run's last delta is queued before its end.
- One writer thread takes the queue in batches (every :data:`_INTERVAL` seconds), joins
  each run's deltas into chunks, writes them in one transaction, drops the chunks older
  than the limit (the first kept chunk may begin before the limit: reads cut it), and
  then hands the batch's new text to :class:`LogFeed`. A delta whose run the handler
  did not know (the server restarted since the run began) is matched on the writer
  thread with the scheduler's state.
- Deltas overlapping what is kept are cut; one after a gap (the worker dropped text
  it could not send) drops what was kept before it. The queue holds at most
  :data:`_QUEUE_CHARS` characters: beyond, deltas are dropped and counted, never
  waited for.

Imports: stdlib, SQLAlchemy, tornado (the handlers), nbflow.core, nbflow.server.{handler,
store}.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbflow.core.capture import LOG_MAX_BYTES
from nbflow.core.config import current_settings
from nbflow.core.events import Status, TaskStatusChanged
from nbflow.server import log_store
from nbflow.server.handler import ApiError, JsonHandler
from nbflow.server.log_store import LogBatch, RunLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nbflow.core.events import Notification
    from nbflow.core.scheduler import Scheduler
    from nbflow.server.handler import ServerContext
    from nbflow.server.host import SchedulerHost
    from nbflow.server.store import Store

logger = logging.getLogger(__name__)

_RUNNING = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
#: Seconds the writer gathers deltas before a transaction.
_INTERVAL = 0.25
#: Characters of deltas queued at most; more are dropped (and counted).
_QUEUE_CHARS = 64 * 1024 * 1024
#: Characters per stored chunk at most (so the oldest kept chunk overshoots little).
_CHUNK_CHARS = 64 * 1024
#: Seconds a read waits for its task's queued deltas to be written, at most.
_READ_WAIT = 5.0
#: Log messages the event stream's feed keeps, and their characters.
_FEED_MESSAGES = 10_000
_FEED_CHARS = 8 * 1024 * 1024


# --- The event stream's feed ------------------------------------------------------------


class LogFeed:
    """The newest log messages for the event stream, numbered; bounded, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: collections.deque[tuple[int, str, str]] = collections.deque()
        self._chars = 0
        #: The number of the newest message (0: none yet).
        self.last = 0
        self._listeners: tuple[Callable[[], None], ...] = ()

    def extend(self, messages: Iterable[tuple[str, str]]) -> None:
        """Add ``(task_id, JSON)`` messages; wake the listeners."""
        with self._lock:
            for task_id, data in messages:
                self.last += 1
                self._messages.append((self.last, task_id, data))
                self._chars += len(data)
            while self._messages and (
                len(self._messages) > _FEED_MESSAGES or self._chars > _FEED_CHARS
            ):
                self._chars -= len(self._messages.popleft()[2])
        for listener in self._listeners:
            listener()

    def since(self, number: int, limit: int) -> list[tuple[int, str, str]]:
        """Return up to ``limit`` messages after ``number``: ``(number, task_id, JSON)``."""
        with self._lock:
            if not self._messages or number >= self.last:
                return []
            skip = max(0, number - self._messages[0][0] + 1)
            end = min(len(self._messages), skip + limit)
            return [self._messages[index] for index in range(skip, end)]

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (from the writer's thread) when messages arrive."""
        self._listeners = (*self._listeners, listener)

        def stop() -> None:
            self._listeners = tuple(x for x in self._listeners if x is not listener)

        return stop


# --- The writer's bookkeeping ----------------------------------------------------------


@dataclass(slots=True)
class _Running:
    """A run the host thread saw start (the handler marks it when a delta arrives)."""

    started: float
    worker_id: str | None
    logged: bool = False


# --- The keeper ---------------------------------------------------------------------------


class TaskLogs:
    """Keep the runs' logs in the database; answer reads; feed the event stream.

    Parameters
    ----------
    store
        The server's store (its task log tables).
    host
        The started scheduler host (its notifications tell when runs begin and end).
    max_bytes
        Bytes of each run's log kept (the newest).
    """

    def __init__(
        self, store: Store, host: SchedulerHost, *, max_bytes: int = LOG_MAX_BYTES
    ) -> None:
        self.store, self.host = store, host
        self.max_bytes = max(0, max_bytes)
        self.feed = LogFeed()
        #: Deltas dropped because the queue was full.
        self.dropped = 0
        self._running: dict[str, _Running] = {}
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._queued_chars = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._thread = threading.Thread(
            target=self._loop, name="nbflow-task-logs", daemon=True
        )
        self._progress = threading.Condition()
        self._accepted = self._done = 0
        #: task id -> its deltas queued and not yet written (reads wait for them)
        self._unwritten: dict[str, int] = {}
        # the writer thread only:
        self._open: dict[tuple[str, float], RunLog] = {}
        self._next_id = 1

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Follow the host's runs and start the writer thread."""
        self._unsubscribe = self.host.subscribe(self._on_notification)
        for task_id, started, worker_id in self.host.read(_running_now):
            self._running.setdefault(task_id, _Running(started, worker_id))
        self._load()
        self._thread.start()

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop following the host; write what is queued, then end the thread."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        with self._progress:
            target = self._accepted
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    # --- the host thread ----------------------------------------------------------------

    def _on_notification(self, note: Notification) -> None:
        if type(note) is not TaskStatusChanged:
            return
        if note.status in _RUNNING:
            if note.previous not in _RUNNING:
                self._running[note.task_id] = _Running(note.at, note.worker_id)
        elif note.previous in _RUNNING:
            run = self._running.pop(note.task_id, None)
            if run is not None and run.logged:
                self._put(("end", note.task_id, run.started, note.at), 0)

    # --- any thread ---------------------------------------------------------------------

    def receive(self, worker_id: str, deltas: Iterable[tuple[str, int, str]]) -> None:
        """Queue a worker's log deltas ``(task_id, offset, text)``; never block."""
        for task_id, offset, text in deltas:
            if not text:
                continue
            run = self._running.get(task_id)
            started = None
            if run is not None:
                if run.worker_id and run.worker_id != worker_id:
                    continue  # a late delta from a worker that no longer runs it
                run.logged = True
                started = run.started
            with self._progress:
                self._unwritten[task_id] = self._unwritten.get(task_id, 0) + 1
            self._put(("delta", task_id, started, worker_id, offset, text), len(text))

    def _put(self, item: tuple[Any, ...], chars: int) -> None:
        with self._progress:
            full = self._queued_chars + chars > _QUEUE_CHARS
            if not full:
                self._queued_chars += chars
                self._accepted += 1
        if full:
            self.dropped += 1
            self._written([item[1]])
            logger.warning(
                "task logs: %d characters wait to be written; dropped a delta of %s",
                self._queued_chars,
                item[1],
            )
            return
        self._queue.put(item)

    # --- the writer thread ----------------------------------------------------------------

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            items = [item]
            if item is not None:
                time.sleep(_INTERVAL)  # gather: few, larger transactions
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = None in items
            work = [each for each in items if each is not None]
            try:
                self._write(work)
            except sa.exc.SQLAlchemyError:
                logger.exception("task logs: could not write %d deltas", len(work))
            self._written([each[1] for each in work if each[0] == "delta"])
            with self._progress:
                self._done += len(work)
                self._progress.notify_all()

    def _written(self, task_ids: list[str]) -> None:
        with self._progress:
            for task_id in task_ids:
                left = self._unwritten.pop(task_id, 1) - 1
                if left > 0:
                    self._unwritten[task_id] = left

    def _write(self, items: list[tuple[Any, ...]]) -> None:
        batch = LogBatch()
        for item in items:
            if item[0] == "delta":
                with self._progress:
                    self._queued_chars -= len(item[5])
                self._on_delta(batch, *item[1:])
            else:
                self._on_end(batch, *item[1:])
        if not batch.logs:
            return
        with self.store.write() as connection:
            log_store.find_run_ids(connection, batch)
            log_store.commit(connection, batch)
        for log in batch.logs.values():
            log.stored = True
        for log in batch.ended:
            self._open.pop((log.task_id, log.started), None)
        self.feed.extend(
            (
                batch.logs[log_id].task_id,
                self._message(batch.logs[log_id], offset, text),
            )
            for log_id, (offset, text) in batch.news.items()
        )

    def _on_delta(
        self,
        batch: LogBatch,
        task_id: str,
        started: float | None,
        worker_id: str,
        offset: int,
        text: str,
    ) -> None:
        log = self._log_for(task_id, started, worker_id)
        if log is None:
            logger.debug("task logs: %s is not running; its delta is dropped", task_id)
            return
        if offset < log.written:  # sent again, or overlapping: keep what is new
            text = text[log.written - offset :]
            offset = log.written
            if not text:
                return
        if offset > log.written:  # a gap: what was kept is older than the gap
            log.chunks.clear()
            log.size = 0
            log.dropped = log.written = offset
            log_store.drop_before(log, batch)
        news = batch.news.get(log.id)
        if news is None or news[0] + len(news[1]) != offset:
            batch.news[log.id] = [offset, text]
        else:
            news[1] += text
        for start in range(0, len(text), _CHUNK_CHARS):
            piece = text[start : start + _CHUNK_CHARS]
            size = len(piece.encode("utf-8", "replace"))
            batch.chunks.append(
                {"log_id": log.id, "position": log.written, "text": piece}
            )
            log.chunks.append([log.written, len(piece), size])
            log.written += len(piece)
            log.size += size
        self._trim(log, batch)
        batch.logs[log.id] = log
        if log.ended is not None and log not in batch.ended:  # it ended meanwhile
            batch.ended.append(log)

    def _trim(self, log: RunLog, batch: LogBatch) -> None:
        """Drop whole chunks while the rest still holds ``max_bytes``."""
        cut = False
        while log.chunks and log.size - log.chunks[0][2] >= self.max_bytes:
            position, chars, size = log.chunks.popleft()
            log.size -= size
            log.dropped = position + chars
            cut = True
        if cut:
            log_store.drop_before(log, batch)

    def _log_for(
        self, task_id: str, started: float | None, worker_id: str
    ) -> RunLog | None:
        if started is None:  # begun before a restart, or not running any more
            started = self.host.read(lambda s: _started_if_running(s, task_id))
            if started is None:
                return None
        log = self._open.get((task_id, started))
        if log is None:
            log = RunLog(self._next_id, task_id, started, worker_id)
            self._next_id += 1
            self._open[task_id, started] = log
            run = self._running.get(task_id)
            if run is None or run.started != started:  # it ended meanwhile
                log.ended = time.time()
        return log

    def _on_end(self, batch: LogBatch, task_id: str, started: float, at: float) -> None:
        log = self._open.get((task_id, started))
        if log is not None:
            log.ended = at
            batch.logs[log.id] = log
            batch.ended.append(log)

    def _load(self) -> None:
        """Read the open logs back (after a restart); close those no longer running."""
        with self.store.engine.connect() as connection:
            self._next_id, found = log_store.load_open(connection)
        batch = LogBatch()
        for log in found:
            run = self._running.get(log.task_id)
            if run is not None and run.started == log.started:
                run.logged = True
                self._open[log.task_id, log.started] = log
            else:  # it ended while the server was down
                log.ended = time.time()
                batch.logs[log.id] = log
        if batch.logs:
            with self.store.write() as connection:
                log_store.commit(connection, batch)

    # --- reads (any thread but the host's) ------------------------------------------------

    def task_log(self, task_id: str) -> dict[str, Any] | None:
        """Return the log of the task's current or last run (None: no such task).

        Deltas of the task still queued are written first: a read sees every delta
        the server had taken before it.
        """
        if task_id in self._unwritten:
            self.flush(timeout=_READ_WAIT)
        running = self._running.get(task_id)
        with self.store.engine.connect() as connection:
            row = log_store.latest(connection, task_id)
            if row is not None and (running is None or running.started <= row.started):
                return log_store.document(connection, row, self.max_bytes)
            if running is None and not self.host.read(lambda s: task_id in s):
                return None
            started = running.started if running is not None else None
            run_id = log_store.history_run(connection, task_id, started)
        return _empty(task_id, run_id, running=running is not None)

    def run_log(self, run_id: int) -> dict[str, Any] | None:
        """Return the log of the history's run ``run_id`` (None: no such run)."""
        with self.store.engine.connect() as connection:
            run = log_store.history_run_row(connection, run_id)
            if run is None:
                return None
            if run.task_id in self._unwritten:
                self.flush(timeout=_READ_WAIT)
            row = log_store.of_run(connection, run.task_id, run.started)
            if row is not None:
                found = log_store.document(connection, row, self.max_bytes)
                return {**found, "run_id": run_id}
        return _empty(run.task_id, run_id, running=run.ended is None)

    def _message(self, log: RunLog, offset: int, text: str) -> str:
        """Return the event stream's ``log`` message of new text (its newest part)."""
        cut = max(0, len(text) - self.max_bytes)
        data: dict[str, Any] = {"task_id": log.task_id, "run_id": log.run_id}
        data.update(started=log.started, offset=offset + cut, text=text[cut:])
        return json.dumps(data, separators=(",", ":"))


def _empty(task_id: str, run_id: int | None, *, running: bool) -> dict[str, Any]:
    """Return the log document of a run that printed nothing (yet)."""
    return {
        "task_id": task_id,
        "run_id": run_id,
        "text": "",
        "dropped": 0,
        "truncated": False,
        "offset": 0,
        "running": running,
    }


def _running_now(scheduler: Scheduler) -> list[tuple[str, float, str | None]]:
    """Return the running tasks: id, when they began, the worker (host thread)."""
    return [
        (node.id, node.changed_at, node.worker)
        for node in scheduler.nodes_now()
        if node.status in _RUNNING
    ]


def _started_if_running(scheduler: Scheduler, task_id: str) -> float | None:
    if task_id not in scheduler:
        return None
    info = scheduler.task_info(task_id)
    return info.changed_at if info.status in _RUNNING else None


# --- The API --------------------------------------------------------------------------------


def attach(host: SchedulerHost) -> TaskLogs | None:
    """Start keeping the logs of ``host``'s runs in its database (None: it has none)."""
    from nbflow.server.store import Store  # noqa: PLC0415  (the type, at run time)

    if not isinstance(host.store, Store):
        return None
    settings = current_settings()
    max_bytes = settings.get_int("worker", "log_max_bytes", LOG_MAX_BYTES)
    logs = TaskLogs(host.store, host, max_bytes=max_bytes)
    logs.start()
    return logs


def detach(context: ServerContext) -> None:
    """Stop the application's task logs (writing what is queued)."""
    logs = context.extras.pop("logs", None)
    if logs is not None:
        logs.close()


def _logs(handler: JsonHandler) -> TaskLogs:
    logs: TaskLogs | None = handler.context.extras.get("logs")
    if logs is None:
        raise ApiError(
            404, "this server keeps no task logs (it runs without a database)"
        )
    return logs


class TaskLogHandler(JsonHandler):
    """GET /api/v1/tasks/{task_id}/log: the log of the task's current or last run."""

    async def get(self, task_id: str) -> None:
        """Return the log."""
        self.authorize(write=False)
        found = await self.blocking(_logs(self).task_log, task_id)
        if found is None:
            raise ApiError(
                404,
                f"no task {task_id!r} in the scheduler or its logs. Fix: list tasks "
                "with GET /api/v1/tasks; percent-encode the id in the path",
            )
        self.write_json(found)


class RunLogHandler(JsonHandler):
    """GET /api/v1/history/runs/{run_id}/log: the log of one run in the history."""

    async def get(self, run_id: str) -> None:
        """Return the log."""
        self.authorize(write=False)
        logs = _logs(self)
        found = None
        if run_id.isdigit() and len(run_id) <= 18:  # noqa: PLR2004
            found = await self.blocking(logs.run_log, int(run_id))
        if found is None:
            raise ApiError(
                404,
                f"no run {run_id!r} in the history. Fix: take a run's id from "
                "GET /api/v1/history/runs",
            )
        self.write_json(found)


def routes(context: ServerContext) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the log routes."""
    from nbflow.server.openapi import PREFIX  # noqa: PLC0415

    kwargs = {"context": context}
    return [
        (rf"{PREFIX}/tasks/([^/]+)/log", TaskLogHandler, kwargs),
        (rf"{PREFIX}/history/runs/([^/]+)/log", RunLogHandler, kwargs),
    ]


def parse_deltas(raw: object) -> list[tuple[str, int, str]]:
    """Check a worker call's ``logs`` field; return its deltas (ApiError: 400)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ApiError(400, _BAD_LOGS.format(f"got {type(raw).__name__}"))
    deltas = []
    for index, item in enumerate(raw):
        if not (
            isinstance(item, dict)
            and set(item) <= {"task_id", "offset", "text"}
            and isinstance(item.get("task_id"), str)
            and isinstance(item.get("text"), str)
            and type(item.get("offset")) is int
            and item["offset"] >= 0
        ):
            raise ApiError(400, _BAD_LOGS.format(f"logs[{index}] is {item!r:.100}"))
        deltas.append((item["task_id"], item["offset"], item["text"]))
    return deltas


_BAD_LOGS = (
    "'logs' must be a list of {{task_id: str, offset: int >= 0, text: str}} ({}). "
    "Fix: send each running task's new log text with the characters written before it"
)


__all__ = [
    "LogFeed",
    "RunLogHandler",
    "TaskLogHandler",
    "TaskLogs",
    "attach",
    "detach",
    "parse_deltas",
    "routes",
]
