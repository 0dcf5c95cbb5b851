"""Queries of task history: runs of tasks and graphs, newest first, with keyset paging.

The rows are written by :class:`nbflow.server.history.HistoryWriter`; this module only
reads them, from any thread, with portable SQLAlchemy Core (the same SQL on SQLite and
PostgreSQL). A page's ``next_cursor`` is the id of its last row: the next page starts
below it, so pages stay stable while new runs are written.

Imports: nbflow.server.store, SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbflow.server.store import (
    StoreError,
    graph_runs_table,
    run_states_table,
    task_params_table,
    task_runs_table,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.server.store import Store

#: Most rows a query returns in one page.
MAX_LIMIT = 1_000


class HistoryQueryError(StoreError, ValueError):
    """A history query was given a value it cannot use (a 400 for the API)."""

    def __init__(self, name: str, got: object, expected: str) -> None:
        super().__init__(name, got, expected)
        self.name, self.got, self.expected = name, got, expected

    def __str__(self) -> str:
        return (
            f"history query: invalid {self.name} (got {self.got!r}). Expected "
            f"{self.expected}. Fix: pass a valid {self.name}, or leave it out."
        )


# --- What queries return ------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """One status a task run took, and when."""

    status: str
    at: float


@dataclass(frozen=True)
class TaskRun:
    """One run of one task (``states`` is filled by :meth:`History.run` only)."""

    id: int
    task_id: str
    family: str
    params: dict[str, str]
    worker_id: str | None
    host: str | None
    started: float
    ended: float | None
    status: str
    error: str
    traceback: str
    message: str
    tracking_url: str
    progress: float | None
    states: tuple[StateChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the run as a JSON-able dict (lists for tuples)."""
        values = dataclasses.asdict(self)
        values["states"] = list(values["states"])
        return values


@dataclass(frozen=True)
class GraphRun:
    """One run of a graph: from RunStarted to RunFinished."""

    id: int
    run_id: str
    roots: tuple[str, ...]
    total: int
    started: float | None
    ended: float | None
    state: str | None
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """Return the run as a JSON-able dict (lists for tuples)."""
        values = dataclasses.asdict(self)
        values["roots"] = list(values["roots"])
        return values


@dataclass(frozen=True)
class FamilyStats:
    """How the runs of one family went: counts, failures, durations of ended runs."""

    family: str
    runs: int
    failed: int
    done: int
    #: Mean and longest duration of the runs that ended (None: none ended).
    mean_duration: float | None
    max_duration: float | None
    last_started: float

    def to_json(self) -> dict[str, Any]:
        """Return the statistics as a JSON-able dict."""
        return dataclasses.asdict(self)


# --- Queries ------------------------------------------------------------------------------


def digest(value: str) -> str:
    """Return the short hash that indexes a parameter value (values may be long)."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or int(cursor) < 1:
        raise HistoryQueryError("cursor", cursor, "the next_cursor of a previous page")
    return int(cursor)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise HistoryQueryError("limit", limit, f"a number from 1 to {MAX_LIMIT}")


def _page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], str(rows[limit - 1].id)


def _to_task_run(row: sa.Row[Any], states: tuple[StateChange, ...] = ()) -> TaskRun:
    values = row._asdict()
    values["params"] = json.loads(values["params"])
    return TaskRun(**values, states=states)


class History:
    """Read task and graph runs, newest first, a page at a time."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine

    def runs(  # noqa: PLR0913  (keyword-only filters of one query)
        self,
        *,
        task_id: str | None = None,
        family: str | None = None,
        params: Mapping[str, str] | None = None,
        search: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[TaskRun], str | None]:
        """Return task runs matching every filter given, and the next page's cursor.

        ``params`` matches runs of tasks with those parameter values (strings, as the
        task serialises them); ``search`` runs whose task id contains it;
        ``since``/``until`` bound the start time (seconds since the epoch, ``since <=
        started < until``). The cursor is None on the last page.
        """
        _check_limit(limit)
        after = _cursor_id(cursor)
        runs = task_runs_table.c
        query = sa.select(task_runs_table).order_by(runs.id.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(runs.id < after)
        if task_id is not None:
            query = query.where(runs.task_id == task_id)
        if family is not None:
            query = query.where(runs.family == family)
        if search:
            query = query.where(runs.task_id.contains(search, autoescape=True))
        if since is not None:
            query = query.where(runs.started >= since)
        if until is not None:
            query = query.where(runs.started < until)
        for name, value in (params or {}).items():
            query = query.where(runs.task_id.in_(_tasks_with_param(name, str(value))))
        with self._engine.connect() as connection:
            rows = [_to_task_run(row) for row in connection.execute(query)]
        return _page(rows, limit)

    def run(self, run_id: int) -> TaskRun | None:
        """Return one task run with every status it took, or None."""
        states_query = (
            sa.select(run_states_table.c.status, run_states_table.c.at)
            .where(run_states_table.c.run_id == run_id)
            .order_by(run_states_table.c.id)
        )
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(task_runs_table).where(task_runs_table.c.id == run_id)
            ).first()
            states = tuple(
                StateChange(*state) for state in connection.execute(states_query)
            )
        return None if row is None else _to_task_run(row, states)

    def graph_runs(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[GraphRun], str | None]:
        """Return runs of graphs, newest first, and the next page's cursor."""
        _check_limit(limit)
        after = _cursor_id(cursor)
        graphs = graph_runs_table.c
        query = sa.select(graph_runs_table).order_by(graphs.id.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(graphs.id < after)
        with self._engine.connect() as connection:
            rows = [_to_graph_run(row) for row in connection.execute(query)]
        return _page(rows, limit)

    def families(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
    ) -> list[FamilyStats]:
        """Return the families with runs started in [since, until), most runs first."""
        _check_limit(limit)
        runs = task_runs_table.c
        took = runs.ended - runs.started
        query = (
            sa.select(
                runs.family,
                sa.func.count().label("runs"),
                sa.func.sum(sa.case((runs.status == "FAILED", 1), else_=0)),
                sa.func.sum(sa.case((runs.status == "DONE", 1), else_=0)),
                sa.func.avg(took),
                sa.func.max(took),
                sa.func.max(runs.started),
            )
            .group_by(runs.family)
            .order_by(sa.desc("runs"), runs.family)
            .limit(limit)
        )
        if since is not None:
            query = query.where(runs.started >= since)
        if until is not None:
            query = query.where(runs.started < until)
        with self._engine.connect() as connection:
            rows = list(connection.execute(query))
        return [_to_family_stats(row) for row in rows]


def _to_family_stats(row: sa.Row[Any]) -> FamilyStats:
    family, count, failed, done, mean, longest, last = tuple(row)
    return FamilyStats(
        family=family,
        runs=int(count),
        failed=int(failed or 0),
        done=int(done or 0),
        mean_duration=None if mean is None else float(mean),
        max_duration=None if longest is None else float(longest),
        last_started=float(last),
    )


def _tasks_with_param(name: str, value: str) -> sa.Select[tuple[str]]:
    params = task_params_table.c
    return sa.select(params.task_id).where(
        params.name == name, params.digest == digest(value), params.value == value
    )


def _to_graph_run(row: sa.Row[Any]) -> GraphRun:
    values = row._asdict()
    values["roots"] = tuple(json.loads(values["roots"]))
    values["counts"] = json.loads(values["counts"] or "{}")
    return GraphRun(**values)
