"""Database fixtures for the server's tests: real SQLite files and a real PostgreSQL.

``db_url`` runs a test once on a SQLite file in ``tmp_path`` and once on a fresh
PostgreSQL database (created for the test, dropped after it) on the server named by
``NBFLOW_TEST_POSTGRES_URL``. Without that variable the PostgreSQL half skips; start a
throw-away server with ``scripts/postgres.sh start DIR`` and export the URL it prints.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

POSTGRES_ENV = "NBFLOW_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a running PostgreSQL server whose user may create databases."""
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        pytest.skip(
            f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against "
            "(start one with `scripts/postgres.sh start DIR` and export the URL it prints)"
        )
    return url


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"nbflow_test_{uuid.uuid4().hex[:12]}"
    server = sa.make_url(postgres_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    """A SQLite file (not yet created) in the test's own directory."""
    return f"sqlite:///{tmp_path / 'nbflow.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on a SQLite file and on a PostgreSQL database."""
    fixture = "sqlite_db_url" if request.param == "sqlite" else "postgres_db_url"
    url: str = request.getfixturevalue(fixture)
    return url
