"""walk-around overrides: a manager's reason for "walk-around done" without a signed one;
the safety lines a customer declined knowing the risk, kept with their approval

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000

New tables only: nothing existing changes, so a database full of visits upgrades as is.
An approval synced before this revision that already names acknowledged safety lines in
its record (``safety_acknowledged``) gets its rows here.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

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
        sa.Column("created_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
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
    op.create_table(
        "approval_safety_acknowledgements",
        sa.Column("approval_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_safety_acknowledgements_approval_id_approvals"),
        ),
        sa.PrimaryKeyConstraint(
            "approval_id", "line_id", name=op.f("pk_approval_safety_acknowledgements")
        ),
    )
    _backfill_acknowledgements(op.get_bind())


def _backfill_acknowledgements(bind: sa.Connection) -> None:
    approvals = set(bind.execute(sa.text("SELECT id FROM approvals")).scalars())
    rows = []
    for record_id, fields in bind.execute(
        sa.text("SELECT id, fields FROM sync_records WHERE kind = 'approval'")
    ).all():
        if isinstance(fields, str):
            fields = json.loads(fields)
        if record_id not in approvals or not isinstance(fields, dict):
            continue
        for line_id in sorted(set(fields.get("safety_acknowledged") or ())):
            if isinstance(line_id, str):
                rows.append({"approval_id": record_id, "line_id": line_id[:36]})
    if rows:
        table = sa.table(
            "approval_safety_acknowledgements", sa.column("approval_id"), sa.column("line_id")
        )
        bind.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table("approval_safety_acknowledgements")
    with op.batch_alter_table("walkaround_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walkaround_overrides_visit_id"))
    op.drop_table("walkaround_overrides")
