"""capacity settings: technicians' hours, absences from–to, the rules row, VIP customers,
each booking's reminder

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00.000000

A filled database loses nothing: every absence (one day each until now) becomes an
absence from that day to the same day; customers whose tier is ``vip`` become VIPs
with the reason "VIP tier"; the rules row starts from what was fixed in the code (20 %
for VIPs until 24 hours before, 30 minutes' grace) and the holiday country the shop's
phone region gave.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("created_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_technician_absences_created_by_user_id_users"),
            "users",
            ["created_by_user_id"],
            ["id"],
        )
    op.execute("UPDATE technician_absences SET last_day = day")
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.alter_column("last_day", existing_type=sa.Date(), nullable=False)

    op.create_table(
        "technician_hours",
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_hours_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("technician_id", "weekday", name=op.f("pk_technician_hours")),
    )
    settings = op.create_table(
        "appointment_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vip_share_percent", sa.Integer(), nullable=False),
        sa.Column("vip_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("no_show_grace_minutes", sa.Integer(), nullable=False),
        sa.Column("holiday_country", sa.String(length=2), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointment_settings_updated_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_settings")),
    )
    region = op.get_bind().scalar(sa.text("SELECT phone_region FROM shop WHERE id = 1"))
    country = region if region and len(region) == 2 else "CN"
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "vip_share_percent": 20,
                "vip_cutoff_hours": 24,
                "no_show_grace_minutes": 30,
                "holiday_country": country.upper(),
                "updated_at": sync_server.table_base.utcnow(),
                "updated_by_user_id": None,
            }
        ],
    )

    with op.batch_alter_table("appointment_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_message_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_appointment_plans_bay_id", ["bay_id"], unique=False)
        batch_op.create_index(
            "ix_appointment_plans_technician_id", ["technician_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_plans_reminder_message_id_outbound_messages"),
            "outbound_messages",
            ["reminder_message_id"],
            ["id"],
        )
    # Reminders queued before: the pending one of each booking is its reminder.
    op.execute(
        "UPDATE appointment_plans SET reminder_message_id = ("
        " SELECT max(m.id) FROM outbound_messages m JOIN appointments a"
        " ON m.event = 'appointment_reminder:' || a.code"
        " WHERE a.id = appointment_plans.appointment_id AND m.state <> 'withdrawn')"
    )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vip", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("vip_reason", sa.String(length=200), nullable=False, server_default="")
        )
    op.execute("UPDATE customers SET vip = true, vip_reason = 'VIP tier' WHERE tier = 'vip'")


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("vip_reason")
        batch_op.drop_column("vip")
    with op.batch_alter_table("appointment_plans", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_plans_reminder_message_id_outbound_messages"),
            type_="foreignkey",
        )
        batch_op.drop_column("reminder_message_id")
        batch_op.drop_index("ix_appointment_plans_technician_id")
        batch_op.drop_index("ix_appointment_plans_bay_id")
    op.drop_table("appointment_settings")
    op.drop_table("technician_hours")
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_technician_absences_created_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("created_by_user_id")
        batch_op.drop_column("last_day")
