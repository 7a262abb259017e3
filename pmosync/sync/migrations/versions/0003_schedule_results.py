"""computed schedule and dependency findings per run

The analyse stage computes a schedule (CPM across every tool) and checks every dependency on
each run. Both are kept per run beside the source values, never over them: reports read the
latest run's rows, and earlier runs stay for comparison (how a forecast moved).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.String(length=36), nullable=False),
        sa.Column("early_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("early_finish", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_finish", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_slack_minutes", sa.Float(), nullable=True),
        sa.Column("free_slack_minutes", sa.Float(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=True),
        sa.Column("driving_predecessor", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "canonical_id"),
    )
    op.create_table(
        "dependency_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("link", sa.String(length=36), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("shortfall_days", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dependency_findings", schema=None) as batch_op:
        batch_op.create_index("ix_dependency_findings_run", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dependency_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_dependency_findings_run")
    op.drop_table("dependency_findings")
    op.drop_table("schedule_results")
