"""The server's store on real SQLite files and a real PostgreSQL: log, snapshots, schema."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nbflow.server.store import (
    MIGRATIONS,
    SCHEMA_REVISION,
    VERSION_TABLE,
    ConcurrentWriterError,
    SchemaOutdatedError,
    SchemaUnknownError,
    Store,
    UnsupportedDatabaseError,
    create_engine,
    metadata,
    to_url,
    upgrade,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


def tick(number: int) -> dict[str, object]:
    return {"type": "Tick", "at": float(number), "note": [number, "é", None]}


def revisions(url: str) -> tuple[str, ...]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE}
            )
            return tuple(context.get_current_heads())
    finally:
        engine.dispose()


#: A revision after this nbflow's newest.
NEXT = "9999"


def migrations_with_next(tmp_path: Path) -> Path:
    """nbflow's migrations plus a real revision NEXT that adds a column."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"{NEXT}_graph_run_note.py").write_text(
        textwrap.dedent(
            '''
            """Add a note to graph runs."""
            import sqlalchemy as sa
            from alembic import op

            revision = "NEXT"
            down_revision = "HEAD"
            branch_labels = None
            depends_on = None


            def upgrade():
                op.add_column("nbflow_graph_run", sa.Column("note", sa.Text))


            def downgrade():
                op.drop_column("nbflow_graph_run", "note")
            '''.replace("NEXT", NEXT).replace("HEAD", SCHEMA_REVISION)
        )
    )
    return copy


# --- Schema --------------------------------------------------------------------------


def test_store_open_creates_an_empty_database_at_the_head_revision(db_url: str) -> None:
    Store.open(db_url).close()

    engine = create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        )
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert revisions(db_url) == (SCHEMA_REVISION,)
    assert differences == []


def test_store_open_twice_keeps_the_schema_and_data(db_url: str) -> None:
    with_data = Store.open(db_url)
    with_data.append([tick(1)])
    with_data.close()

    reopened = Store.open(db_url)

    assert list(reopened.events_after(0)) == [(1, tick(1))]
    reopened.close()


def test_store_refuses_an_older_schema_until_it_is_upgraded(
    db_url: str, tmp_path: Path
) -> None:
    Store.open(db_url).close()  # revision SCHEMA_REVISION
    newer_code = migrations_with_next(tmp_path)

    with pytest.raises(SchemaOutdatedError) as refused:
        Store.open(db_url, migrations=newer_code)
    assert refused.value.current == SCHEMA_REVISION
    assert refused.value.head == NEXT
    message = str(refused.value)
    assert f"older than this nbflow (got revision {SCHEMA_REVISION})" in message
    assert f"Expected revision {NEXT}" in message
    assert "Fix: back it up, then run `nbflow server db upgrade --db " in message
    assert "***" in message or db_url.startswith("sqlite")  # no password in messages

    assert upgrade(db_url, migrations=newer_code) == NEXT
    upgraded = Store.open(db_url, migrations=newer_code)
    columns = {
        c["name"] for c in sa.inspect(upgraded.engine).get_columns("nbflow_graph_run")
    }
    upgraded.close()
    assert "note" in columns


def test_store_refuses_a_schema_newer_than_the_code(
    db_url: str, tmp_path: Path
) -> None:
    upgrade(db_url, migrations=migrations_with_next(tmp_path))

    with pytest.raises(SchemaUnknownError) as refused:
        Store.open(db_url)

    message = str(refused.value)
    assert f"schema is unknown to this nbflow (got revision {NEXT})" in message
    assert f"Expected revision {SCHEMA_REVISION} or older" in message
    assert "Fix: upgrade nbflow" in message


def test_store_refuses_tables_without_a_revision(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE nbflow_event (position INTEGER)"))
    engine.dispose()

    with pytest.raises(SchemaUnknownError, match="got tables without a revision"):
        Store.open(db_url)


def test_store_check_schema_on_an_empty_database_names_the_upgrade(db_url: str) -> None:
    store = Store(create_engine(db_url))

    with pytest.raises(SchemaOutdatedError, match="got no nbflow tables") as refused:
        store.check_schema()

    store.close()
    assert "nbflow server db upgrade --db" in str(refused.value)


def test_upgrade_of_a_current_database_changes_nothing(db_url: str) -> None:
    Store.open(db_url).close()

    assert upgrade(db_url) == SCHEMA_REVISION
    assert upgrade(db_url) == SCHEMA_REVISION


# --- Event log -------------------------------------------------------------------------


def test_store_append_returns_the_last_position_and_replays_in_order(
    store: Store,
) -> None:
    assert store.append([]) == 0

    first = store.append([tick(1), tick(2)])
    second = store.append([tick(3)])

    assert (first, second) == (2, 3)
    assert store.last_position == 3
    assert list(store.events_after(0)) == [(1, tick(1)), (2, tick(2)), (3, tick(3))]
    assert list(store.events_after(2)) == [(3, tick(3))]
    assert list(store.events_after(3)) == []


def test_store_replays_a_large_log_in_stream_batches(store: Store) -> None:
    for start in range(0, 5_000, 500):
        store.append([tick(n) for n in range(start, start + 500)])

    replayed = store.events_after(100)
    first = next(replayed)
    replayed.close()  # a consumer may stop early: the connection goes back to the pool
    everything = [position for position, _ in store.events_after(0)]

    assert first == (101, tick(100))
    assert everything == list(range(1, 5_001))


def test_store_append_is_durable_when_the_process_is_killed(db_url: str) -> None:
    Store.open(db_url).close()
    program = textwrap.dedent(
        """
        import os, signal, sys
        from nbflow.server.store import Store
        store = Store.open(sys.argv[1])
        position = store.append([{"type": "Tick", "at": float(n)} for n in range(50)])
        print(position, flush=True)  # acknowledged
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", program, db_url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )

    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout.strip() == "50"
    reopened = Store.open(db_url)
    assert [position for position, _ in reopened.events_after(0)] == list(range(1, 51))
    reopened.close()


def test_store_refuses_a_second_writer_on_the_same_log(db_url: str) -> None:
    first = Store.open(db_url)
    second = Store.open(db_url)
    first.append([tick(1)])

    with pytest.raises(ConcurrentWriterError) as refused:
        second.append([tick(2)])

    first.close()
    second.close()
    assert refused.value.position == 1
    assert "another process wrote event log position 1" in str(refused.value)
    assert "Fix: stop the other nbflow server" in str(refused.value)


# --- Snapshots --------------------------------------------------------------------------


def test_store_latest_snapshot_is_none_then_the_newest(store: Store) -> None:
    assert store.latest_snapshot() is None
    store.append([tick(n) for n in range(4)])

    store.save_snapshot(2, b"\x00two")
    store.save_snapshot(4, b"\x00four")
    store.save_snapshot(4, b"\x00four again")

    assert store.latest_snapshot() == (4, b"\x00four again")


def test_store_compact_drops_what_the_latest_snapshot_includes(store: Store) -> None:
    assert store.compact() == 0
    store.append([tick(n) for n in range(1, 6)])
    store.save_snapshot(2, b"two")
    store.save_snapshot(3, b"three")

    dropped = store.compact()

    assert dropped == 1 + 3  # snapshot 2; events 1..3
    assert store.latest_snapshot() == (3, b"three")
    assert list(store.events_after(0)) == [(4, tick(4)), (5, tick(5))]


def test_store_positions_continue_after_compaction_and_reopening(db_url: str) -> None:
    store = Store.open(db_url)
    store.append([tick(n) for n in range(3)])
    store.save_snapshot(3, b"state")
    store.compact()
    store.close()

    reopened = Store.open(db_url)
    position = reopened.append([tick(9)])

    assert position == 4
    assert list(reopened.events_after(3)) == [(4, tick(9))]
    reopened.close()


# --- Engines -----------------------------------------------------------------------------


def test_to_url_reads_paths_and_picks_psycopg(tmp_path: Path) -> None:
    assert to_url(str(tmp_path / "a.db")).database == str(tmp_path / "a.db")
    assert to_url("postgresql://u:p@h:5/d").drivername == "postgresql+psycopg"
    assert to_url("postgresql+psycopg://u:p@h/d").drivername == "postgresql+psycopg"
    assert to_url("sqlite://").get_backend_name() == "sqlite"


def test_to_url_refuses_other_databases() -> None:
    with pytest.raises(UnsupportedDatabaseError) as refused:
        to_url("mysql://u:p@h/d")

    message = str(refused.value)
    assert "unsupported database (got 'mysql://u:p@h/d')" in message
    assert "Expected a SQLite file" in message
    assert "Fix: pass one of those" in message


def test_sqlite_engine_is_wal(sqlite_db_url: str) -> None:
    engine = create_engine(sqlite_db_url)

    with engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()

    engine.dispose()
    assert journal == "wal"


def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    store = Store.open("sqlite://")
    store.append([tick(1)])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(lambda: list(store.events_after(0))).result()

    store.close()
    assert seen == [(1, tick(1))]


def test_store_sqlite_synchronous_defaults_to_normal_and_takes_full(tmp_path) -> None:
    normal = Store.open(f"sqlite:///{tmp_path / 'n.db'}")
    full = Store.open(f"sqlite:///{tmp_path / 'f.db'}?synchronous=full")
    try:
        with normal.engine.connect() as connection:
            normal_level = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        with full.engine.connect() as connection:
            full_level = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    finally:
        normal.close()
        full.close()

    assert (normal_level, full_level) == (1, 2)  # SQLite's numbers for NORMAL, FULL


def test_store_refuses_an_unknown_synchronous_level(tmp_path) -> None:
    with pytest.raises(UnsupportedDatabaseError, match=r"synchronous=normal\|full"):
        Store.open(f"sqlite:///{tmp_path / 'x.db'}?synchronous=sometimes")
