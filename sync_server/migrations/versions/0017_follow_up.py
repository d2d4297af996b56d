"""follow-up: reminder settings, service intervals, the contact log, opt-outs, requests

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-07 05:00:00.000000

New tables only: a filled database keeps everything it has. The default settings and
service intervals are written here, so a shop has them from the first run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
JSON = sync_server.table_base.JsonType


def upgrade() -> None:
    settings = op.create_table(
        "follow_up_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_count", sa.Integer(), nullable=False),
        sa.Column("budget_days", sa.Integer(), nullable=False),
        sa.Column("quiet_from", sa.String(length=5), nullable=False),
        sa.Column("quiet_until", sa.String(length=5), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("overdue_days", sa.Integer(), nullable=False),
        sa.Column("birthday_greetings", sa.Boolean(), nullable=False),
        sa.Column("holiday_greetings", sa.Boolean(), nullable=False),
        sa.Column("deferred_reminders", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_settings")),
    )
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "budget_count": 1,
                "budget_days": 7,
                "quiet_from": "21:00",
                "quiet_until": "09:00",
                "lead_days": 7,
                "overdue_days": 60,
                "birthday_greetings": True,
                "holiday_greetings": True,
                "deferred_reminders": True,
            }
        ],
    )
    intervals = op.create_table(
        "follow_up_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_type", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("concern_codes", JSON, nullable=False),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("km", sa.Integer(), nullable=True),
        sa.Column("preset", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_intervals")),
        sa.UniqueConstraint("service_type", name=op.f("uq_follow_up_intervals_service_type")),
    )
    op.bulk_insert(
        intervals,
        [
            {
                "service_type": "oil_service",
                "name_en": "Oil and filter service",
                "name_zh": "机油机滤保养",
                "concern_codes": ["oil_change", "maintenance"],
                "months": 6,
                "km": 5000,
                "preset": "oil_service",
                "active": True,
            },
            {
                "service_type": "minor_service",
                "name_en": "Scheduled maintenance",
                "name_zh": "定期保养",
                "concern_codes": ["maintenance"],
                "months": 12,
                "km": 10000,
                "preset": "minor_service",
                "active": True,
            },
            {
                "service_type": "brake_check",
                "name_en": "Brake check",
                "name_zh": "制动系统检查",
                "concern_codes": ["brakes"],
                "months": 24,
                "km": 40000,
                "preset": "brakes",
                "active": True,
            },
        ],
    )
    op.create_table(
        "follow_up_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_key", sa.String(length=160), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("vehicle_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_params", JSON, nullable=False),
        sa.Column("work", sa.String(length=200), nullable=False),
        sa.Column("work_zh", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("planned_at", UTC_TIME, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_follow_up_contacts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_follow_up_contacts_vehicle_id_vehicles")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_messages.id"],
            name=op.f("fk_follow_up_contacts_message_id_outbound_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_contacts")),
        sa.UniqueConstraint("contact_key", name=op.f("uq_follow_up_contacts_contact_key")),
        sa.UniqueConstraint("token", name=op.f("uq_follow_up_contacts_token")),
    )
    op.create_index(
        "ix_follow_up_contacts_customer",
        "follow_up_contacts",
        ["customer_id", "planned_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_follow_up_contacts_message_id"),
        "follow_up_contacts",
        ["message_id"],
        unique=False,
    )
    op.create_table(
        "follow_up_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_follow_up_opt_outs_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["follow_up_contacts.id"],
            name=op.f("fk_follow_up_opt_outs_contact_id_follow_up_contacts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_opt_outs")),
    )
    op.create_index(
        op.f("ix_follow_up_opt_outs_customer_id"),
        "follow_up_opt_outs",
        ["customer_id"],
        unique=False,
    )
    op.create_table(
        "follow_up_booking_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("vehicle_id", sa.String(length=36), nullable=True),
        sa.Column("work", sa.Text(), nullable=False),
        sa.Column("preferred_day", sa.Date(), nullable=False),
        sa.Column("part_of_day", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("handled_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["follow_up_contacts.id"],
            name=op.f("fk_follow_up_booking_requests_contact_id_follow_up_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_follow_up_booking_requests_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
            name=op.f("fk_follow_up_booking_requests_vehicle_id_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_booking_requests")),
    )
    op.create_index(
        op.f("ix_follow_up_booking_requests_contact_id"),
        "follow_up_booking_requests",
        ["contact_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_follow_up_booking_requests_contact_id"), table_name="follow_up_booking_requests"
    )
    op.drop_table("follow_up_booking_requests")
    op.drop_index(op.f("ix_follow_up_opt_outs_customer_id"), table_name="follow_up_opt_outs")
    op.drop_table("follow_up_opt_outs")
    op.drop_index(op.f("ix_follow_up_contacts_message_id"), table_name="follow_up_contacts")
    op.drop_index("ix_follow_up_contacts_customer", table_name="follow_up_contacts")
    op.drop_table("follow_up_contacts")
    op.drop_table("follow_up_intervals")
    op.drop_table("follow_up_settings")
