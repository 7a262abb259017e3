"""merge bases per connection

One shared base per field could not tell a system that only feeds a field (and so never
converges) from one that changed it, and reported the same conflict on every run. Bases are
now kept per (entity, field, connection). Old shared bases cannot be split by connection, so
they are dropped: the next run treats those fields as first seen, which settles them again.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("field_bases")
    op.create_table(
        "field_bases",
        sa.Column("canonical_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("connection", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("canonical_id", "field", "connection"),
    )


def downgrade() -> None:
    op.drop_table("field_bases")
    op.create_table(
        "field_bases",
        sa.Column("canonical_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("canonical_id", "field"),
    )
