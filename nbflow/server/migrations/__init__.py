"""Alembic migrations of the server's database, run by :func:`nbflow.server.store.upgrade`."""
