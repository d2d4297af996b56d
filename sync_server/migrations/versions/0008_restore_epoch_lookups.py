"""server identity and feed epoch (restores); slow lookup hashes for kiosks

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000

Two new tables, nothing existing changes. ``server_identity`` gets its one row here, so
a database upgraded from an older version has an identity and a first epoch at once.
The kiosk's lookup hashes are made on demand by the server; none exist yet.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity = op.create_table(
        "server_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=36), nullable=False),
        sa.Column("feed_epoch", sa.String(length=36), nullable=False),
        sa.Column(
            "epoch_started_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("restored_from", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_identity")),
    )
    op.bulk_insert(
        identity,
        [
            {
                "id": 1,
                "server_id": str(uuid.uuid4()),
                "feed_epoch": str(uuid.uuid4()),
                "epoch_started_at": datetime.now(UTC),
                "restored_from": "",
            }
        ],
    )
    op.create_table(
        "appointment_lookups",
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("plate_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("made_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_lookups_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_appointment_lookups")),
    )


def downgrade() -> None:
    op.drop_table("appointment_lookups")
    op.drop_table("server_identity")
