"""``nbflow server``: the central scheduler, its durable state and its HTTP API.

The pure scheduler (:mod:`nbflow.core.scheduler`) runs on one host thread; its state is
the log of every event it applied (plus snapshots), kept in a SQL database by
:mod:`nbflow.server.store`, with task history derived by :mod:`nbflow.server.history`.

Imports: nbflow.core and the ``server`` extra (tornado, SQLAlchemy, Alembic, psycopg,
prometheus_client), each loaded only by the module that needs it.
"""
