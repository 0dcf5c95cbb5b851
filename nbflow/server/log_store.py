"""The task logs' tables: one batch's writes, open logs read back, and reads.

Used by :mod:`nbflow.server.logs` (its writer thread writes, any thread reads); the
tables are :data:`~nbflow.server.store.task_logs_table` (a row per run that printed)
and :data:`~nbflow.server.store.task_log_chunks_table` (its text in chunks).

Imports: stdlib, SQLAlchemy, nbflow.server.store.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from nbflow.server.store import (
    task_log_chunks_table,
    task_logs_table,
    task_runs_table,
)


@dataclass(slots=True)
class RunLog:
    """An open run's log (the writer thread only)."""

    id: int
    task_id: str
    started: float
    worker_id: str | None
    run_id: int | None = None
    written: int = 0
    dropped: int = 0
    ended: float | None = None
    #: The stored chunks: [position, characters, bytes]
    chunks: collections.deque[list[int]] = field(default_factory=collections.deque)
    size: int = 0
    stored: bool = False

    def row(self) -> dict[str, Any]:
        """Return the log's row in nbflow_task_log."""
        return {
            "id": self.id,
            "task_id": self.task_id,
            "started": self.started,
            "worker_id": self.worker_id,
            "run_id": self.run_id,
            "written": self.written,
            "dropped": self.dropped,
            "ended": self.ended,
        }


@dataclass
class LogBatch:
    """What one transaction writes."""

    logs: dict[int, RunLog] = field(default_factory=dict)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    #: log id -> chunks before this position go
    cuts: dict[int, int] = field(default_factory=dict)
    #: log id -> [offset, text] new this batch (for the event stream)
    news: dict[int, list[Any]] = field(default_factory=dict)
    ended: list[RunLog] = field(default_factory=list)


def drop_before(log: RunLog, batch: LogBatch) -> None:
    """Drop the log's chunks before ``log.dropped``: stored ones, and the batch's."""
    batch.cuts[log.id] = log.dropped
    batch.chunks = [
        chunk
        for chunk in batch.chunks
        if chunk["log_id"] != log.id or chunk["position"] >= log.dropped
    ]


def find_run_ids(connection: sa.Connection, batch: LogBatch) -> None:
    """Fill in the history's run ids the batch's logs lack (when it has them)."""
    lacking = {log.task_id for log in batch.logs.values() if log.run_id is None}
    if not lacking:
        return
    runs = task_runs_table.c
    found = {
        (task_id, started): run_id
        for run_id, task_id, started in connection.execute(
            sa.select(runs.id, runs.task_id, runs.started).where(
                runs.task_id.in_(sorted(lacking))
            )
        )
    }
    for log in batch.logs.values():
        if log.run_id is None:
            log.run_id = found.get((log.task_id, log.started))


def commit(connection: sa.Connection, batch: LogBatch) -> None:
    """Write one batch: new and changed logs, chunks dropped, new chunks."""
    logs, chunks = task_logs_table, task_log_chunks_table
    new = [log.row() for log in batch.logs.values() if not log.stored]
    changed = [log.row() for log in batch.logs.values() if log.stored]
    if new:
        connection.execute(logs.insert(), new)
    if changed:
        columns = ("run_id", "written", "dropped", "ended")
        update = (
            logs.update()
            .where(logs.c.id == sa.bindparam("log_id"))
            .values({name: sa.bindparam(f"new_{name}") for name in columns})
        )
        connection.execute(
            update,
            [
                {"log_id": row["id"], **{f"new_{n}": row[n] for n in columns}}
                for row in changed
            ],
        )
    if batch.cuts:
        delete = chunks.delete().where(
            chunks.c.log_id == sa.bindparam("cut_log"),
            chunks.c.position < sa.bindparam("cut_before"),
        )
        connection.execute(
            delete,
            [{"cut_log": k, "cut_before": v} for k, v in batch.cuts.items()],
        )
    if batch.chunks:
        connection.execute(chunks.insert(), batch.chunks)


def load_open(connection: sa.Connection) -> tuple[int, list[RunLog]]:
    """Return the next free log id and the logs of runs not ended, with their chunks."""
    logs, chunks = task_logs_table.c, task_log_chunks_table.c
    next_id = (connection.scalar(sa.func.max(logs.id).select()) or 0) + 1
    found = []
    for row in connection.execute(
        sa.select(task_logs_table).where(logs.ended.is_(None))
    ):
        log = RunLog(**row._asdict(), stored=True)
        query = (
            sa.select(chunks.position, chunks.text)
            .where(chunks.log_id == log.id)
            .order_by(chunks.position)
        )
        for position, text in connection.execute(query):
            size = len(text.encode("utf-8", "replace"))
            log.chunks.append([position, len(text), size])
            log.size += size
        found.append(log)
    return next_id, found


def latest(connection: sa.Connection, task_id: str) -> Any:
    """Return the row of the task's newest log (None: it never printed)."""
    logs = task_logs_table.c
    query = (
        sa.select(task_logs_table)
        .where(logs.task_id == task_id)
        .order_by(logs.started.desc())
        .limit(1)
    )
    return connection.execute(query).first()


def history_run_row(connection: sa.Connection, run_id: int) -> Any:
    """Return (task_id, started, ended) of the history's run ``run_id``, or None."""
    runs = task_runs_table.c
    query = sa.select(runs.task_id, runs.started, runs.ended).where(runs.id == run_id)
    return connection.execute(query).first()


def of_run(connection: sa.Connection, task_id: str, started: float) -> Any:
    """Return the row of the log of run ``(task_id, started)``, or None."""
    logs = task_logs_table.c
    query = sa.select(task_logs_table).where(
        logs.task_id == task_id, logs.started == started
    )
    return connection.execute(query).first()


def document(connection: sa.Connection, row: Any, max_bytes: int) -> dict[str, Any]:
    """Return the API's document of one stored log (its newest ``max_bytes``)."""
    chunks = task_log_chunks_table.c
    texts = connection.scalars(
        sa.select(chunks.text).where(chunks.log_id == row.id).order_by(chunks.position)
    )
    whole = "".join(texts)
    kept = row.written - row.dropped
    text = whole[max(0, len(whole) - kept) :] if kept > 0 else ""
    text = _last_bytes(text, max_bytes)
    run_id = row.run_id
    if run_id is None:
        run_id = history_run(connection, row.task_id, row.started)
    return {
        "task_id": row.task_id,
        "run_id": run_id,
        "text": text,
        "dropped": row.written - len(text),
        "truncated": row.written > len(text),
        "offset": row.written,
        "running": row.ended is None,
    }


def _last_bytes(text: str, limit: int) -> str:
    """Return the end of ``text`` that fits ``limit`` UTF-8 bytes."""
    if len(text) <= limit and text.isascii():
        return text
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return text
    return encoded[len(encoded) - limit :].decode("utf-8", "ignore")


def history_run(
    connection: sa.Connection, task_id: str, started: float | None
) -> int | None:
    """Return the history's id of run ``(task_id, started)`` (None: not written yet)."""
    if started is None:
        return None
    runs = task_runs_table.c
    found: int | None = connection.scalar(
        sa.select(runs.id).where(runs.task_id == task_id, runs.started == started)
    )
    return found
