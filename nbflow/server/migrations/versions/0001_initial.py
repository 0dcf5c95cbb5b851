"""The first schema: event log, snapshots and task history.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "nbflow_event",
        sa.Column("position", _ID, primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "nbflow_snapshot",
        sa.Column("position", _ID, primary_key=True, autoincrement=False),
        sa.Column("saved_at", sa.Float, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    mark = op.create_table(
        "nbflow_history_mark",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(mark, [{"id": 1, "seq": 0}])
    _create_history_tables()


def _create_history_tables() -> None:
    op.create_table(
        "nbflow_task",
        sa.Column("task_id", sa.String, primary_key=True),
        sa.Column("family", sa.String, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "nbflow_task_param",
        sa.Column("task_id", sa.String, primary_key=True),
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("digest", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_nbflow_task_param_lookup", "nbflow_task_param", ["name", "digest"]
    )
    op.create_table(
        "nbflow_task_run",
        sa.Column("id", _ID, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.String, nullable=False),
        sa.Column("family", sa.String, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("worker_id", sa.String),
        sa.Column("host", sa.String),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("ended", sa.Float),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("traceback", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("tracking_url", sa.Text, nullable=False),
        sa.Column("progress", sa.Float),
    )
    op.create_index("ix_nbflow_task_run_task_id", "nbflow_task_run", ["task_id", "id"])
    op.create_index("ix_nbflow_task_run_family", "nbflow_task_run", ["family", "id"])
    op.create_index("ix_nbflow_task_run_started", "nbflow_task_run", ["started"])
    op.create_index("ix_nbflow_task_run_ended", "nbflow_task_run", ["ended"])
    op.create_table(
        "nbflow_task_run_state",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_nbflow_task_run_state_run", "nbflow_task_run_state", ["run_id", "id"]
    )
    op.create_table(
        "nbflow_graph_run",
        sa.Column("id", _ID, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.String, nullable=False, unique=True),
        sa.Column("roots", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("started", sa.Float),
        sa.Column("ended", sa.Float),
        sa.Column("state", sa.String),
        sa.Column("counts", sa.Text),
    )
    op.create_index("ix_nbflow_graph_run_started", "nbflow_graph_run", ["started"])


def downgrade() -> None:
    """Drop the tables."""
    for table in (
        "nbflow_graph_run",
        "nbflow_task_run_state",
        "nbflow_task_run",
        "nbflow_task_param",
        "nbflow_task",
        "nbflow_history_mark",
        "nbflow_snapshot",
        "nbflow_event",
    ):
        op.drop_table(table)
