"""work records: quality checks, hand-backs; dispatch's job type and "any"

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:00:00.000000

New tables, and two columns on ``job_assignments`` (both with defaults, so every
assignment already there keeps its technician); ``technician_id`` becomes optional for
the desk's explicit "any technician".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
JSON = sync_server.table_base.JsonType


def upgrade() -> None:
    op.create_table(
        "quality_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("job_type", sa.String(length=40), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("checked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_quality_checks_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_checks_checked_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_checks")),
    )
    with op.batch_alter_table("quality_checks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_checks_visit_id", ["visit_id", "checked_at"], unique=False
        )
    op.create_table(
        "hand_backs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("odometer_out_km", sa.Integer(), nullable=False),
        sa.Column("work_done", sa.Text(), nullable=False),
        sa.Column("parts_replaced", JSON, nullable=False),
        sa.Column("handed_back_by_user_id", sa.Integer(), nullable=True),
        sa.Column("handed_back_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_hand_backs_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["handed_back_by_user_id"],
            ["users.id"],
            name=op.f("fk_hand_backs_handed_back_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hand_backs")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_hand_backs_visit_id")),
    )
    with op.batch_alter_table("job_assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("any_technician", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("speciality", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.alter_column("technician_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # An "any technician" row has no technician to keep: the downgrade drops those rows.
    op.execute("DELETE FROM job_assignments WHERE technician_id IS NULL")
    with op.batch_alter_table("job_assignments", schema=None) as batch_op:
        batch_op.alter_column("technician_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("speciality")
        batch_op.drop_column("any_technician")
    op.drop_table("hand_backs")
    with op.batch_alter_table("quality_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_checks_visit_id")
    op.drop_table("quality_checks")
