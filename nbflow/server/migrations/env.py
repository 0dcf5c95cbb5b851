"""Alembic's entry point: migrate the connection nbflow hands over.

nbflow runs migrations itself (:func:`nbflow.server.store.upgrade`, behind
``nbflow server db upgrade``), passing an open connection inside a transaction in
``config.attributes["connection"]``; there is no alembic.ini.

Imports: Alembic, nbflow.server.store.
"""

from __future__ import annotations

from alembic import context

from nbflow.server.store import VERSION_TABLE, StoreError, metadata


class MigrationEntryError(StoreError):
    """Alembic was run without the connection nbflow passes."""

    def __str__(self) -> str:
        return (
            "nbflow migrations: run without a database connection (got the alembic "
            "command line). Expected nbflow to run them. Fix: run "
            "`nbflow server db upgrade --db URL`."
        )


connection = context.config.attributes.get("connection")
if connection is None:
    raise MigrationEntryError
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
