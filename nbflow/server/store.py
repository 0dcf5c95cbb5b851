"""The server's durable state: the event log, scheduler snapshots and the history tables.

The scheduler is deterministic, so its state is the log of every event it applied: the
host appends each group of events and commits before it answers anyone (a state change
is committed before it is acknowledged), and a restart loads the latest snapshot and
replays the events after it. Task history (:mod:`nbflow.server.history`) and task logs
(:mod:`nbflow.server.logs`) live in the same database, in tables of their own that
compaction never touches.

Back-ends: a SQLite file (the default) or PostgreSQL through psycopg 3. Everything here
and in history.py is portable SQLAlchemy Core; what differs between the two lives only in
:func:`create_engine`:

- SQLite runs in WAL mode (readers never block the writer) with ``synchronous=NORMAL``
  by default: a commit is in the write-ahead log before it returns, so an acknowledged
  change survives the server being killed (kill -9, a crash, an OOM kill); it may not
  survive the machine losing power before the next checkpoint. ``?synchronous=full`` in
  the URL (``sqlite:///server.db?synchronous=full``) fsyncs every commit, so it survives
  that too, at about 1.5 ms per commit on this project's test machine (NORMAL: about
  0.1 ms), which bounds a serial client to a few hundred task results per second.
  Measured with ``benchmarks/server_fanin.py``.
  Write transactions begin with ``BEGIN IMMEDIATE``, so two writers (the host and the
  history writer) queue on the busy timeout instead of failing with "database is locked"
  when a read turns into a write; DDL runs inside transactions too.
- PostgreSQL URLs written ``postgresql://`` use psycopg 3 (SQLAlchemy's default would be
  psycopg2); replay streams through a server-side cursor.

The schema is managed by Alembic (``nbflow/server/migrations``; version table
``nbflow_alembic_version``). :meth:`Store.open` creates an empty database at the current
revision, and refuses an older one with the command that upgrades it.

Imports: nbflow.core.errors, SQLAlchemy, Alembic.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.pool import StaticPool

from nbflow.core.errors import NbflowError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from alembic.script import ScriptDirectory

#: The Alembic scripts shipped with nbflow.
MIGRATIONS = Path(__file__).with_name("migrations")
#: Alembic's version table, named so it never meets another application's.
VERSION_TABLE = "nbflow_alembic_version"
#: The schema revision this nbflow writes (the newest migration; tests compare it).
SCHEMA_REVISION = "0003"
#: The command that upgrades a database (named by the schema errors).
UPGRADE_COMMAND = "nbflow server db upgrade --db"
#: Rows fetched per round trip when replaying the log.
_STREAM_BATCH = 2_000

#: Log positions and history ids: 64-bit, and SQLite's rowid (an alias is fastest there).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

events_table = sa.Table(
    "nbflow_event",
    metadata,
    sa.Column("position", Id, primary_key=True, autoincrement=False),
    #: The event as wire JSON (nbflow.core.wire).
    sa.Column("body", sa.Text, nullable=False),
)

snapshots_table = sa.Table(
    "nbflow_snapshot",
    metadata,
    #: The log position the snapshot includes (events <= position are in it).
    sa.Column("position", Id, primary_key=True, autoincrement=False),
    sa.Column("saved_at", sa.Float, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

#: One row: the last notification seq the history writer committed.
history_mark_table = sa.Table(
    "nbflow_history_mark",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

#: Every task ever seen, with its family and parameters (for runs and parameter search).
tasks_table = sa.Table(
    "nbflow_task",
    metadata,
    sa.Column("task_id", sa.String, primary_key=True),
    sa.Column("family", sa.String, nullable=False),
    #: The parameters as a JSON object of strings.
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
)

#: One row per parameter of a task; searched by (name, digest) then value, so that long
#: values never meet an index's row size limit.
task_params_table = sa.Table(
    "nbflow_task_param",
    metadata,
    sa.Column("task_id", sa.String, primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("digest", sa.String(16), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Index("ix_nbflow_task_param_lookup", "name", "digest"),
)

#: One row per run of a task: from RUNNING to whatever ended it.
task_runs_table = sa.Table(
    "nbflow_task_run",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("task_id", sa.String, nullable=False),
    sa.Column("family", sa.String, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("worker_id", sa.String),
    sa.Column("host", sa.String),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("ended", sa.Float),
    #: RUNNING while it runs, then the status that ended it.
    sa.Column("status", sa.String, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("traceback", sa.Text, nullable=False),
    #: The last status message the task set.
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("tracking_url", sa.Text, nullable=False),
    sa.Column("progress", sa.Float),
    sa.Index("ix_nbflow_task_run_task_id", "task_id", "id"),
    sa.Index("ix_nbflow_task_run_family", "family", "id"),
    sa.Index("ix_nbflow_task_run_started", "started"),
    sa.Index("ix_nbflow_task_run_ended", "ended"),
)

#: Every status a task run went through, with its time.
run_states_table = sa.Table(
    "nbflow_task_run_state",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("run_id", Id, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_nbflow_task_run_state_run", "run_id", "id"),
)

#: Runs of graphs (RunStarted / RunFinished).
graph_runs_table = sa.Table(
    "nbflow_graph_run",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("run_id", sa.String, nullable=False, unique=True),
    sa.Column("roots", sa.Text, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("ended", sa.Float),
    sa.Column("state", sa.String),
    sa.Column("counts", sa.Text),
    sa.Index("ix_nbflow_graph_run_started", "started"),
)

#: What each run of a task printed and logged (nbflow.server.logs): one row per run
#: that printed something, its text in chunks.
task_logs_table = sa.Table(
    "nbflow_task_log",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("task_id", sa.String, nullable=False),
    #: When the run began (the ``started`` of its row in nbflow_task_run).
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("worker_id", sa.String),
    #: The run's id in nbflow_task_run, once the history has written it.
    sa.Column("run_id", Id),
    #: Characters written in all, and dropped from the front (over the size limit).
    sa.Column("written", sa.BigInteger, nullable=False),
    sa.Column("dropped", sa.BigInteger, nullable=False),
    #: When the run ended; None while it runs.
    sa.Column("ended", sa.Float),
    sa.Index("ix_nbflow_task_log_run", "task_id", "started", unique=True),
)

#: The text of task logs: chunks keyed by their log and their position in it.
task_log_chunks_table = sa.Table(
    "nbflow_task_log_chunk",
    metadata,
    sa.Column("log_id", Id, primary_key=True, autoincrement=False),
    #: Characters of the log before this chunk.
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
)


#: Schedules the trigger knows (nbflow.server.trigger): the last interval each fired,
#: and the definitions of those added through the API.
schedules_table = sa.Table(
    "nbflow_schedule",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    #: "config" or "api".
    sa.Column("source", sa.String, nullable=False),
    #: The definition as JSON (for an API schedule, the one that counts).
    sa.Column("definition", sa.Text, nullable=False),
    #: Paused or resumed through the API; None: as the definition says.
    sa.Column("paused", sa.Boolean),
    sa.Column("created", sa.Float, nullable=False),
    #: The cron time of the last interval claimed (fired or skipped); None: none yet.
    sa.Column("last_fire", sa.Float),
)

#: Every fire of a schedule, claimed before its run is launched.
schedule_fires_table = sa.Table(
    "nbflow_schedule_fire",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("schedule", sa.String, nullable=False),
    #: The cron time fired (the end of the interval), and the value filled in.
    sa.Column("fire_time", sa.Float, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    #: claimed, running, succeeded, failed, not_started or lost.
    sa.Column("state", sa.String, nullable=False),
    sa.Column("claimed", sa.Float, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("ended", sa.Float),
    sa.Column("exit_code", sa.Integer),
    sa.Column("pid", sa.Integer),
    sa.Column("log_path", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_nbflow_schedule_fire_once", "schedule", "fire_time", unique=True),
)


# --- Errors ---------------------------------------------------------------------------


class StoreError(NbflowError):
    """The server's database cannot be used as it is."""


class UnsupportedDatabaseError(StoreError, ValueError):
    """The database URL names a back-end nbflow does not support."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url

    def __str__(self) -> str:
        return (
            f"nbflow server --db: unsupported database (got {self.url!r}). Expected a "
            "SQLite file (sqlite:///path/to/nbflow.db, or a plain path; its only "
            "option besides timeout is ?synchronous=normal|full) or PostgreSQL "
            "(postgresql://user:password@host:port/database). Fix: pass one of those."
        )


class SchemaOutdatedError(StoreError):
    """The database's schema is older than this nbflow (or has none)."""

    def __init__(self, url: str, current: str | None, head: str) -> None:
        super().__init__(url, current, head)
        self.url, self.current, self.head = url, current, head

    def __str__(self) -> str:
        got = f"revision {self.current}" if self.current else "no nbflow tables"
        return (
            f"{self.url}: the database schema is older than this nbflow (got {got}). "
            f"Expected revision {self.head}. Fix: back it up, then run "
            f"`{UPGRADE_COMMAND} {self.url}`."
        )


class SchemaUnknownError(StoreError):
    """The database's schema is newer than this nbflow, or not nbflow's at all."""

    def __init__(self, url: str, current: str | None, head: str) -> None:
        super().__init__(url, current, head)
        self.url, self.current, self.head = url, current, head

    def __str__(self) -> str:
        got = (
            f"revision {self.current}" if self.current else "tables without a revision"
        )
        return (
            f"{self.url}: the database schema is unknown to this nbflow (got {got}). "
            f"Expected revision {self.head} or older. Fix: upgrade nbflow "
            "(a newer nbflow wrote this database), or pass --db a database that only "
            "nbflow uses."
        )


class ConcurrentWriterError(StoreError):
    """Another process appended to the same event log."""

    def __init__(self, url: str, position: int) -> None:
        super().__init__(url, position)
        self.url, self.position = url, position

    def __str__(self) -> str:
        return (
            f"{self.url}: another process wrote event log position {self.position} "
            "(got a duplicate position). Expected this server to be the database's only "
            "writer. Fix: stop the other nbflow server using this database, then restart "
            "this one."
        )


# --- Engines and migrations -----------------------------------------------------------


def to_url(url: str) -> sa.URL:
    """Parse a ``--db`` value: a URL, or a path to a SQLite file; pick psycopg 3."""
    if "://" not in url:
        return sa.URL.create("sqlite", database=str(Path(url).expanduser().resolve()))
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend not in {"sqlite", "postgresql"}:
        raise UnsupportedDatabaseError(url)
    return parsed


def create_engine(url: str) -> sa.Engine:
    """Make an engine for ``url`` with nbflow's durability and locking settings."""
    parsed = to_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    memory = parsed.database in {None, "", ":memory:"}
    synchronous = str(parsed.query.get("synchronous", "normal")).upper()
    if synchronous not in {"NORMAL", "FULL"}:
        raise UnsupportedDatabaseError(url)
    parsed = parsed.difference_update_query(["synchronous"])
    connect_args: dict[str, Any] = {"check_same_thread": False}
    if "timeout" not in parsed.query:  # seconds a writer waits for the lock (?timeout=)
        connect_args["timeout"] = 30.0
    engine = sa.create_engine(
        parsed,
        connect_args=connect_args,
        poolclass=StaticPool if memory else sa.QueuePool,
    )
    sa_event.listen(
        engine, "connect", functools.partial(_on_sqlite_connect, synchronous)
    )
    sa_event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(
    synchronous: str, dbapi_connection: Any, _record: object
) -> None:
    dbapi_connection.isolation_level = None  # _on_sqlite_begin starts transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of two fixed words
    cursor.close()


def _on_sqlite_begin(connection: sa.Connection) -> None:
    write = connection.get_execution_options().get("nbflow_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _script_directory(migrations: Path) -> ScriptDirectory:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 (loaded when used)

    return ScriptDirectory(str(migrations))


def _run_upgrade(connection: sa.Connection, migrations: Path) -> None:
    from alembic import command  # noqa: PLC0415 (loaded when used)
    from alembic.config import Config  # noqa: PLC0415

    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(migrations))
    command.upgrade(config, "head")


def _current_revisions(connection: sa.Connection) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    )
    return tuple(context.get_current_heads())


def _has_nbflow_tables(connection: sa.Connection) -> bool:
    names = sa.inspect(connection).get_table_names()
    return any(name.startswith("nbflow_") for name in names)


def upgrade(url: str, *, migrations: Path = MIGRATIONS) -> str:
    """Apply every migration the database lacks; return its revision afterwards.

    Parameters
    ----------
    url
        The database, as for ``nbflow server --db``.
    migrations
        The Alembic scripts (nbflow's own unless a test passes others).
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(nbflow_write=True)
            with connection.begin():
                _run_upgrade(connection, migrations)
            return ",".join(_current_revisions(connection))
    finally:
        engine.dispose()


# --- The store ------------------------------------------------------------------------


class Store:
    """The event log, snapshots and history tables of one server.

    Only the host thread appends and saves snapshots; the history writer writes its own
    tables from its thread; readers may use any thread.
    """

    def __init__(self, engine: sa.Engine, *, migrations: Path = MIGRATIONS) -> None:
        self.engine = engine
        self.migrations = migrations
        #: The URL with its password hidden, for messages.
        self.url = engine.url.render_as_string(hide_password=True)
        self._lock = threading.Lock()
        #: SQLite lets one transaction write at a time, and a writer that finds the
        #: database locked sleeps in steps of up to 100 ms before trying again. The
        #: server's writers (the event log, the history) are threads of one process:
        #: they queue on this lock instead, and the next one starts as soon as the
        #: last commits. None for PostgreSQL, which locks rows, not the database.
        self._sqlite_writes = (
            threading.Lock() if engine.url.get_backend_name() == "sqlite" else None
        )
        self._last = 0

    @classmethod
    def open(cls, url: str, *, migrations: Path = MIGRATIONS) -> Store:
        """Connect to ``url``; create an empty database's tables; check the schema.

        Raises
        ------
        SchemaOutdatedError
            The database was made by an older nbflow: run ``nbflow server db upgrade``.
        SchemaUnknownError
            A newer nbflow (or another program) made it.
        """
        store = cls(create_engine(url), migrations=migrations)
        try:
            store._create_if_empty()
            store.check_schema()
            store._last = store._read_last_position()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close every connection."""
        self.engine.dispose()

    @property
    def last_position(self) -> int:
        """The position of the last event appended (0: none yet)."""
        return self._last

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """Give a connection inside a write transaction; commit when the block ends."""
        with self._writing(), self.engine.connect() as connection:
            connection.execution_options(nbflow_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self._sqlite_writes is None:
            yield
            return
        with self._sqlite_writes:
            yield

    def check_schema(self) -> None:
        """Raise unless the database is at the revision this nbflow expects."""
        head = _script_directory(self.migrations).get_current_head()
        assert head is not None  # noqa: S101 (nbflow ships at least one migration)
        with self.engine.connect() as connection:
            current = _current_revisions(connection)
            has_tables = _has_nbflow_tables(connection)
        if current == (head,):
            return
        script = _script_directory(self.migrations)
        known = {revision.revision for revision in script.walk_revisions()}
        if len(current) == 1 and current[0] in known:
            raise SchemaOutdatedError(self.url, current[0], head)
        if not current and not has_tables:
            raise SchemaOutdatedError(self.url, None, head)
        raise SchemaUnknownError(self.url, ",".join(current) or None, head)

    def _create_if_empty(self) -> None:
        with self.write() as connection:
            if _current_revisions(connection) or _has_nbflow_tables(connection):
                return
            _run_upgrade(connection, self.migrations)

    def _read_last_position(self) -> int:
        with self.engine.connect() as connection:
            last_event = connection.scalar(
                sa.func.max(events_table.c.position).select()
            )
            last_snapshot = connection.scalar(
                sa.func.max(snapshots_table.c.position).select()
            )
        return max(last_event or 0, last_snapshot or 0)

    # --- The event log ---------------------------------------------------------------

    def append(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Append ``events`` (wire JSON) in one transaction, commit; return the last position.

        Raises
        ------
        ConcurrentWriterError
            Another process appended to this log meanwhile.
        """
        with self._lock:
            if not events:
                return self._last
            first = self._last + 1
            rows = [
                {
                    "position": first + offset,
                    "body": json.dumps(event, separators=(",", ":")),
                }
                for offset, event in enumerate(events)
            ]
            try:
                with self.write() as connection:
                    connection.execute(events_table.insert(), rows)
            except sa.exc.IntegrityError as exc:
                raise ConcurrentWriterError(self.url, first) from exc
            self._last = first + len(rows) - 1
            return self._last

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(position, event)`` for every event after ``position``, in order.

        Rows stream from the database (a server-side cursor on PostgreSQL), so a log of
        millions of events never sits in memory at once.
        """
        query = (
            sa.select(events_table.c.position, events_table.c.body)
            .where(events_table.c.position > position)
            .order_by(events_table.c.position)
        )
        loads = json.loads
        with (
            self.engine.connect() as connection,
            connection.execution_options(yield_per=_STREAM_BATCH).execute(
                query
            ) as result,
        ):
            for rows in result.partitions():
                for row_position, body in rows:
                    yield row_position, loads(body)

    # --- Snapshots ----------------------------------------------------------------------

    def save_snapshot(self, position: int, blob: bytes) -> None:
        """Keep ``blob``, the scheduler's state after the event at ``position``."""
        with self.write() as connection:
            connection.execute(
                snapshots_table.delete().where(snapshots_table.c.position == position)
            )
            connection.execute(
                snapshots_table.insert(),
                {"position": position, "saved_at": time.time(), "body": blob},
            )

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return ``(position, blob)`` of the newest snapshot, or None."""
        query = (
            sa.select(snapshots_table.c.position, snapshots_table.c.body)
            .order_by(snapshots_table.c.position.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.position, bytes(row.body))

    def compact(self) -> int:
        """Drop older snapshots and the events the latest one includes; return rows dropped.

        History is kept: it lives in tables of its own.
        """
        with self.write() as connection:
            latest = connection.scalar(sa.func.max(snapshots_table.c.position).select())
            if latest is None:
                return 0
            snapshots = connection.execute(
                snapshots_table.delete().where(snapshots_table.c.position < latest)
            )
            events = connection.execute(
                events_table.delete().where(events_table.c.position <= latest)
            )
        return snapshots.rowcount + events.rowcount
