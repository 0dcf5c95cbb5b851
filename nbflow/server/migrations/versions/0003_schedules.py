"""Schedules of the trigger: the last interval each fired, and every fire.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the schedule tables."""
    op.create_table(
        "nbflow_schedule",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("paused", sa.Boolean),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("last_fire", sa.Float),
    )
    op.create_table(
        "nbflow_schedule_fire",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("schedule", sa.String, nullable=False),
        sa.Column("fire_time", sa.Float, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("claimed", sa.Float, nullable=False),
        sa.Column("started", sa.Float),
        sa.Column("ended", sa.Float),
        sa.Column("exit_code", sa.Integer),
        sa.Column("pid", sa.Integer),
        sa.Column("log_path", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_nbflow_schedule_fire_once",
        "nbflow_schedule_fire",
        ["schedule", "fire_time"],
        unique=True,
    )


def downgrade() -> None:
    """Drop the schedule tables."""
    op.drop_index("ix_nbflow_schedule_fire_once", table_name="nbflow_schedule_fire")
    op.drop_table("nbflow_schedule_fire")
    op.drop_table("nbflow_schedule")
