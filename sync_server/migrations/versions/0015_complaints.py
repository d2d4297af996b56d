"""complaints: cases, their steps, categories and root causes, deadline settings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:20:00.000000

New tables only: a filled database keeps everything it has.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "complaint_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_settings")),
    )
    op.create_table(
        "complaint_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_labels")),
    )
    op.create_table(
        "complaint_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("root_cause_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("first_response_due", UTC_TIME, nullable=False),
        sa.Column("first_responded_at", UTC_TIME, nullable=True),
        sa.Column("first_response_missed_at", UTC_TIME, nullable=True),
        sa.Column("resolution_started_at", UTC_TIME, nullable=False),
        sa.Column("resolution_due", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("resolution_missed_at", UTC_TIME, nullable=True),
        sa.Column("waiting_since", UTC_TIME, nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_complaint_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_complaint_cases_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["complaint_labels.id"],
            name=op.f("fk_complaint_cases_category_id_complaint_labels"),
        ),
        sa.ForeignKeyConstraint(
            ["root_cause_id"],
            ["complaint_labels.id"],
            name=op.f("fk_complaint_cases_root_cause_id_complaint_labels"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_complaint_cases_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
    )
    op.create_index(
        "ix_complaint_cases_state", "complaint_cases", ["state", "received_at"], unique=False
    )
    op.create_index(
        op.f("ix_complaint_cases_customer_id"), "complaint_cases", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_complaint_cases_visit_id"), "complaint_cases", ["visit_id"], unique=False
    )
    op.create_table(
        "complaint_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("state_after", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_steps_case_id_complaint_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_complaint_steps_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_steps")),
    )
    op.create_index("ix_complaint_steps_case", "complaint_steps", ["case_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_complaint_steps_case", table_name="complaint_steps")
    op.drop_table("complaint_steps")
    op.drop_index(op.f("ix_complaint_cases_visit_id"), table_name="complaint_cases")
    op.drop_index(op.f("ix_complaint_cases_customer_id"), table_name="complaint_cases")
    op.drop_index("ix_complaint_cases_state", table_name="complaint_cases")
    op.drop_table("complaint_cases")
    op.drop_table("complaint_labels")
    op.drop_table("complaint_settings")
