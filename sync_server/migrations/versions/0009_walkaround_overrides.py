"""walk-around overrides: a manager's reason for "walk-around done" without a signed one

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000

A new table only: nothing existing changes, so a database full of visits upgrades as is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "walkaround_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("manager_user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sync_server.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_user_id"],
            ["users.id"],
            name=op.f("fk_walkaround_overrides_manager_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_walkaround_overrides_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walkaround_overrides")),
    )
    with op.batch_alter_table("walkaround_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_walkaround_overrides_visit_id"), ["visit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("walkaround_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walkaround_overrides_visit_id"))
    op.drop_table("walkaround_overrides")
