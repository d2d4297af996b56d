"""each car's due dates stored; surveys asked on the phone

Revision ID: 0024
Revises: 0025
Create Date: 2026-12-07 08:30:00.000000

New tables, ``follow_up_cars_due`` and ``follow_up_cars_touched`` (the cars whose
history changed, for the job to work out again), and a nullable column on the reminder settings
(``cars_due_stale_since``). A filled database gets every car with visits worked out
here, by the same code the server keeps the table current with
(``sync_server.follow_up.cars_due.refresh_all_cars``): the reminders and the forward
load read it from the first run after the upgrade.

Surveys: how the answer came (``answered_via``, "link" for every answer so far, and who
entered one taken on the phone) and why a call-back was opened (``reason``, "hot_alert"
for every one so far) — new columns with server defaults; nothing is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import sync_server.table_base

revision = "0024"
down_revision = "0025"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
JSON = sync_server.table_base.JsonType


def upgrade() -> None:
    op.create_table(
        "follow_up_cars_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("by", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_params", JSON, nullable=False),
        sa.Column("work", sa.String(length=200), nullable=False),
        sa.Column("work_zh", sa.String(length=200), nullable=False),
        sa.Column("preset", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.Double(), nullable=True),
        sa.Column("computed_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
            name=op.f("fk_follow_up_cars_due_vehicle_id_vehicles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_cars_due")),
        sa.UniqueConstraint(
            "vehicle_id", "kind", "subject", name=op.f("uq_follow_up_cars_due_subject")
        ),
    )
    op.create_index(
        op.f("ix_follow_up_cars_due_due_on"), "follow_up_cars_due", ["due_on"], unique=False
    )
    op.create_table(
        "follow_up_cars_touched",
        sa.Column("vehicle_id", sa.String(length=36), nullable=False),
        sa.Column("touched_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("vehicle_id", name=op.f("pk_follow_up_cars_touched")),
    )
    with op.batch_alter_table("follow_up_settings") as batch:
        batch.add_column(sa.Column("cars_due_stale_since", UTC_TIME, nullable=True))

    with op.batch_alter_table("surveys") as batch:
        batch.add_column(
            sa.Column("answered_via", sa.String(length=10), nullable=False, server_default="link")
        )
        batch.add_column(sa.Column("answered_by_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_surveys_answered_by_user_id_users"),
            "users",
            ["answered_by_user_id"],
            ["id"],
        )
    with op.batch_alter_table("survey_callbacks") as batch:
        batch.add_column(
            sa.Column("reason", sa.String(length=20), nullable=False, server_default="hot_alert")
        )

    from sync_server.follow_up.cars_due import refresh_all_cars

    session = Session(bind=op.get_bind())
    try:
        refresh_all_cars(session)
        session.flush()
    finally:
        session.close()


def downgrade() -> None:
    with op.batch_alter_table("survey_callbacks") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("surveys") as batch:
        batch.drop_constraint(batch.f("fk_surveys_answered_by_user_id_users"), type_="foreignkey")
        batch.drop_column("answered_by_user_id")
        batch.drop_column("answered_via")
    with op.batch_alter_table("follow_up_settings") as batch:
        batch.drop_column("cars_due_stale_since")
    op.drop_table("follow_up_cars_touched")
    op.drop_index(op.f("ix_follow_up_cars_due_due_on"), table_name="follow_up_cars_due")
    op.drop_table("follow_up_cars_due")
