"""appointment planning: bays, absences, plans, slot claims, e-mail attachments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:59:00.000000

New tables only; the appointments already there keep their rows and get no plan (the
pages show them as planned before capacity planning, without bay or technician).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_bays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_bays")),
        sa.UniqueConstraint("name", name=op.f("uq_service_bays_name")),
    )
    op.create_table(
        "technician_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_absences_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_absences")),
    )
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.create_index("ix_technician_absences_day", ["day"], unique=False)
    op.create_table(
        "appointment_plans",
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", UTC_TIME, nullable=False),
        sa.Column("ends_at", UTC_TIME, nullable=False),
        sa.Column("bay_id", sa.Integer(), nullable=True),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("speciality", sa.String(length=40), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("no_show_at", UTC_TIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_plans_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["bay_id"], ["service_bays.id"], name=op.f("fk_appointment_plans_bay_id_service_bays")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_appointment_plans_technician_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointment_plans_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_appointment_plans")),
    )
    with op.batch_alter_table("appointment_plans", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_plans_starts_at", ["starts_at"], unique=False)
    op.create_table(
        "appointment_slot_claims",
        sa.Column("resource", sa.String(length=24), nullable=False),
        sa.Column("slot_start", UTC_TIME, nullable=False),
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_slot_claims_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("resource", "slot_start", name=op.f("pk_appointment_slot_claims")),
    )
    with op.batch_alter_table("appointment_slot_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_slot_claims_appointment_id"),
            ["appointment_id"],
            unique=False,
        )

    op.create_table(
        "outbound_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_messages.id"],
            name=op.f("fk_outbound_attachments_message_id_outbound_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_attachments")),
    )
    with op.batch_alter_table("outbound_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_attachments_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_attachments_message_id"))
    op.drop_table("outbound_attachments")
    with op.batch_alter_table("appointment_slot_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_slot_claims_appointment_id"))
    op.drop_table("appointment_slot_claims")
    with op.batch_alter_table("appointment_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_plans_starts_at")
    op.drop_table("appointment_plans")
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.drop_index("ix_technician_absences_day")
    op.drop_table("technician_absences")
    op.drop_table("service_bays")
