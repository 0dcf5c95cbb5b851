"""Task logs: what each run of a task printed and logged (nbflow.server.logs).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the task log tables."""
    op.create_table(
        "nbflow_task_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.String, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("worker_id", sa.String),
        sa.Column("run_id", _ID),
        sa.Column("written", sa.BigInteger, nullable=False),
        sa.Column("dropped", sa.BigInteger, nullable=False),
        sa.Column("ended", sa.Float),
    )
    op.create_index(
        "ix_nbflow_task_log_run",
        "nbflow_task_log",
        ["task_id", "started"],
        unique=True,
    )
    op.create_table(
        "nbflow_task_log_chunk",
        sa.Column("log_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop the task log tables."""
    op.drop_table("nbflow_task_log_chunk")
    op.drop_index("ix_nbflow_task_log_run", table_name="nbflow_task_log")
    op.drop_table("nbflow_task_log")
